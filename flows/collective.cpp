// flows/collective.cpp — the single-process collective, the collective in force
// (CollectiveScope) and the small agreements built on allreduce_sum.
#include "flows/collective.hpp"

#include <atomic>
#include <cstdlib>

namespace fz {

namespace {

class SingleProcess final : public Collective {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(float*, std::size_t) override {}
  void allreduce_sum(double*, std::size_t) override {}
  void broadcast(float*, std::size_t, int) override {}
  void broadcast(double*, std::size_t, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override { std::exit(exit_code); }
  std::string description() const override { return "single process"; }
};

std::atomic<Collective*> in_force{nullptr};

}  // namespace

Collective& single_process() {
  static SingleProcess one;
  return one;
}

Collective& launched_collective() {
  // Created once; a launcher's world lives until exit (collective_mpi.cpp finalises MPI then).
  static Collective* const world = [] {
    Collective* mpi = detail::make_launched_collective();
    return mpi ? mpi : &single_process();
  }();
  return *world;
}

Collective& current_collective() {
  Collective* c = in_force.load();
  return c ? *c : launched_collective();
}

CollectiveScope::CollectiveScope(Collective& c) : previous_(in_force.exchange(&c)) {}
CollectiveScope::~CollectiveScope() { in_force.store(previous_); }

bool any_rank(Collective& c, bool flag) {
  if (!c.distributed()) return flag;
  double v = flag ? 1.0 : 0.0;
  c.allreduce_sum(&v, 1);
  return v > 0.5;
}

double rank0_value(Collective& c, double value) {
  if (!c.distributed()) return value;
  c.broadcast(&value, 1, 0);
  return value;
}

RowRange rank_rows(const Collective& c, std::size_t n) {
  const auto r = static_cast<std::size_t>(c.rank()), s = static_cast<std::size_t>(c.size());
  return {n * r / s, n * (r + 1) / s};
}

}  // namespace fz
