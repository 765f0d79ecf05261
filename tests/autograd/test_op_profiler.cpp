// tests/autograd/test_op_profiler.cpp — the op profiler: counts equal the nodes recorded and
// run, per-op times add up to the totals, time lands on the right op (checked with sleeps:
// lower bounds only, which sleep_for guarantees), and detached it sees nothing.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "autograd/ops.hpp"
#include "autograd/op_profiler.hpp"
#include "autograd/tape_inspector.hpp"
#include "tests/autograd/known_graph.hpp"

using namespace fz;
using fz::testing::ClearTapeAtExit;
using fz::testing::known_graph;

namespace {

using Profiler = OpProfiler<double>;

// Identity whose forward and backward each sleep: a known amount of time on a known op.
Var64 slow_identity(const Var64& x, std::chrono::milliseconds forward, std::chrono::milliseconds backward) {
  std::this_thread::sleep_for(forward);
  return record_op("slow_identity", x.value().clone(), {x}, [x, backward](const Tensor64& g) {
    std::this_thread::sleep_for(backward);
    x.accumulate_grad(g);
  });
}

std::map<std::string, Profiler::OpStats> by_op(const Profiler& p) {
  std::map<std::string, Profiler::OpStats> m;
  for (const auto& s : p.stats()) m[s.op] = s;
  return m;
}

}  // namespace

TEST_CASE("op profiler: counts per op match the nodes recorded and run; times add up", "[autograd]") {
  const Var64 x(Tensor64({2, 3}, 0.5), true);
  const Var64 w(Tensor64({4}, 2.0), false);
  const ClearTapeAtExit clear_tape;
  Profiler profiler;
  constexpr std::size_t steps = 3;
  std::map<std::string, std::size_t> recorded;
  for (std::size_t s = 0; s < steps; ++s) {
    profiler.mark();
    const Var64 loss = known_graph(x, w);
    for (const auto& node : Tape<double>::current().nodes()) ++recorded[node.op];
    loss.backward();
  }
  const auto stats = by_op(profiler);
  REQUIRE(stats.size() == recorded.size());
  const std::map<std::string, std::size_t> expected = {{"exp", 3}, {"reshape", 3}, {"split", 6},
                                                       {"mul", 3}, {"sum", 6},     {"add", 3}};
  REQUIRE(recorded == expected);
  double fwd = 0, bwd = 0;
  for (const auto& [op, st] : stats) {
    INFO(op);
    REQUIRE(st.forward_count == expected.at(op));
    // Every node received a gradient, so every closure ran (both split pieces included).
    REQUIRE(st.backward_count == expected.at(op));
    REQUIRE(st.forward_seconds >= 0);
    REQUIRE(st.backward_seconds >= 0);
    fwd += st.forward_seconds;
    bwd += st.backward_seconds;
  }
  REQUIRE(profiler.forward_records() == 24);
  REQUIRE(profiler.backward_nodes() == 24);
  REQUIRE(profiler.untimed_records() == 0);
  REQUIRE(profiler.passes() == steps);
  REQUIRE(fwd == Approx(profiler.forward_seconds()).margin(1e-12));
  REQUIRE(bwd == Approx(profiler.backward_seconds()).margin(1e-12));
  // Sorted by total time, largest first.
  const auto sorted = profiler.stats();
  for (std::size_t i = 1; i < sorted.size(); ++i) REQUIRE(sorted[i - 1].total_seconds() >= sorted[i].total_seconds());
}

TEST_CASE("op profiler: a node no gradient reaches is recorded but its closure is not timed", "[autograd]") {
  const Var64 x(Tensor64({3}, 1.0), true);
  const ClearTapeAtExit clear_tape;
  Profiler profiler;
  profiler.mark();
  const Var64 unused = exp(x);  // recorded, never reached by the loss's gradient
  const Var64 loss = sum(x);
  loss.backward();
  const auto stats = by_op(profiler);
  REQUIRE(stats.at("exp").forward_count == 1);
  REQUIRE(stats.at("exp").backward_count == 0);
  REQUIRE(stats.at("exp").backward_seconds == 0);
  REQUIRE(stats.at("sum").backward_count == 1);
}

TEST_CASE("op profiler: time lands on the op that was recorded after it, and on the closure", "[autograd]") {
  using std::chrono::milliseconds;
  const Var64 x(Tensor64({4}, 1.0), true);
  const ClearTapeAtExit clear_tape;
  Profiler profiler;
  profiler.mark();
  const Var64 y = exp(x);
  const Var64 z = slow_identity(y, milliseconds(30), milliseconds(20));
  const Var64 loss = sum(z);
  loss.backward();
  const auto stats = by_op(profiler);
  // The 30 ms forward sleep happened between exp's record and slow_identity's.
  REQUIRE(stats.at("slow_identity").forward_seconds >= 0.030);
  REQUIRE(stats.at("slow_identity").backward_seconds >= 0.020);
  REQUIRE(profiler.forward_seconds() >= 0.030);
  REQUIRE(profiler.backward_seconds() >= 0.020);
  std::ostringstream table;
  profiler.print_table(table);
  // slow_identity dominates: it is the first row.
  REQUIRE(table.str().find("\nslow_identity") == table.str().find('\n'));
}

TEST_CASE("op profiler: without mark() the first record of each pass is counted but untimed", "[autograd]") {
  using std::chrono::milliseconds;
  const Var64 x(Tensor64({4}, 1.0), true);
  const ClearTapeAtExit clear_tape;
  Profiler profiler;
  for (int pass = 0; pass < 2; ++pass) {
    std::this_thread::sleep_for(milliseconds(20));  // "between steps": must not be attributed
    const Var64 loss = sum(slow_identity(x, milliseconds(0), milliseconds(0)));
    loss.backward();
  }
  const auto stats = by_op(profiler);
  REQUIRE(profiler.untimed_records() == 2);
  REQUIRE(stats.at("slow_identity").forward_count == 2);
  REQUIRE(stats.at("slow_identity").forward_seconds == 0);  // first of each pass: untimed
  REQUIRE(stats.at("sum").forward_count == 2);
  REQUIRE(profiler.passes() == 2);
}

TEST_CASE("op profiler: detached it records nothing, and it refuses a second observer", "[autograd]") {
  const Var64 x(Tensor64({3}, 1.0), true);
  const ClearTapeAtExit clear_tape;
  Profiler profiler;
  REQUIRE_THROWS_AS(TapeInspector<double>(), std::logic_error);
  REQUIRE_THROWS_AS(Profiler(), std::logic_error);
  profiler.mark();
  sum(exp(x)).backward();
  REQUIRE(profiler.forward_records() == 2);
  profiler.detach();
  REQUIRE(Tape<double>::current().observer() == nullptr);
  sum(exp(x)).backward();
  REQUIRE(profiler.forward_records() == 2);
  REQUIRE(profiler.backward_nodes() == 2);
  profiler.reset();
  REQUIRE(profiler.stats().empty());
  REQUIRE(profiler.forward_seconds() == 0);
}

TEST_CASE("op profiler: by shape, one row per op and its input and output shapes", "[autograd]") {
  const Var64 x(Tensor64({2, 3}, 0.5), true);
  const Var64 w(Tensor64({4}, 2.0), false);
  const ClearTapeAtExit clear_tape;
  Profiler profiler(Tape<double>::current(), /*by_shape=*/true);
  for (int step = 0; step < 2; ++step) {
    profiler.mark();
    known_graph(x, w).backward();
  }
  const auto stats = by_op(profiler);
  // The two sums (of 4 and of 2 values) and the two split pieces get rows of their own; split
  // declares no inputs, so only its output shape shows.
  const std::vector<std::string> labels = {"exp (2,3) -> (2,3)", "reshape (2,3) -> (6)", "split -> (2)",
                                           "split -> (4)",       "mul (4) (4) -> (4)",   "sum (4) -> ()",
                                           "sum (2) -> ()",      "add () () -> ()"};
  REQUIRE(stats.size() == labels.size());
  for (const std::string& label : labels) {
    INFO(label);
    REQUIRE(stats.count(label) == 1);
    REQUIRE(stats.at(label).forward_count == 2);
    REQUIRE(stats.at(label).backward_count == 2);
  }
  double fwd = 0;
  for (const auto& entry : stats) fwd += entry.second.forward_seconds;
  REQUIRE(fwd == Approx(profiler.forward_seconds()).margin(1e-12));
}
