// datasets/cifar.hpp — CIFAR-10 and CIFAR-100 binary batches.
//
// CIFAR-10 record: 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B, each 32x32
// row-major), files data_batch_1..5.bin and test_batch.bin. CIFAR-100 record: a coarse label
// byte (20 classes), a fine label byte (100 classes), then the same 3072 pixels; files
// train.bin and test.bin. The pixel layout is already (C, H, W), so records copy straight in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "error.hpp"
#include "image_dataset.hpp"

namespace fz {

enum class CifarKind { Cifar10, Cifar100 };

// Parses a buffer of whole records. For CIFAR-100, `fine_labels` picks the 100 fine classes
// (true) or the 20 coarse ones. Throws DatasetError on an empty buffer, a size that is not a
// whole number of records, or a label out of range (naming the record).
ImageDataset parse_cifar(const std::uint8_t* bytes, std::size_t size, CifarKind kind, const std::string& name,
                         bool fine_labels = true);

// Records in the files of the published datasets: every CIFAR-10 batch holds 10,000 images;
// CIFAR-100's train.bin 50,000 and test.bin 10,000.
constexpr std::size_t kCifar10BatchRecords = 10000;
constexpr std::size_t kCifar100TrainRecords = 50000;
constexpr std::size_t kCifar100TestRecords = 10000;

// One batch file (raw or gzip). With expected_records > 0, a file holding any other number
// of whole records (cut at a record boundary, or with records appended) is refused.
ImageDataset read_cifar_file(const std::string& path, CifarKind kind, bool fine_labels = true,
                             std::size_t expected_records = 0);

// The standard split from a directory: CIFAR-10 train = data_batch_1..5.bin, test =
// test_batch.bin; CIFAR-100 train = train.bin, test = test.bin. The directory may also be
// the parent of the archive's folder (cifar-10-batches-bin / cifar-100-binary). Each file must
// hold the published record count (above) unless the caller gives another (tests do).
ImageDataset load_cifar10(const std::string& dir, bool train, std::size_t records_per_batch = kCifar10BatchRecords);
ImageDataset load_cifar100(const std::string& dir, bool train, bool fine_labels = true,
                           std::size_t records = 0 /* 0: kCifar100TrainRecords / kCifar100TestRecords */);

}  // namespace fz
