// flows/collective.hpp — the few collective operations data-parallel training needs (rank,
// size, a sum over a flat buffer on every rank, a broadcast from one rank, a barrier, abort),
// behind one interface so the trainer, ActNorm's initialisation and the CLI never name MPI.
//
// current_collective() is what library code asks: by default the launched world — an MPI
// communicator when this build found MPI and the process was started by mpirun (or another
// launcher setting OMPI_COMM_WORLD_SIZE / PMI_SIZE), a single process otherwise. With one
// process every operation is the identity, so single-process numbers are bit for bit as
// without this file. CollectiveScope puts another collective in force for a while (the MPI
// equivalence test runs its single-process reference on rank 0 inside a single_process() scope).
//
// Rules for callers: every rank must make the same collective calls in the same order with the
// same buffer sizes (that is what keeps a run from deadlocking); only the thread that
// created the world calls it (MPI is initialised MPI_THREAD_FUNNELED). The MPI implementation is
// flows/collective_mpi.cpp (compiled only when meson finds MPI); flows/collective_none.cpp
// stands in for it otherwise and refuses to run as one of several ranks.
#pragma once

#include <cstddef>
#include <string>

namespace fz {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // buffer[i] = sum over ranks of buffer[i], the same result on every rank; for a given
  // number of ranks the summation order is fixed (MPI_Allreduce on one communicator).
  virtual void allreduce_sum(float* buffer, std::size_t count) = 0;
  virtual void allreduce_sum(double* buffer, std::size_t count) = 0;
  // buffer = root's buffer on every rank.
  virtual void broadcast(float* buffer, std::size_t count, int root) = 0;
  virtual void broadcast(double* buffer, std::size_t count, int root) = 0;
  virtual void barrier() = 0;
  // Ends every rank with `exit_code` (MPI_Abort); the caller prints its message first.
  [[noreturn]] virtual void abort(int exit_code) = 0;
  // "single process" or "MPI (N ranks)", for messages.
  virtual std::string description() const = 0;

  bool distributed() const { return size() > 1; }
};

// The one-rank collective: every operation is the identity.
Collective& single_process();

// The world this process was launched into (created on first use; see the file comment).
// Throws std::runtime_error when launched as one of several ranks by a build without MPI.
Collective& launched_collective();

// The collective in force: the innermost CollectiveScope's, else launched_collective().
Collective& current_collective();

class CollectiveScope {
 public:
  explicit CollectiveScope(Collective& c);
  ~CollectiveScope();
  CollectiveScope(const CollectiveScope&) = delete;
  CollectiveScope& operator=(const CollectiveScope&) = delete;

 private:
  Collective* previous_;
};

// True on every rank when `flag` is true on at least one (a sum of 0/1 over the ranks).
bool any_rank(Collective& c, bool flag);

// Rank 0's `value` on every rank (e.g. its clock, so time-based decisions agree).
double rank0_value(Collective& c, double value);

// This rank's rows [begin, end) of n rows split as evenly as possible in rank order
// (rank r gets rows [n*r/size, n*(r+1)/size)).
struct RowRange {
  std::size_t begin = 0, end = 0;
  std::size_t size() const { return end - begin; }
};
RowRange rank_rows(const Collective& c, std::size_t n);

// Implemented by flows/collective_mpi.cpp or flows/collective_none.cpp (one of them is built):
// the launched MPI world, or nullptr when this process is a single one.
namespace detail {
Collective* make_launched_collective();
}

}  // namespace fz
