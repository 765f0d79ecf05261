// cli/flag_checks.hpp — checks of numeric flag values as text, before anything converts them:
// each returns "" when the value is acceptable, else the reason in words with the readable
// range ("must be a whole number from 1 to 1000000000, got '1e27'"). cli/main.cpp wraps them
// into CLI11 validators, so a bad value is a parse error: one line, exit 2. They exist because
// CLI11's own Range prints an unbounded side as a 309-digit number, lets NaN through a
// PositiveNumber check, and wraps "-1" into a huge unsigned value.
//
// FlagError is the exception for a flag value found wrong after parsing (a length the
// configuration cannot take, a model that cannot fit in memory): main.cpp exits 2 for it, as for
// any bad flag, and 1 for the other errors (bad input files).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fz::cli {

struct FlagError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Runs check(); a std::invalid_argument it throws becomes a FlagError (the flags were at fault).
template <typename Check>
void as_flag_error(Check&& check) {
  try {
    check();
  } catch (const FlagError&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw FlagError(e.what());
  }
}

// Whole numbers in [lo, hi]. Accepts "1000", "+1000" and exact exponent forms ("1e6"), which
// it rewrites in place as plain digits for the converter; refuses signs, fractions, NaN, inf.
std::string check_whole_number(std::string& text, std::uint64_t lo, std::uint64_t hi);

// Finite real numbers between lo and hi; open_lo / open_hi exclude that end ("(0, 10]").
std::string check_real_number(const std::string& text, double lo, double hi, bool open_lo, bool open_hi);

// A comma-separated list of such real numbers (at least one; at most max_items).
std::string check_real_list(const std::string& text, double lo, double hi, bool open_lo, bool open_hi,
                            std::size_t max_items);

// The readable range: "from 1 to 8", "in (0, 10]".
std::string whole_range_text(std::uint64_t lo, std::uint64_t hi);
std::string real_range_text(double lo, double hi, bool open_lo, bool open_hi);

// Parses a list check_real_list accepted.
std::vector<double> parse_real_list(const std::string& text);

}  // namespace fz::cli
