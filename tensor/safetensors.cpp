// tensor/safetensors.cpp — safetensors I/O with nlohmann::json for the header.
#include "tensor/safetensors.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace fz {

namespace {

// Header sizes above this are refused before allocating (real headers are kilobytes).
constexpr std::uint64_t kMaxHeaderBytes = 64ull << 20;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw SafetensorsError("safetensors file '" + path + "': " + what);
}

template <typename T>
void add_entries(nlohmann::ordered_json& header, const std::vector<std::pair<std::string, Tensor<T>>>& list,
                 const char* dtype, std::uint64_t& offset) {
  for (const auto& [name, t] : list) {
    nlohmann::ordered_json entry;
    entry["dtype"] = dtype;
    entry["shape"] = t.shape();
    entry["data_offsets"] = {offset, offset + t.nbytes()};
    header[name] = entry;
    offset += t.nbytes();
  }
}

void write_all(int fd, const void* data, std::size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) fail(path, std::string("write failed: ") + std::strerror(errno));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

const Tensor<float>& NamedTensors::get_f32(const std::string& name) const {
  for (const auto& [n, t] : f32)
    if (n == name) return t;
  throw SafetensorsError("checkpoint has no float32 tensor named '" + name + "'");
}

bool NamedTensors::has_f32(const std::string& name) const {
  return std::any_of(f32.begin(), f32.end(), [&](const auto& e) { return e.first == name; });
}

void save_safetensors(const std::string& path, const NamedTensors& tensors) {
  static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE floats expected");
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!tensors.metadata.empty()) header["__metadata__"] = tensors.metadata;
  std::uint64_t offset = 0;
  add_entries(header, tensors.f32, "F32", offset);
  add_entries(header, tensors.f64, "F64", offset);
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');  // keep the data section 8-byte aligned
  const std::uint64_t header_len = text.size();

  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(path, std::string("cannot create '") + tmp + "': " + std::strerror(errno));
  try {
    unsigned char len_le[8];
    for (int i = 0; i < 8; ++i) len_le[i] = static_cast<unsigned char>(header_len >> (8 * i));
    write_all(fd, len_le, 8, path);
    write_all(fd, text.data(), text.size(), path);
    for (const auto& e : tensors.f32) write_all(fd, e.second.data(), e.second.nbytes(), path);
    for (const auto& e : tensors.f64) write_all(fd, e.second.data(), e.second.nbytes(), path);
    if (::fsync(fd) != 0) fail(path, std::string("fsync failed: ") + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    std::remove(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(path, std::string("rename failed: ") + std::strerror(errno));
  }
}

NamedTensors load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open (missing file or no permission)");
  in.seekg(0, std::ios::end);
  const std::uint64_t file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  if (file_size < 8) fail(path, "truncated: shorter than the 8-byte header length");
  unsigned char len_le[8];
  in.read(reinterpret_cast<char*>(len_le), 8);
  std::uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<std::uint64_t>(len_le[i]) << (8 * i);
  if (header_len > kMaxHeaderBytes || header_len > file_size - 8)
    fail(path, "header length " + std::to_string(header_len) + " does not fit the file (" +
                   std::to_string(file_size) + " bytes): corrupt or not a safetensors file");
  std::string text(header_len, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  const std::uint64_t data_size = file_size - 8 - header_len;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    fail(path, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");

  struct Span { std::uint64_t begin, end; std::string name; };
  std::vector<Span> spans;
  NamedTensors out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (!it->is_object()) fail(path, "__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail(path, "metadata value '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const auto& e = *it;
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      fail(path, "tensor '" + name + "' lacks dtype, shape or data_offsets");
    if (!e["dtype"].is_string() || !e["shape"].is_array() || !e["data_offsets"].is_array() ||
        e["data_offsets"].size() != 2)
      fail(path, "tensor '" + name + "' has a malformed entry");
    const std::string dtype = e["dtype"].get<std::string>();
    std::size_t elem = dtype == "F32" ? 4 : dtype == "F64" ? 8 : 0;
    if (elem == 0) fail(path, "tensor '" + name + "' has unsupported dtype " + dtype + " (F32, F64 are read)");
    Shape shape;
    std::uint64_t count = 1;
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) fail(path, "tensor '" + name + "' has a non-integer dimension");
      const std::uint64_t v = d.get<std::uint64_t>();
      if (v != 0 && count > std::numeric_limits<std::uint64_t>::max() / v / elem)
        fail(path, "tensor '" + name + "' has an absurd shape");
      count *= v;
      shape.push_back(static_cast<std::size_t>(v));
    }
    if (!e["data_offsets"][0].is_number_unsigned() || !e["data_offsets"][1].is_number_unsigned())
      fail(path, "tensor '" + name + "' has non-integer data_offsets");
    const std::uint64_t begin = e["data_offsets"][0].get<std::uint64_t>();
    const std::uint64_t end = e["data_offsets"][1].get<std::uint64_t>();
    if (begin > end || end > data_size)
      fail(path, "tensor '" + name + "' data [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") lies outside the " + std::to_string(data_size) + "-byte data section (truncated file?)");
    if (end - begin != count * elem)
      fail(path, "tensor '" + name + "' shape " + shape_str(shape) + " needs " +
                     std::to_string(count * elem) + " bytes, its offsets give " + std::to_string(end - begin));
    spans.push_back({begin, end, name});
    in.seekg(static_cast<std::streamoff>(8 + header_len + begin));
    if (elem == 4) {
      Tensor<float> t = Tensor<float>::empty(shape);
      in.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(t.nbytes()));
      out.f32.emplace_back(name, std::move(t));
    } else {
      Tensor<double> t = Tensor<double>::empty(shape);
      in.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(t.nbytes()));
      out.f64.emplace_back(name, std::move(t));
    }
    if (!in) fail(path, "could not read the data of tensor '" + name + "'");
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < spans.size(); ++i)
    if (spans[i].begin < spans[i - 1].end)
      fail(path, "tensors '" + spans[i - 1].name + "' and '" + spans[i].name + "' overlap");
  // Keep the order the header listed: nlohmann::json sorts keys, so restore writer order by offset.
  auto by_offset = [&](const auto& a, const auto& b) {
    auto off = [&](const std::string& n) {
      return header[n]["data_offsets"][0].template get<std::uint64_t>();
    };
    return off(a.first) < off(b.first);
  };
  std::sort(out.f32.begin(), out.f32.end(), by_offset);
  std::sort(out.f64.begin(), out.f64.end(), by_offset);
  return out;
}

}  // namespace fz
