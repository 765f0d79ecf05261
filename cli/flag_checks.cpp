// cli/flag_checks.cpp — numeric flag values checked as text (see the header).
#include "cli/flag_checks.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace fz::cli {

namespace {

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// Whole bounds as digits ("10000000", not "1e+07"), others as %g.
std::string number_text(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// The whole text as one real number (strtod's syntax, inf and nan included), or false.
bool parse_real(const std::string& text, double& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && errno != ERANGE;
}

bool in_range(double v, double lo, double hi, bool open_lo, bool open_hi) {
  return std::isfinite(v) && (open_lo ? v > lo : v >= lo) && (open_hi ? v < hi : v <= hi);
}

}  // namespace

std::string whole_range_text(std::uint64_t lo, std::uint64_t hi) {
  return "from " + std::to_string(lo) + " to " + std::to_string(hi);
}

std::string real_range_text(double lo, double hi, bool open_lo, bool open_hi) {
  return std::string("in ") + (open_lo ? "(" : "[") + number_text(lo) + ", " + number_text(hi) + (open_hi ? ")" : "]");
}

std::string check_whole_number(std::string& text, std::uint64_t lo, std::uint64_t hi) {
  const std::string want = "must be a whole number " + whole_range_text(lo, hi) + ", got " + quoted(text);
  std::string digits = text.size() > 1 && text[0] == '+' ? text.substr(1) : text;
  if (digits.empty()) return want;
  bool plain = true;
  for (char ch : digits) plain = plain && ch >= '0' && ch <= '9';
  std::uint64_t value = 0;
  if (plain) {
    errno = 0;
    const unsigned long long v = std::strtoull(digits.c_str(), nullptr, 10);
    if (errno == ERANGE) return want;
    value = v;
  } else {
    // "1e6", "2.5e3": exact whole numbers written with an exponent.
    double v = 0;
    if (digits.find_first_of("eE") == std::string::npos || !parse_real(digits, v) || !std::isfinite(v) || v < 0 ||
        v != std::floor(v) || v >= 18446744073709551616.0 /* 2^64 */ || v > static_cast<double>(hi))
      return want;
    value = static_cast<std::uint64_t>(v);
  }
  if (value < lo || value > hi) return want;
  text = std::to_string(value);
  return "";
}

std::string check_real_number(const std::string& text, double lo, double hi, bool open_lo, bool open_hi) {
  double v = 0;
  if (!parse_real(text, v) || !in_range(v, lo, hi, open_lo, open_hi))
    return "must be a number " + real_range_text(lo, hi, open_lo, open_hi) + ", got " + quoted(text);
  return "";
}

std::string check_real_list(const std::string& text, double lo, double hi, bool open_lo, bool open_hi,
                            std::size_t max_items) {
  const std::string want = "must be a comma-separated list of up to " + std::to_string(max_items) + " numbers " +
                           real_range_text(lo, hi, open_lo, open_hi);
  if (text.empty()) return want + ", got nothing";
  std::stringstream ss(text);
  std::string item;
  std::size_t count = 0;
  while (std::getline(ss, item, ',')) {
    double v = 0;
    if (item.empty()) return want + ", got an empty item in " + quoted(text);
    if (!parse_real(item, v) || !in_range(v, lo, hi, open_lo, open_hi)) return want + ", got " + quoted(item);
    ++count;
  }
  if (text.back() == ',') return want + ", got an empty item in " + quoted(text);
  if (count > max_items) return want + ", got " + std::to_string(count);
  return "";
}

std::vector<double> parse_real_list(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    double v = 0;
    if (!parse_real(item, v)) throw FlagError("'" + item + "' is not a number");
    out.push_back(v);
  }
  return out;
}

}  // namespace fz::cli
