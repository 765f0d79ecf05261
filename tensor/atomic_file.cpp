// tensor/atomic_file.cpp — temporary + fsync + rename, with the temporary removed on failure.
#include "tensor/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace fz {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw FileWriteError("cannot write '" + path + "': " + reason);
}

}  // namespace

void FileSink::write(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(path_, std::string("write failed: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

std::string atomic_temp_path(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

void replace_file_atomically(const std::string& path, const std::function<void(FileSink&)>& write_contents) {
  const std::string tmp = atomic_temp_path(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot create '" + tmp + "': " + std::strerror(errno));
  try {
    FileSink sink(fd, path);
    write_contents(sink);
    if (::fsync(fd) != 0) fail(path, std::string("fsync failed: ") + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    std::remove(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    fail(path, "cannot rename '" + tmp + "' over it: " + std::strerror(err));
  }
}

void replace_file_atomically(const std::string& path, const std::string& contents) {
  replace_file_atomically(path, [&](FileSink& sink) { sink.write(contents); });
}

}  // namespace fz
