// tensor/atomic_file.hpp — replacing a file all at once: a reader (or a run resumed after a
// kill) sees either the old contents or the whole new contents, never a part.
//
// The bytes go to a temporary beside the target, "<path>.tmp.<pid>" (per process, so two
// writers never share one; cli/run_folder.cpp removes leftovers of killed runs), are fsync'ed,
// and the temporary is renamed over the target. One mechanism for every file a run rewrites:
// checkpoints (tensor/safetensors.cpp), config.json (cli/run_config.cpp), metrics.csv trimmed
// on --resume (cli/train.cpp).
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>

namespace fz {

// Thrown with "cannot write '<path>': <reason>" (create, write, fsync or rename failed).
class FileWriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where replace_file_atomically's callback writes the new contents.
class FileSink {
 public:
  // Writes all n bytes (retrying short writes and EINTR); throws FileWriteError.
  void write(const void* data, std::size_t n);
  void write(const std::string& text) { write(text.data(), text.size()); }

 private:
  friend void replace_file_atomically(const std::string&, const std::function<void(FileSink&)>&);
  FileSink(int fd, const std::string& path) : fd_(fd), path_(path) {}
  int fd_;
  const std::string& path_;
};

// The temporary replace_file_atomically writes for `path` in this process.
std::string atomic_temp_path(const std::string& path);

// Calls write_contents with a sink on the temporary, then fsyncs and renames it over `path`.
// On any exception (the callback's own included) the temporary is removed and the exception
// propagates; `path` is untouched.
void replace_file_atomically(const std::string& path, const std::function<void(FileSink&)>& write_contents);
void replace_file_atomically(const std::string& path, const std::string& contents);

}  // namespace fz
