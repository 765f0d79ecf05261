// autograd/op_profiler.cpp — the per-op clocks and the table.
#include "autograd/op_profiler.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>

namespace fz {

template <typename T>
OpProfiler<T>::OpProfiler(Tape<T>& tape, bool by_shape) : tape_(&tape), by_shape_(by_shape) {
  if (tape.observer())
    throw std::logic_error("OpProfiler: the tape already has an observer (an inspector or a profiler)");
  this->wants_inputs = by_shape;
  tape.set_observer(this);
  attached_ = true;
}

template <typename T>
OpProfiler<T>::~OpProfiler() {
  detach();
}

template <typename T>
void OpProfiler<T>::detach() {
  if (attached_ && tape_->observer() == this) tape_->set_observer(nullptr);
  attached_ = false;
}

template <typename T>
void OpProfiler<T>::mark() {
  last_ = Clock::now();
  have_last_ = true;
}

template <typename T>
void OpProfiler<T>::reset() {
  slot_of_.clear();
  slot_of_label_.clear();
  slots_.clear();
  node_slot_.clear();
  have_last_ = in_pass_ = false;
  forward_total_ = backward_total_ = 0;
  records_ = backward_nodes_ = untimed_ = passes_ = 0;
}

template <typename T>
std::size_t OpProfiler<T>::slot_for(const char* op) {
  auto it = slot_of_.find(op);
  if (it != slot_of_.end()) return it->second;
  slot_of_.emplace(op, slots_.size());
  slots_.push_back(Slot{op});
  return slots_.size() - 1;
}

template <typename T>
std::size_t OpProfiler<T>::slot_for(const std::string& label) {
  auto it = slot_of_label_.find(label);
  if (it != slot_of_label_.end()) return it->second;
  slot_of_label_.emplace(label, slots_.size());
  slots_.push_back(Slot{label});
  return slots_.size() - 1;
}

namespace {

std::string compact(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + ")";
}

}  // namespace

template <typename T>
void OpProfiler<T>::on_record(const Tape<T>& tape, const typename TapeObserver<T>::InputList* inputs) {
  const Clock::time_point now = Clock::now();
  if (!in_pass_) {
    in_pass_ = true;
    ++passes_;
    node_slot_.clear();
  }
  const auto& node = tape.nodes().back();
  std::size_t index;
  if (by_shape_) {
    std::string label = node.op;
    if (inputs)
      for (const auto* var : *inputs) label += " " + compact((*var)->value.shape());
    label += " -> " + compact(node.output->value.shape());
    index = slot_for(label);
  } else {
    index = slot_for(node.op);
  }
  // Backward reports tape indices: remember this node's slot (nodes recorded before we were
  // attached get the op's slot, looked up then).
  if (node_slot_.size() < tape.size()) node_slot_.resize(tape.size(), static_cast<std::size_t>(-1));
  node_slot_[tape.size() - 1] = index;
  Slot& s = slots_[index];
  ++s.forward_count;
  ++records_;
  if (have_last_) {
    const double dt = std::chrono::duration<double>(now - last_).count();
    s.forward_seconds += dt;
    forward_total_ += dt;
  } else {
    ++untimed_;
  }
  last_ = now;
  have_last_ = true;
}

template <typename T>
void OpProfiler<T>::on_backward_node(const Tape<T>& tape, std::size_t index, double seconds) {
  const std::size_t known = index < node_slot_.size() ? node_slot_[index] : static_cast<std::size_t>(-1);
  Slot& s = slots_[known != static_cast<std::size_t>(-1) ? known : slot_for(tape.nodes()[index].op)];
  ++s.backward_count;
  s.backward_seconds += seconds;
  backward_total_ += seconds;
  ++backward_nodes_;
}

template <typename T>
void OpProfiler<T>::on_clear(const Tape<T>&) {
  // The pass is over: what runs until the next record is not any op's forward work.
  in_pass_ = false;
  have_last_ = false;
  node_slot_.clear();
}

template <typename T>
std::vector<typename OpProfiler<T>::OpStats> OpProfiler<T>::stats() const {
  std::map<std::string, OpStats> by_name;
  for (const Slot& s : slots_) {
    OpStats& o = by_name[s.label];
    o.op = s.label;
    o.forward_count += s.forward_count;
    o.backward_count += s.backward_count;
    o.forward_seconds += s.forward_seconds;
    o.backward_seconds += s.backward_seconds;
  }
  std::vector<OpStats> out;
  for (auto& entry : by_name) out.push_back(entry.second);
  std::sort(out.begin(), out.end(), [](const OpStats& a, const OpStats& b) {
    if (a.total_seconds() != b.total_seconds()) return a.total_seconds() > b.total_seconds();
    return a.op < b.op;
  });
  return out;
}

template <typename T>
void OpProfiler<T>::print_table(std::ostream& out, double wall_seconds, std::size_t steps,
                                std::size_t max_rows) const {
  const std::vector<OpStats> rows = stats();
  const double total = forward_total_ + backward_total_;
  const double per = steps ? 1e3 / static_cast<double>(steps) : 1e3;  // ms, per step if known
  const char* unit = steps ? "ms/step" : "ms";
  int width = 18;
  for (const OpStats& r : rows) width = std::max(width, static_cast<int>(r.op.size()));
  char line[512];
  std::snprintf(line, sizeof line, "%-*s %8s %10s %8s %10s %10s %7s %7s\n", width, "op", "fwd n", "fwd", "bwd n",
                "bwd", "total", "share", "cum");
  out << line;
  double cum = 0;
  const std::size_t shown = max_rows ? std::min(max_rows, rows.size()) : rows.size();
  for (std::size_t i = 0; i < shown; ++i) {
    const OpStats& r = rows[i];
    const double share = total > 0 ? 100.0 * r.total_seconds() / total : 0.0;
    cum += share;
    std::snprintf(line, sizeof line, "%-*s %8zu %10.3f %8zu %10.3f %10.3f %6.1f%% %6.1f%%\n", width, r.op.c_str(),
                  r.forward_count, r.forward_seconds * per, r.backward_count, r.backward_seconds * per,
                  r.total_seconds() * per, share, cum);
    out << line;
  }
  if (shown < rows.size()) out << "... " << rows.size() - shown << " more op types\n";
  std::snprintf(line, sizeof line, "%-*s %8zu %10.3f %8zu %10.3f %10.3f %6.1f%%\n", width, "total", records_,
                forward_total_ * per, backward_nodes_, backward_total_ * per, total * per, total > 0 ? 100.0 : 0.0);
  out << line;
  out << "(times in " << unit << "; n = counts over all " << (steps ? std::to_string(steps) + " " : "")
      << "steps. bwd = each backward closure, timed exactly. fwd = wall time since the previous record of the\n"
         " same forward pass, attributed to the op being recorded: it includes unrecorded work in between)\n";
  if (untimed_)
    out << "(" << untimed_ << " records were the first of a forward pass with no mark() of its start: counted, "
        << "but their forward time is not included)\n";
  if (wall_seconds > 0) {
    const double other = wall_seconds - total;
    std::snprintf(line, sizeof line,
                  "wall %.3f %s = forward %.3f + backward %.3f + other %.3f (%.1f%%: optimiser, data, "
                  "bookkeeping between ops)\n",
                  wall_seconds * per, unit, forward_total_ * per, backward_total_ * per, other * per,
                  100.0 * other / wall_seconds);
    out << line;
  }
}

template class OpProfiler<float>;
template class OpProfiler<double>;

}  // namespace fz
