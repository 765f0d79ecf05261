// tests/flows/test_collective.cpp — the collective interface without MPI (flows/collective.hpp):
// the single process is the identity, row splits, scopes, and the data-parallel paths of the
// trainer and of ActNorm's initialisation driven by a stand-in "rank 0 of 2" whose partner
// holds exactly the same data (its allreduce doubles every sum). Then the mean over the ranks
// is rank 0's own, so a trainer fed the batch [A; A] must move exactly as a single process fed
// [A; A] does; a sum instead of a mean, or a missing allreduce of ActNorm's statistics, breaks
// the equalities. (The real two-process comparison is tests/mpi/mpi_equivalence.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "flows/bijectors/actnorm.hpp"
#include "flows/collective.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"

using namespace fz;

namespace {

// Rank 0 of 2 whose partner rank mirrors it: sums double, broadcasts keep rank 0's buffer.
class MirroredPair final : public Collective {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void allreduce_sum(float* b, std::size_t n) override { for (std::size_t i = 0; i < n; ++i) b[i] *= 2; ++calls; }
  void allreduce_sum(double* b, std::size_t n) override { for (std::size_t i = 0; i < n; ++i) b[i] *= 2; ++calls; }
  void broadcast(float*, std::size_t, int) override { ++calls; }
  void broadcast(double*, std::size_t, int) override { ++calls; }
  void barrier() override {}
  [[noreturn]] void abort(int) override { throw std::logic_error("abort"); }
  std::string description() const override { return "mirrored pair"; }
  int calls = 0;
};

// Rows [A; A]: the batch `half` twice.
Tensor<float> doubled(const Tensor<float>& half) {
  const std::size_t n = half.shape()[0], row = half.numel() / n;
  Shape s = half.shape();
  s[0] = 2 * n;
  Tensor<float> out(s);
  for (std::size_t i = 0; i < half.numel(); ++i) out[i] = out[i + n * row] = half[i];
  return out;
}

Tensor<float> points(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  Tensor<float> x(Shape{n, 2});
  for (std::size_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(rng.normal());
  return x;
}

std::vector<float> params_of(Trainer<float>& t) {
  std::vector<float> out;
  for (const Var<float>& p : t.optimizer().params()) out.insert(out.end(), p.value().begin(), p.value().end());
  return out;
}

}  // namespace

TEST_CASE("collective: a single process is the identity and splits nothing", "[collective]") {
  Collective& one = single_process();
  CHECK(one.rank() == 0);
  CHECK(one.size() == 1);
  CHECK_FALSE(one.distributed());
  double v[2] = {1.5, -2};
  one.allreduce_sum(v, 2);
  CHECK(v[0] == 1.5);
  CHECK(v[1] == -2);
  CHECK(any_rank(one, true));
  CHECK_FALSE(any_rank(one, false));
  CHECK(rank0_value(one, 3.25) == 3.25);
  CHECK(rank_rows(one, 7).begin == 0);
  CHECK(rank_rows(one, 7).end == 7);
  // Outside mpirun the launched world is the single process.
  CHECK_FALSE(launched_collective().distributed());
}

TEST_CASE("collective: scopes nest and restore; rows split evenly in rank order", "[collective]") {
  MirroredPair pair;
  CHECK(&current_collective() == &launched_collective());
  {
    CollectiveScope a(pair);
    CHECK(&current_collective() == &pair);
    {
      CollectiveScope b(single_process());
      CHECK(&current_collective() == &single_process());
    }
    CHECK(&current_collective() == &pair);
    CHECK(rank_rows(pair, 7).begin == 0);
    CHECK(rank_rows(pair, 7).end == 3);  // rank 1 gets [3, 7)
    CHECK(any_rank(pair, true));
    CHECK_FALSE(any_rank(pair, false));
  }
  CHECK(&current_collective() == &launched_collective());
}

TEST_CASE("collective: a data-parallel trainer averages, so [A; A] over a mirrored pair trains as one process",
          "[collective][trainer]") {
  PresetConfig toy;
  toy.model = "realnvp";
  toy.event_shape = {2};
  toy.couplings = 2;
  toy.hidden = 8;
  TrainerOptions o;
  o.optimizer = "sgd";  // no normalisation: a gradient twice too large would show in the parameters
  o.lr = 1e-2;
  o.clip_grad_norm = 0.5;  // clipping must see the averaged norm
  const Tensor<float> half = points(8, 3);

  Rng r1(4);
  Trainer<float> single(make_flow<float>(toy, r1), o, 4);
  MirroredPair pair;
  CollectiveScope in_pair(pair);
  Rng r2(4);
  Trainer<float> parallel(make_flow<float>(toy, r2), o, 4);
  REQUIRE(pair.calls == 1);  // the initial broadcast
  for (int s = 0; s < 5; ++s) {
    StepStats a, b;
    {
      CollectiveScope alone(single_process());
      a = single.step_continuous(doubled(half));
    }
    b = parallel.step_continuous(doubled(half));  // keeps rows [0, 8) = A
    CHECK(b.loss == Approx(a.loss).epsilon(1e-6));
    CHECK(b.grad_norm == Approx(a.grad_norm).epsilon(1e-5));
  }
  CHECK(pair.calls == 1 + 5);  // exactly one allreduce per step
  const std::vector<float> p1 = params_of(single), p2 = params_of(parallel);
  REQUIRE(p1.size() == p2.size());
  for (std::size_t i = 0; i < p1.size(); ++i) REQUIRE(p2[i] == Approx(p1[i]).margin(1e-6));
  // The batch must divide among the ranks.
  CHECK_THROWS_WITH(parallel.step_continuous(points(5, 9)), Catch::Contains("does not divide evenly among 2 ranks"));
  // Evaluation: rank 0's share summed over the mirrored pair, over the whole count.
  double e1 = 0;
  {
    CollectiveScope alone(single_process());
    e1 = single.evaluate_continuous(doubled(half), 4);
  }
  CHECK(parallel.evaluate_continuous(doubled(half), 16) == Approx(e1).epsilon(1e-6));
}

TEST_CASE("collective: ActNorm's initialisation sums its statistics over the ranks", "[collective][actnorm]") {
  // Over the mirrored pair the global batch is [x; x], whose per-channel mean and variance are
  // x's own: the initialised layer must map x exactly as a single process's does. A count left
  // local against doubled sums would double the mean; variance sums left local would halve it.
  Rng rng(8);
  Tensor<double> x(Shape{4, 3, 2, 2});
  for (std::size_t i = 0; i < x.numel(); ++i) x[i] = 2.0 + 3.0 * rng.normal() + double(i % 3);
  ActNorm<double> alone(3), paired(3);
  const Transformed<double> a = alone.forward(Var<double>(x));
  MirroredPair pair;
  Transformed<double> b;
  {
    CollectiveScope in_pair(pair);
    b = paired.forward(Var<double>(x));
  }
  CHECK(pair.calls == 3);  // the count, the per-channel sums, the squared deviations
  for (std::size_t i = 0; i < x.numel(); ++i) REQUIRE(b.value.value()[i] == Approx(a.value.value()[i]).margin(1e-12));
  for (std::size_t i = 0; i < a.logdet.numel(); ++i)
    REQUIRE(b.logdet.value()[i] == Approx(a.logdet.value()[i]).margin(1e-12));
}
