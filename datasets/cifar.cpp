// datasets/cifar.cpp — CIFAR binary batch parsing.
#include "datasets/cifar.hpp"

#include <cstring>
#include <sys/stat.h>

#include "datasets/file_bytes.hpp"

namespace fz {

namespace {

constexpr std::size_t kCifarPixels = 3 * 32 * 32;

const char* kCifar10Classes[] = {"airplane", "automobile", "bird", "cat", "deer",
                                 "dog",      "frog",       "horse", "ship", "truck"};

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Finds `file` in dir or in dir/subdir (the layout of the extracted archive).
std::string locate(const std::string& dir, const std::string& subdir, const std::string& file) {
  std::string a = dir + "/" + file;
  if (file_exists(a)) return a;
  std::string b = dir + "/" + subdir + "/" + file;
  if (file_exists(b)) return b;
  throw DatasetError(a, "missing CIFAR file (also looked for " + b + ")");
}

// Concatenates per-file datasets (all 3x32x32).
ImageDataset concat(const std::vector<ImageDataset>& parts) {
  std::size_t n = 0;
  for (const auto& p : parts) n += p.size();
  ImageDataset out;
  out.images = TensorU8::empty({n, 3, 32, 32});
  out.labels.reserve(n);
  std::size_t at = 0;
  for (const auto& p : parts) {
    std::memcpy(out.images.data() + at * kCifarPixels, p.images.data(), p.images.numel());
    at += p.size();
    out.labels.insert(out.labels.end(), p.labels.begin(), p.labels.end());
  }
  if (!parts.empty()) out.class_names = parts[0].class_names;
  return out;
}

}  // namespace

ImageDataset parse_cifar(const std::uint8_t* bytes, std::size_t size, CifarKind kind, const std::string& name,
                         bool fine_labels) {
  const std::size_t label_bytes = kind == CifarKind::Cifar10 ? 1 : 2;
  const std::size_t record = label_bytes + kCifarPixels;
  const char* what = kind == CifarKind::Cifar10 ? "CIFAR-10" : "CIFAR-100";
  if (size == 0) throw DatasetError(name, std::string("empty ") + what + " batch file");
  if (size % record != 0)
    throw DatasetError(name, std::string(what) + " file size " + std::to_string(size) +
                                 " is not a whole number of " + std::to_string(record) + "-byte records (" +
                                 std::to_string(size / record) + " records + " + std::to_string(size % record) +
                                 " bytes: truncated or not a " + what + " batch)");
  const std::size_t n = size / record;
  const int num_classes = kind == CifarKind::Cifar10 ? 10 : (fine_labels ? 100 : 20);
  const std::size_t label_at = kind == CifarKind::Cifar10 ? 0 : (fine_labels ? 1 : 0);
  // Validate every label (and the unused coarse/fine one) before allocating the images.
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* r = bytes + i * record;
    if (r[label_at] >= num_classes)
      throw DatasetError(name, std::string(what) + " record " + std::to_string(i) + " has label " +
                                   std::to_string(r[label_at]) + ", outside [0, " + std::to_string(num_classes) +
                                   ")");
    if (kind == CifarKind::Cifar100) {
      std::size_t other = 1 - label_at;
      int other_classes = fine_labels ? 20 : 100;
      if (r[other] >= other_classes)
        throw DatasetError(name, std::string(what) + " record " + std::to_string(i) + " has " +
                                     (fine_labels ? "coarse" : "fine") + " label " + std::to_string(r[other]) +
                                     ", outside [0, " + std::to_string(other_classes) + ")");
    }
  }
  ImageDataset out;
  out.images = TensorU8::empty({n, 3, 32, 32});
  out.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* r = bytes + i * record;
    out.labels[i] = r[label_at];
    std::memcpy(out.images.data() + i * kCifarPixels, r + label_bytes, kCifarPixels);
  }
  if (kind == CifarKind::Cifar10) out.class_names.assign(std::begin(kCifar10Classes), std::end(kCifar10Classes));
  return out;
}

ImageDataset read_cifar_file(const std::string& path, CifarKind kind, bool fine_labels, std::size_t expected_records) {
  std::vector<std::uint8_t> bytes = read_file_bytes(path);
  const std::size_t record = (kind == CifarKind::Cifar10 ? 1 : 2) + kCifarPixels;
  // A whole number of records is not enough: a copy cut exactly at a record boundary (or
  // with records appended) parses, so the count is checked against the published one.
  if (expected_records && !bytes.empty() && bytes.size() % record == 0 && bytes.size() / record != expected_records)
    throw DatasetError(path, std::string(kind == CifarKind::Cifar10 ? "CIFAR-10" : "CIFAR-100") + " file holds " +
                                 std::to_string(bytes.size() / record) + " records where " +
                                 std::to_string(expected_records) + " are expected (" +
                                 (bytes.size() / record < expected_records ? "truncated" : "extra data appended") +
                                 "; download it again)");
  return parse_cifar(bytes.data(), bytes.size(), kind, path, fine_labels);
}

ImageDataset load_cifar10(const std::string& dir, bool train, std::size_t records_per_batch) {
  std::vector<ImageDataset> parts;
  if (train) {
    for (int b = 1; b <= 5; ++b)
      parts.push_back(read_cifar_file(locate(dir, "cifar-10-batches-bin", "data_batch_" + std::to_string(b) + ".bin"),
                                      CifarKind::Cifar10, true, records_per_batch));
  } else {
    parts.push_back(read_cifar_file(locate(dir, "cifar-10-batches-bin", "test_batch.bin"), CifarKind::Cifar10, true,
                                    records_per_batch));
  }
  return parts.size() == 1 ? parts[0] : concat(parts);
}

ImageDataset load_cifar100(const std::string& dir, bool train, bool fine_labels, std::size_t records) {
  if (records == 0) records = train ? kCifar100TrainRecords : kCifar100TestRecords;
  return read_cifar_file(locate(dir, "cifar-100-binary", train ? "train.bin" : "test.bin"), CifarKind::Cifar100,
                         fine_labels, records);
}

}  // namespace fz
