// datasets/error.hpp — DatasetError: the one exception type every reader and writer in
// datasets/ throws. Its message always starts with the file (or buffer) name, then what is
// wrong, so the CLI can print it as one actionable line.
#pragma once

#include <stdexcept>
#include <string>

namespace fz {

class DatasetError : public std::runtime_error {
 public:
  // what() = "<source>: <problem>"
  DatasetError(const std::string& source, const std::string& problem);
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

// Largest dataset buffer (decompressed bytes) any reader accepts by default: 2 GiB. A header
// that needs more is refused before anything is allocated.
constexpr std::size_t kMaxDatasetBytes = std::size_t(2) << 30;

}  // namespace fz
