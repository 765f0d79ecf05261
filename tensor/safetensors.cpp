// tensor/safetensors.cpp — safetensors I/O with nlohmann::json for the header and zlib's crc32
// for the data checksum. The reader works on a ByteSource (a file through pread, or a buffer)
// so the fuzz target exercises exactly the code that reads checkpoints.
#include "tensor/safetensors.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "tensor/atomic_file.hpp"
#include "tensor/printable.hpp"

namespace fz {

namespace {

// Header sizes above this are refused before allocating (real headers are kilobytes).
constexpr std::uint64_t kMaxHeaderBytes = 64ull << 20;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw SafetensorsError("safetensors file '" + printable(path, 200) + "': " + what);
}

// Quoted, escaped name from the file for messages.
std::string shown(const std::string& untrusted) { return "'" + printable(untrusted) + "'"; }

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

// zlib's crc32 takes a 32-bit length: feed large buffers in pieces.
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n) {
  const Bytef* p = static_cast<const Bytef*>(data);
  uLong c = crc;
  while (n > 0) {
    const std::size_t piece = std::min<std::size_t>(n, std::size_t(1) << 30);
    c = ::crc32(c, p, static_cast<uInt>(piece));
    p += piece;
    n -= piece;
  }
  return static_cast<std::uint32_t>(c);
}

std::string crc_hex(std::uint32_t crc) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(crc));
  return buf;
}

// Exactly 8 hex digits, as crc_hex writes them; anything else is a malformed checksum.
bool parse_crc_hex(const std::string& text, std::uint32_t& out) {
  if (text.size() != 8) return false;
  std::uint32_t v = 0;
  for (char ch : text) {
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
          : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<std::uint32_t>(d);
  }
  out = v;
  return true;
}

// Where the reader gets its bytes: `read(offset, dst, n)` fills dst or throws.
struct ByteSource {
  std::uint64_t size = 0;
  std::function<void(std::uint64_t, void*, std::size_t)> read;
};

// What a stat() mode is, for "is a directory, not a checkpoint file"-style messages.
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Opens a regular file for reading. The stat() comes first and O_NONBLOCK is set, so neither
// a FIFO without a writer nor a device can make the open or the reads hang; fstat() then
// checks the file actually opened (it may have been replaced in between).
int open_regular_file(const std::string& path, std::uint64_t& size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode)) fail(path, std::string("is ") + file_kind(st.st_mode) + ", not a safetensors file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "is not a regular file (it changed while being opened)");
  }
  size = static_cast<std::uint64_t>(st.st_size);
  return fd;
}

struct Entry {
  std::string name;
  bool is_f64 = false;
  Shape shape;
  std::uint64_t begin = 0, end = 0;
};

// Validates one header entry against the data section; throws naming the tensor.
Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& e,
                  std::uint64_t data_size) {
  Entry out;
  out.name = name;
  const std::string q = shown(name);
  if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
    fail(path, "tensor " + q + " lacks dtype, shape or data_offsets");
  if (!e["dtype"].is_string() || !e["shape"].is_array() || !e["data_offsets"].is_array() ||
      e["data_offsets"].size() != 2)
    fail(path, "tensor " + q + " has a malformed entry");
  const std::string dtype = e["dtype"].get<std::string>();
  const std::size_t elem = dtype == "F32" ? 4 : dtype == "F64" ? 8 : 0;
  if (elem == 0) fail(path, "tensor " + q + " has unsupported dtype " + shown(dtype) + " (F32, F64 are read)");
  out.is_f64 = elem == 8;
  std::uint64_t count = 1;
  for (const auto& d : e["shape"]) {
    if (!d.is_number_unsigned()) fail(path, "tensor " + q + " has a non-integer dimension");
    const std::uint64_t v = d.get<std::uint64_t>();
    if (v != 0 && count > std::numeric_limits<std::uint64_t>::max() / v / elem)
      fail(path, "tensor " + q + " has an absurd shape");
    count *= v;
    out.shape.push_back(static_cast<std::size_t>(v));
  }
  const auto& offs = e["data_offsets"];
  if (!offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
    fail(path, "tensor " + q + " has non-integer data_offsets");
  out.begin = offs[0].get<std::uint64_t>();
  out.end = offs[1].get<std::uint64_t>();
  if (out.begin > out.end || out.end > data_size)
    fail(path, "tensor " + q + " data [" + std::to_string(out.begin) + ", " + std::to_string(out.end) +
                   ") lies outside the " + std::to_string(data_size) + "-byte data section (truncated file?)");
  if (out.end - out.begin != count * elem)
    fail(path, "tensor " + q + " shape " + shape_str(out.shape) + " needs " + std::to_string(count * elem) +
                   " bytes, its offsets give " + std::to_string(out.end - out.begin));
  return out;
}

NamedTensors parse(const std::string& path, const ByteSource& src) {
  if (src.size < 8) fail(path, "truncated: shorter than the 8-byte header length");
  unsigned char len_le[8];
  src.read(0, len_le, 8);
  std::uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<std::uint64_t>(len_le[i]) << (8 * i);
  if (header_len > kMaxHeaderBytes || header_len > src.size - 8)
    fail(path, "header length " + std::to_string(header_len) + " does not fit the file (" +
                   std::to_string(src.size) + " bytes): corrupt or not a safetensors file");
  std::string text(header_len, '\0');
  if (header_len) src.read(8, text.data(), header_len);
  const std::uint64_t data_at = 8 + header_len;
  const std::uint64_t data_size = src.size - data_at;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the bytes around the error: give only the position.
    fail(path, "header is not valid JSON (syntax error at byte " + std::to_string(e.byte) +
                   " of the header): corrupt or not a safetensors file");
  } catch (const nlohmann::json::exception&) {
    // Valid syntax the parser still refuses: a number too large for any C++ type (found by
    // fuzz_safetensors: nlohmann throws out_of_range, not parse_error, for these).
    fail(path, "header is not valid JSON (a number out of range): corrupt or not a safetensors file");
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");

  NamedTensors out;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail(path, "__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail(path, "metadata value " + shown(m.key()) + " is not a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, it.key(), *it, data_size));
  }
  // Writer order (nlohmann::json sorts keys): by offset, which also finds overlaps.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < entries.size(); ++i)
    if (entries[i].begin < entries[i - 1].end)
      fail(path, "tensors " + shown(entries[i - 1].name) + " and " + shown(entries[i].name) + " overlap");

  // The checksum covers the whole data section and is checked before any tensor is built.
  auto crc_entry = out.metadata.find(kDataCrc32Key);
  if (crc_entry != out.metadata.end()) {
    std::uint32_t expected = 0;
    if (!parse_crc_hex(crc_entry->second, expected))
      fail(path, std::string("metadata ") + kDataCrc32Key + " is " + shown(crc_entry->second) +
                     ", not 8 hexadecimal digits: the file is corrupt");
    std::uint32_t crc = static_cast<std::uint32_t>(::crc32(0L, Z_NULL, 0));
    std::vector<unsigned char> chunk(std::min<std::uint64_t>(data_size, 1u << 20));
    for (std::uint64_t at = 0; at < data_size;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), data_size - at));
      src.read(data_at + at, chunk.data(), n);
      crc = crc32_update(crc, chunk.data(), n);
      at += n;
    }
    if (crc != expected)
      fail(path, "checksum mismatch: the data section's crc32 is " + crc_hex(crc) + " but the header records " +
                     crc_hex(expected) + "; the file is corrupt (a damaged copy or a bad disk)");
    out.metadata.erase(crc_entry);
  }

  for (const Entry& e : entries) {
    if (e.is_f64) {
      Tensor<double> t = Tensor<double>::empty(e.shape);
      if (t.nbytes()) src.read(data_at + e.begin, t.data(), t.nbytes());
      out.f64.emplace_back(e.name, std::move(t));
    } else {
      Tensor<float> t = Tensor<float>::empty(e.shape);
      if (t.nbytes()) src.read(data_at + e.begin, t.data(), t.nbytes());
      out.f32.emplace_back(e.name, std::move(t));
    }
  }
  return out;
}

}  // namespace

const Tensor<float>& NamedTensors::get_f32(const std::string& name) const {
  for (const auto& [n, t] : f32)
    if (n == name) return t;
  throw SafetensorsError("checkpoint has no float32 tensor named " + shown(name));
}

bool NamedTensors::has_f32(const std::string& name) const {
  return std::any_of(f32.begin(), f32.end(), [&](const auto& e) { return e.first == name; });
}

void save_safetensors(const std::string& path, const NamedTensors& tensors) {
  static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE floats expected");
  std::uint32_t crc = static_cast<std::uint32_t>(::crc32(0L, Z_NULL, 0));
  for (const auto& e : tensors.f32) crc = crc32_update(crc, e.second.data(), e.second.nbytes());
  for (const auto& e : tensors.f64) crc = crc32_update(crc, e.second.data(), e.second.nbytes());
  std::map<std::string, std::string> metadata = tensors.metadata;
  metadata[kDataCrc32Key] = crc_hex(crc);

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  add_entries(header, tensors.f32, "F32", offset);
  add_entries(header, tensors.f64, "F64", offset);
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');  // keep the data section 8-byte aligned
  const std::uint64_t header_len = text.size();

  try {
    replace_file_atomically(path, [&](FileSink& out) {
      unsigned char len_le[8];
      for (int i = 0; i < 8; ++i) len_le[i] = static_cast<unsigned char>(header_len >> (8 * i));
      out.write(len_le, 8);
      out.write(text);
      for (const auto& e : tensors.f32) out.write(e.second.data(), e.second.nbytes());
      for (const auto& e : tensors.f64) out.write(e.second.data(), e.second.nbytes());
    });
  } catch (const FileWriteError& e) {
    fail(path, e.what());
  }
}

NamedTensors load_safetensors(const std::string& path) {
  std::uint64_t size = 0;
  const int fd = open_regular_file(path, size);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  ByteSource src;
  src.size = size;
  src.read = [&](std::uint64_t offset, void* dst, std::size_t n) {
    char* p = static_cast<char*>(dst);
    while (n > 0) {
      const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) fail(path, std::string("read error: ") + std::strerror(errno));
      if (r == 0) fail(path, "the file became shorter while being read (is it being overwritten?)");
      p += r;
      n -= static_cast<std::size_t>(r);
      offset += static_cast<std::uint64_t>(r);
    }
  };
  return parse(path, src);
}

NamedTensors parse_safetensors(const std::uint8_t* bytes, std::size_t size, const std::string& name) {
  ByteSource src;
  src.size = size;
  src.read = [&](std::uint64_t offset, void* dst, std::size_t n) { std::memcpy(dst, bytes + offset, n); };
  return parse(name, src);
}

}  // namespace fz
