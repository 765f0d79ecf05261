// autograd/tape_inspector.cpp — recording what the tape holds, and printing it (tables, DOT).
#include "autograd/tape_inspector.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define FZ_HAVE_MALLINFO2 1
#endif

namespace fz {

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  const double magnitude = bytes < 0 ? -bytes : bytes;
  double scaled = magnitude;
  int u = 0;
  while (scaled >= 1024.0 && u < 4) {
    scaled /= 1024.0;
    ++u;
  }
  char buf[48];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%s%.0f B", bytes < 0 ? "-" : "", magnitude);
  else
    std::snprintf(buf, sizeof buf, "%s%.1f %s", bytes < 0 ? "-" : "", scaled, units[u]);
  return buf;
}

long long heap_in_use_bytes() {
#ifdef FZ_HAVE_MALLINFO2
  // uordblks: bytes in use in the malloc arenas; hblkhd: bytes in mmapped blocks (large ones).
  const struct mallinfo2 info = mallinfo2();
  return static_cast<long long>(info.uordblks + info.hblkhd);
#else
  return -1;
#endif
}

namespace {

// "(64,4,14,14)", "()" for a scalar.
std::string compact_shape(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + ")";
}

std::string input_label(bool leaf, std::size_t id, bool probed) {
  return (leaf ? "L" : "#") + std::to_string(id) + (probed ? "*" : "");
}

}  // namespace

template <typename T>
TapeInspector<T>::TapeInspector(Tape<T>& tape) : tape_(&tape) {
  if (tape.observer())
    throw std::logic_error("TapeInspector: the tape already has an observer (an inspector or a profiler)");
  if (tape.size() != 0)
    throw std::logic_error("TapeInspector: attach it before the forward pass (the tape holds " +
                           std::to_string(tape.size()) + " nodes)");
  this->wants_inputs = true;
  const long long heap = heap_in_use_bytes();
  heap_measured_ = heap >= 0;
  heap_last_ = heap;
  tape.set_observer(this);
  attached_ = true;
}

template <typename T>
TapeInspector<T>::~TapeInspector() {
  detach();
}

template <typename T>
void TapeInspector<T>::detach() {
  if (attached_ && tape_->observer() == this) tape_->set_observer(nullptr);
  attached_ = false;
}

template <typename T>
typename TapeInspector<T>::Input TapeInspector<T>::input_for(const Tape<T>& tape, const VarNodePtr& var,
                                                             bool probed) {
  // An output of this recording: its node index is stored on it.
  if (!var->is_leaf && var->tape_generation == tape.generation() && var->tape_index < nodes_.size() &&
      tape.nodes()[var->tape_index].output == var)
    return Input{false, var->tape_index, probed};
  // Anything else is a leaf of this graph (a parameter, the data, or a value left over from an
  // earlier, consumed recording).
  auto it = leaf_ids_.find(var.get());
  if (it != leaf_ids_.end() && !it->second.second.expired() && it->second.second.lock() == var)
    return Input{true, it->second.first, probed};
  LeafInfo leaf;
  leaf.shape = var->value.shape();
  leaf.bytes = var->value.nbytes();
  leaf.requires_grad = var->requires_grad;
  leaf.from_old_tape = !var->is_leaf;
  const std::size_t id = leaves_.size();
  leaves_.push_back(leaf);
  leaf_ids_[var.get()] = {id, std::weak_ptr<detail::VarNode<T>>(var)};
  if (const void* data = var->value.data(); data && held_buffers_.insert(data).second)
    leaf_bytes_ += leaf.bytes;
  return Input{true, id, probed};
}

template <typename T>
std::vector<typename TapeInspector<T>::Input> TapeInspector<T>::probe_inputs(const Tape<T>& tape) {
  // Copying the closure copies every Var it captured (directly or in a vector), so exactly
  // their use counts rise while the copy lives.
  const auto& all = tape.nodes();
  const std::size_t last = all.size() - 1;
  std::vector<long> before(last);
  for (std::size_t k = 0; k < last; ++k) before[k] = all[k].output.use_count();
  std::vector<std::pair<VarNodePtr, long>> leaf_before;
  for (const auto& entry : leaf_ids_)
    if (VarNodePtr leaf = entry.second.second.lock()) leaf_before.emplace_back(std::move(leaf), 0);
  for (auto& lb : leaf_before) lb.second = lb.first.use_count();

  std::vector<Input> found;
  {
    const typename Tape<T>::Backward copy = all[last].backward;
    for (std::size_t k = 0; k < last; ++k)
      if (all[k].output.use_count() > before[k]) found.push_back(Input{false, k, true});
    for (const auto& lb : leaf_before)
      if (lb.first.use_count() > lb.second) found.push_back(input_for(tape, lb.first, true));
  }
  return found;
}

template <typename T>
void TapeInspector<T>::on_record(const Tape<T>& tape, const typename TapeObserver<T>::InputList* inputs) {
  if (frozen_) return;
  const long long heap_now = heap_measured_ ? heap_in_use_bytes() : 0;
  const auto& node = tape.nodes().back();
  if (tape.size() != nodes_.size() + 1) {
    // A node was recorded without notifying us (cannot happen through record_op); stop
    // rather than mislabel the rest.
    frozen_ = true;
    return;
  }

  NodeInfo info;
  info.index = nodes_.size();
  info.op = node.op;
  const Tensor<T>& value = node.output->value;
  info.shape = value.shape();
  info.output_bytes = value.nbytes();
  if (inputs) {
    for (const auto* var : *inputs) info.inputs.push_back(input_for(tape, *var, false));
  } else {
    info.inputs = probe_inputs(tape);
  }
  // After the inputs, so an output sharing a leaf's buffer (a reshape of it) counts as held.
  if (const void* data = value.data(); data && held_buffers_.insert(data).second) {
    info.saved_bytes = info.output_bytes;
    saved_total_ += info.saved_bytes;
    ++saved_buffers_;
  }
  if (heap_measured_) {
    info.heap_bytes = heap_now - heap_last_;
    heap_total_ += info.heap_bytes;
  }
  nodes_.push_back(std::move(info));
  if (heap_measured_) heap_last_ = heap_in_use_bytes();  // our own allocations are not the op's
}

template <typename T>
void TapeInspector<T>::on_backward_node(const Tape<T>& tape, std::size_t index, double /*seconds*/) {
  if (nodes_.empty() || index >= nodes_.size()) return;
  backward_observed_ = true;
  // Gradients that have arrived and not yet been freed: those of nodes up to this one (later
  // nodes freed theirs after their closure ran).
  std::size_t grads = 0;
  const auto& all = tape.nodes();
  for (std::size_t k = 0; k <= index && k < all.size(); ++k)
    if (all[k].output->grad.defined()) grads += all[k].output->grad.nbytes();
  if (grads > peak_grad_bytes_) {
    peak_grad_bytes_ = grads;
    peak_grad_node_ = index;
  }
}

template <typename T>
void TapeInspector<T>::on_clear(const Tape<T>& /*tape*/) {
  if (!nodes_.empty()) frozen_ = true;
}

template <typename T>
std::vector<typename TapeInspector<T>::OpTotal> TapeInspector<T>::totals_by_op() const {
  std::map<std::string, OpTotal> by_op;
  for (const NodeInfo& n : nodes_) {
    OpTotal& t = by_op[n.op];
    t.op = n.op;
    ++t.count;
    t.output_bytes += n.output_bytes;
    t.saved_bytes += n.saved_bytes;
    t.heap_bytes += n.heap_bytes;
  }
  std::vector<OpTotal> out;
  for (auto& entry : by_op) out.push_back(entry.second);
  std::sort(out.begin(), out.end(), [](const OpTotal& a, const OpTotal& b) {
    if (a.saved_bytes != b.saved_bytes) return a.saved_bytes > b.saved_bytes;
    if (a.count != b.count) return a.count > b.count;
    return a.op < b.op;
  });
  return out;
}

template <typename T>
void TapeInspector<T>::print_nodes(std::ostream& out, std::size_t max_nodes) const {
  const std::size_t shown = max_nodes ? std::min(max_nodes, nodes_.size()) : nodes_.size();
  char line[512];
  std::snprintf(line, sizeof line, "%6s  %-18s %-20s %10s %10s  %s\n", "#", "op", "output shape", "saved",
                heap_measured_ ? "heap" : "", "inputs");
  out << line;
  for (std::size_t i = 0; i < shown; ++i) {
    const NodeInfo& n = nodes_[i];
    std::string ins;
    for (const Input& in : n.inputs) ins += (ins.empty() ? "" : " ") + input_label(in.leaf, in.id, in.probed);
    std::snprintf(line, sizeof line, "%6zu  %-18s %-20s %10s %10s  %s\n", n.index, n.op.c_str(),
                  compact_shape(n.shape).c_str(), format_bytes(static_cast<double>(n.saved_bytes)).c_str(),
                  heap_measured_ ? format_bytes(static_cast<double>(n.heap_bytes)).c_str() : "",
                  ins.c_str());
    out << line;
  }
  if (shown < nodes_.size()) out << "   ... " << nodes_.size() - shown << " more nodes (all of them in the DOT file)\n";
  out << "inputs: #i = node i, Lj = leaf j (parameter or data, listed below), * = found by probing the closure\n";
  std::size_t params = 0, param_bytes = 0, data = 0, data_bytes = 0;
  for (const LeafInfo& l : leaves_) {
    if (l.requires_grad) {
      ++params;
      param_bytes += l.bytes;
    } else {
      ++data;
      data_bytes += l.bytes;
    }
  }
  out << "leaves: " << params << " requiring grad (" << format_bytes(static_cast<double>(param_bytes)) << "), "
      << data << " not (" << format_bytes(static_cast<double>(data_bytes)) << ")";
  const std::size_t leaves_shown = std::min<std::size_t>(leaves_.size(), max_nodes ? max_nodes : leaves_.size());
  for (std::size_t j = 0; j < leaves_shown; ++j)
    out << (j % 8 == 0 ? "\n  " : "  ") << "L" << j << " " << compact_shape(leaves_[j].shape)
        << (leaves_[j].requires_grad ? "" : " const");
  out << "\n";
}

template <typename T>
void TapeInspector<T>::print_summary(std::ostream& out) const {
  char line[512];
  const double total = static_cast<double>(saved_total_);
  std::snprintf(line, sizeof line, "%-18s %7s %11s %7s %11s %11s\n", "op", "nodes", "saved", "share",
                heap_measured_ ? "heap" : "", "outputs");
  out << line;
  for (const OpTotal& t : totals_by_op()) {
    std::snprintf(line, sizeof line, "%-18s %7zu %11s %6.1f%% %11s %11s\n", t.op.c_str(), t.count,
                  format_bytes(static_cast<double>(t.saved_bytes)).c_str(),
                  total > 0 ? 100.0 * static_cast<double>(t.saved_bytes) / total : 0.0,
                  heap_measured_ ? format_bytes(static_cast<double>(t.heap_bytes)).c_str() : "",
                  format_bytes(static_cast<double>(t.output_bytes)).c_str());
    out << line;
  }
  std::size_t outputs = 0;
  for (const NodeInfo& n : nodes_) outputs += n.output_bytes;
  std::snprintf(line, sizeof line, "%-18s %7zu %11s %6.1f%% %11s %11s\n", "total", nodes_.size(),
                format_bytes(total).c_str(), total > 0 ? 100.0 : 0.0,
                heap_measured_ ? format_bytes(static_cast<double>(heap_total_)).c_str() : "",
                format_bytes(static_cast<double>(outputs)).c_str());
  out << line;
  out << "(saved = output buffers newly held by the tape, exact; heap = allocator growth while the op ran, which\n"
         " also counts closure-private saved tensors and per-node bookkeeping; outputs = all output bytes,\n"
         " aliases included)\n\n";

  out << "tape memory\n";
  out << "  held for backward      " << format_bytes(total) << " in " << saved_buffers_
      << " buffers at the end of the forward pass (its peak: the tape frees nothing before backward)\n";
  out << "  leaves referenced      " << format_bytes(static_cast<double>(leaf_bytes_)) << " in " << leaves_.size()
      << " leaves (parameters and data: owned by the model and the caller, not counted above)\n";
  if (heap_measured_) {
    const double per_node = nodes_.empty() ? 0.0
                                           : (static_cast<double>(heap_total_) - total) / static_cast<double>(nodes_.size());
    out << "  heap growth, forward   " << format_bytes(static_cast<double>(heap_total_))
        << " (allocator view: " << format_bytes(static_cast<double>(heap_total_) - total) << " more than held, "
        << format_bytes(per_node) << " per node)\n";
  } else {
    out << "  heap growth, forward   not measured (needs glibc >= 2.33, no AddressSanitizer)\n";
  }
  if (backward_observed_) {
    out << "  peak during backward   " << format_bytes(static_cast<double>(backward_peak_bytes())) << " = held + "
        << format_bytes(static_cast<double>(peak_grad_bytes_)) << " of intermediate gradients alive, after node #"
        << peak_grad_node_ << " (" << (peak_grad_node_ < nodes_.size() ? nodes_[peak_grad_node_].op : "?")
        << ") ran; parameter gradients not counted\n";
  } else {
    out << "  peak during backward   not observed (no reverse pass while attached)\n";
  }
}

template <typename T>
void TapeInspector<T>::write_dot(std::ostream& out) const {
  out << "digraph tape {\n"
         "  rankdir=TB;\n"
         "  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n";
  for (std::size_t j = 0; j < leaves_.size(); ++j) {
    const LeafInfo& l = leaves_[j];
    out << "  l" << j << " [shape=ellipse, style=filled, fillcolor=\"" << (l.requires_grad ? "#cfe8cf" : "#e0e0e0")
        << "\", label=\"L" << j << (l.requires_grad ? " param" : " const") << "\\n" << compact_shape(l.shape)
        << "\"];\n";
  }
  for (const NodeInfo& n : nodes_)
    out << "  n" << n.index << " [label=\"#" << n.index << " " << n.op << "\\n" << compact_shape(n.shape)
        << "\\nsaved " << format_bytes(static_cast<double>(n.saved_bytes)) << "\"];\n";
  for (const NodeInfo& n : nodes_)
    for (const Input& in : n.inputs)
      out << "  " << (in.leaf ? "l" : "n") << in.id << " -> n" << n.index << (in.probed ? " [style=dashed]" : "")
          << ";\n";
  out << "}\n";
}

template class TapeInspector<float>;
template class TapeInspector<double>;

}  // namespace fz
