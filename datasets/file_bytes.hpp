// datasets/file_bytes.hpp — reading whole files into memory, transparently gunzipping them.
//
// Every reader goes through here so that size limits and error messages are uniform: a
// missing or unreadable file, a corrupt or truncated gzip stream, or data larger than the
// caller's limit each throw DatasetError naming the file. Memory grows only with data that
// is actually there (never with what a header claims).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"

namespace fz {

// True when the buffer starts with the gzip magic bytes 1f 8b.
bool is_gzip(const std::uint8_t* data, std::size_t size);

// Decompresses a gzip buffer (one or more members). `name` is used in error messages; more
// than `max_bytes` of output is an error.
std::vector<std::uint8_t> gunzip(const std::uint8_t* data, std::size_t size, const std::string& name,
                                 std::size_t max_bytes = kMaxDatasetBytes);

// The buffer itself, or its decompression when it is gzip.
std::vector<std::uint8_t> maybe_gunzip(std::vector<std::uint8_t> bytes, const std::string& name,
                                       std::size_t max_bytes = kMaxDatasetBytes);

// The raw bytes of a file (no decompression); refuses files above max_bytes.
std::vector<std::uint8_t> read_file_raw(const std::string& path, std::size_t max_bytes = kMaxDatasetBytes);

// The bytes of a file, gunzipped when it starts with the gzip magic.
std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::size_t max_bytes = kMaxDatasetBytes);

// Writes bytes to a file, throwing DatasetError on failure.
void write_file_bytes(const std::string& path, const std::uint8_t* data, std::size_t size);

// "1.5 GiB"-style size for messages.
std::string human_bytes(std::size_t n);

}  // namespace fz
