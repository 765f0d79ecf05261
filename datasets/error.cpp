// datasets/error.cpp — DatasetError.
#include "datasets/error.hpp"

namespace fz {

DatasetError::DatasetError(const std::string& source, const std::string& problem)
    : std::runtime_error(source + ": " + problem), source_(source) {}

}  // namespace fz
