// tests/autograd/test_tape_inspector.cpp — the tape inspector on small graphs whose nodes,
// shapes, bytes, edges and gradient peak are worked out by hand.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <string>

#include "autograd/ops.hpp"
#include "autograd/tape_inspector.hpp"
#include "tensor/parallel.hpp"
#include "tests/autograd/known_graph.hpp"

using namespace fz;
using fz::testing::ClearTapeAtExit;
using fz::testing::known_graph;

namespace {

using Inspector = TapeInspector<double>;

std::string input_list(const Inspector::NodeInfo& n) {
  std::string s;
  for (const Inspector::Input& in : n.inputs)
    s += (s.empty() ? "" : " ") + std::string(in.leaf ? "L" : "#") + std::to_string(in.id) + (in.probed ? "*" : "");
  return s;
}

}  // namespace

TEST_CASE("tape inspector: a known graph gives exactly its ops, shapes, bytes and inputs", "[autograd]") {
  const Var64 x(Tensor64({2, 3}, {0.1, 0.2, 0.3, -0.1, -0.2, -0.3}), true);
  const Var64 w(Tensor64({4}, {1, 2, 3, 4}), false);
  const ClearTapeAtExit clear_tape;
  Inspector inspector;
  const Var64 loss = known_graph(x, w);

  const auto& nodes = inspector.nodes();
  REQUIRE(nodes.size() == 8);
  REQUIRE(nodes.size() == Tape<double>::current().size());
  const std::vector<std::string> ops = {"exp", "reshape", "split", "split", "mul", "sum", "sum", "add"};
  const std::vector<Shape> shapes = {{2, 3}, {6}, {2}, {4}, {4}, {}, {}, {}};
  // reshape shares exp's buffer, so it adds nothing; every other output is a new buffer.
  const std::vector<std::size_t> saved = {48, 0, 16, 32, 32, 8, 8, 8};
  const std::vector<std::size_t> output = {48, 48, 16, 32, 32, 8, 8, 8};
  // split declares no inputs: its input is found by probing its closure (marked *).
  const std::vector<std::string> inputs = {"L0", "#0", "#1*", "#1*", "#3 L1", "#4", "#2", "#5 #6"};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    INFO("node " << i);
    REQUIRE(nodes[i].index == i);
    REQUIRE(nodes[i].op == ops[i]);
    REQUIRE(nodes[i].shape == shapes[i]);
    REQUIRE(nodes[i].saved_bytes == saved[i]);
    REQUIRE(nodes[i].output_bytes == output[i]);
    REQUIRE(input_list(nodes[i]) == inputs[i]);
  }
  REQUIRE(inspector.leaves().size() == 2);
  REQUIRE(inspector.leaves()[0].shape == Shape{2, 3});
  REQUIRE(inspector.leaves()[0].requires_grad);
  REQUIRE(inspector.leaves()[1].shape == Shape{4});
  REQUIRE_FALSE(inspector.leaves()[1].requires_grad);
  REQUIRE(inspector.saved_bytes() == 152);
  REQUIRE(inspector.saved_buffers() == 7);
  REQUIRE(inspector.leaf_bytes() == 48 + 32);

  // Totals per op, sorted by saved bytes, then count (split before exp), then name.
  const auto totals = inspector.totals_by_op();
  REQUIRE(totals.size() == 6);
  const std::vector<std::string> order = {"split", "exp", "mul", "sum", "add", "reshape"};
  const std::vector<std::size_t> counts = {2, 1, 1, 2, 1, 1};
  const std::vector<std::size_t> op_saved = {48, 48, 32, 16, 8, 0};
  std::size_t sum_saved = 0, sum_count = 0;
  for (std::size_t i = 0; i < totals.size(); ++i) {
    INFO("op " << order[i]);
    REQUIRE(totals[i].op == order[i]);
    REQUIRE(totals[i].count == counts[i]);
    REQUIRE(totals[i].saved_bytes == op_saved[i]);
    sum_saved += totals[i].saved_bytes;
    sum_count += totals[i].count;
  }
  REQUIRE(sum_saved == inspector.saved_bytes());
  REQUIRE(sum_count == nodes.size());

  // Reverse pass: intermediate gradients alive after each closure (bytes), worked by hand:
  //   #7: 8+8+8  #6: 16+8+8  #5: 16+32+8  #4: 16+32+32  #3 (assembles b's grad): 48+16+32 = 96
  //   #2: 48+16  #1: 48+48 = 96 (reached second)  #0: 48
  REQUIRE_FALSE(inspector.backward_observed());
  loss.backward();
  REQUIRE(inspector.backward_observed());
  REQUIRE(inspector.backward_peak_grad_bytes() == 96);
  REQUIRE(inspector.backward_peak_node() == 3);
  REQUIRE(inspector.backward_peak_bytes() == 152 + 96);
  // The gradient itself is unaffected by the inspector: d/dx sum(exp(x) * [1,1,w]) .
  REQUIRE(x.grad()[0] == Approx(std::exp(0.1)));
  REQUIRE(x.grad()[2] == Approx(std::exp(0.3) * 1.0));
  REQUIRE(x.grad()[5] == Approx(std::exp(-0.3) * 4.0));

  // Recording stopped at the clear: a second forward pass is not added.
  const Var64 again = known_graph(x, w);
  REQUIRE(inspector.nodes().size() == 8);
  Tape<double>::current().clear();
}

TEST_CASE("tape inspector: the DOT graph has one node per tape node and leaf, edges = inputs", "[autograd]") {
  const Var64 x(Tensor64({2, 3}, 0.5), true);
  const Var64 w(Tensor64({4}, 2.0), false);
  std::ostringstream dot;
  {
    const ClearTapeAtExit clear_tape;
    Inspector inspector;
    const Var64 loss = known_graph(x, w);
    inspector.write_dot(dot);
    Tape<double>::current().clear();
  }
  const std::string text = dot.str();
  REQUIRE(text.rfind("digraph tape {", 0) == 0);
  std::set<std::string> declared, edges;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto arrow = line.find(" -> ");
    if (arrow != std::string::npos) {
      edges.insert(line.substr(2, line.find(';') - 2));
    } else if (line.find(" [label=") != std::string::npos || line.find(" [shape=ellipse") != std::string::npos) {
      declared.insert(line.substr(2, line.find(' ', 2) - 2));
    }
  }
  REQUIRE(declared == std::set<std::string>{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "l0", "l1"});
  REQUIRE(edges == std::set<std::string>{"l0 -> n0", "n0 -> n1", "n1 -> n2 [style=dashed]",
                                         "n1 -> n3 [style=dashed]", "n3 -> n4", "l1 -> n4", "n4 -> n5",
                                         "n2 -> n6", "n5 -> n7", "n6 -> n7"});
  REQUIRE(text.find("label=\"#4 mul\\n(4)\\nsaved 32 B\"") != std::string::npos);
}

TEST_CASE("tape inspector: a reshaped parameter aliases the leaf and saves nothing", "[autograd]") {
  const Var64 p(Tensor64({2, 2}, {1, 2, 3, 4}), true);
  const ClearTapeAtExit clear_tape;
  Inspector inspector;
  const Var64 s = sum(reshape(p, Shape{4}));
  REQUIRE(inspector.nodes().size() == 2);
  REQUIRE(inspector.nodes()[0].op == "reshape");
  REQUIRE(inspector.nodes()[0].output_bytes == 32);
  REQUIRE(inspector.nodes()[0].saved_bytes == 0);
  REQUIRE(inspector.nodes()[1].saved_bytes == 8);
  REQUIRE(inspector.saved_bytes() == 8);
  REQUIRE(inspector.leaf_bytes() == 32);
  Tape<double>::current().clear();
}

TEST_CASE("tape inspector: heap growth of a large op is its output buffer plus bookkeeping", "[autograd]") {
  const Var64 x(Tensor64({1000, 1000}, 0.25), true);
  const ClearTapeAtExit clear_tape;
  // One thread: the allocator count is process-wide, and a TBB worker joining the op (its
  // first-time allocations) would be counted as the op's.
  set_num_threads(1);
  Inspector inspector;
  const Var64 y = exp(x);  // one new 8,000,000-byte buffer
  set_num_threads(0);
  REQUIRE(inspector.nodes().size() == 1);
  REQUIRE(inspector.nodes()[0].saved_bytes == 8000000);
#if defined(__SANITIZE_ADDRESS__)
  REQUIRE_FALSE(inspector.heap_measured());
#else
  REQUIRE(inspector.heap_measured());
  // The allocator's view: the buffer (rounded to pages if mmapped) plus the node's VarNode,
  // closure and shape — far less than 64 KB — and never less than the buffer.
  REQUIRE(inspector.nodes()[0].heap_bytes >= 8000000);
  REQUIRE(inspector.nodes()[0].heap_bytes < 8000000 + 65536);
  REQUIRE(inspector.heap_growth() == inspector.nodes()[0].heap_bytes);
#endif
  Tape<double>::current().clear();
}

TEST_CASE("tape inspector: attaching needs an empty tape and no other observer", "[autograd]") {
  const Var64 x(Tensor64({3}, 1.0), true);
  {
    const Var64 y = exp(x);
    REQUIRE_THROWS_AS(Inspector(), std::logic_error);
    Tape<double>::current().clear();
  }
  {
    Inspector first;
    REQUIRE(Tape<double>::current().observer() == &first);
    REQUIRE_THROWS_AS(Inspector(), std::logic_error);
  }
  REQUIRE(Tape<double>::current().observer() == nullptr);  // the destructor detached it
}

TEST_CASE("tape inspector: the printed listing and summary name every node and op", "[autograd]") {
  const Var64 x(Tensor64({2, 3}, 0.5), true);
  const Var64 w(Tensor64({4}, 2.0), false);
  const ClearTapeAtExit clear_tape;
  Inspector inspector;
  const Var64 loss = known_graph(x, w);
  loss.backward();
  std::ostringstream listing, summary;
  inspector.print_nodes(listing);
  inspector.print_summary(summary);
  const std::string l = listing.str(), s = summary.str();
  // Header + 8 nodes, each on its own line starting with its index.
  for (std::size_t i = 0; i < 8; ++i) REQUIRE(l.find("\n     " + std::to_string(i) + "  ") != std::string::npos);
  REQUIRE(l.find("#1*") != std::string::npos);
  for (const char* op : {"exp", "reshape", "split", "mul", "sum", "add"}) REQUIRE(s.find(op) != std::string::npos);
  REQUIRE(s.find("152 B in 7 buffers") != std::string::npos);
  REQUIRE(s.find("248 B = held + 96 B") != std::string::npos);
}
