// tensor/printable.hpp — text for messages: untrusted text made safe to print, and numbers. Names and
// values read from files (tensor names, metadata, header bytes) may hold control characters
// or terminal escape sequences; printable() shows every byte outside printable ASCII as \xNN
// and shortens long text, so a hostile file can never write raw bytes to the user's terminal.
#pragma once

#include <cstddef>
#include <string>

namespace fz {

// `text` with bytes outside 0x20..0x7e (and the backslash) written as \xNN, cut to about
// `max_chars` characters with "..." appended when it was longer.
std::string printable(const std::string& text, std::size_t max_chars = 80);

// `v` with `digits` significant digits (printf "%.*g"): numbers in messages, metrics.csv,
// zoo.csv.
std::string format_significant(double v, int digits);

}  // namespace fz
