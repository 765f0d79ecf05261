// flows/collective_mpi.cpp — the Collective over MPI_COMM_WORLD (built only when meson finds
// MPI). Chosen when the process was started by an MPI launcher (mpirun sets
// OMPI_COMM_WORLD_SIZE; PMI/PMIx launchers set PMI_SIZE / PMIX_RANK): MPI is initialised then,
// MPI_THREAD_FUNNELED (TBB's workers never call MPI), and finalised at exit.
// Only the C API: OpenMPI's deprecated C++ bindings (and their warnings) stay out.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "flows/collective.hpp"

namespace fz {

namespace {

template <typename T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }

// MPI counts are int: a buffer longer than that goes in INT_MAX-sized pieces.
constexpr std::size_t kMaxPiece = static_cast<std::size_t>(INT_MAX);

class MpiWorld final : public Collective {
 public:
  MpiWorld() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    std::atexit([] {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized) MPI_Finalize();
    });
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(float* b, std::size_t n) override { allreduce(b, n); }
  void allreduce_sum(double* b, std::size_t n) override { allreduce(b, n); }
  void broadcast(float* b, std::size_t n, int root) override { bcast(b, n, root); }
  void broadcast(double* b, std::size_t n, int root) override { bcast(b, n, root); }
  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }
  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
  }
  std::string description() const override { return "MPI (" + std::to_string(size_) + " ranks)"; }

 private:
  template <typename T>
  void allreduce(T* b, std::size_t n) {
    for (std::size_t at = 0; at < n; at += kMaxPiece) {
      const int piece = static_cast<int>(std::min(kMaxPiece, n - at));
      MPI_Allreduce(MPI_IN_PLACE, b + at, piece, mpi_type<T>(), MPI_SUM, MPI_COMM_WORLD);
    }
  }
  template <typename T>
  void bcast(T* b, std::size_t n, int root) {
    for (std::size_t at = 0; at < n; at += kMaxPiece) {
      const int piece = static_cast<int>(std::min(kMaxPiece, n - at));
      MPI_Bcast(b + at, piece, mpi_type<T>(), root, MPI_COMM_WORLD);
    }
  }
  int rank_ = 0, size_ = 1;
};

}  // namespace

namespace detail {

Collective* make_launched_collective() {
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
  if (!launched) return nullptr;
  static MpiWorld world;
  return &world;
}

}  // namespace detail

}  // namespace fz
