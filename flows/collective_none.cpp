// flows/collective_none.cpp — built instead of flows/collective_mpi.cpp when meson found no
// MPI: every process is a single one, and one started as a rank of several (mpirun -np N with
// N > 1) refuses to run rather than train N unrelated copies into one folder.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "flows/collective.hpp"

namespace fz::detail {

Collective* make_launched_collective() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    const char* v = std::getenv(var);
    if (v && std::atoi(v) > 1)
      throw std::runtime_error(std::string("started as one of ") + v +
                               " MPI ranks, but this flowzoo was built without MPI (install libopenmpi-dev and "
                               "reconfigure: meson setup --reconfigure build)");
  }
  return nullptr;
}

}  // namespace fz::detail
