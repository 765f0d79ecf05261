// tests/tensor/test_atomic_file.cpp — replace_file_atomically: all or nothing.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include "tensor/atomic_file.hpp"

namespace fs = std::filesystem;
using namespace fz;

namespace {

std::string scratch_path(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("fz_atomic_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("atomic file: the new contents replace the old, and no temporary is left", "[tensor][atomic_file]") {
  const std::string path = scratch_path("replace.txt");
  replace_file_atomically(path, "old contents\n");
  REQUIRE(slurp(path) == "old contents\n");
  replace_file_atomically(path, [](FileSink& out) {
    out.write("new ");
    const char bytes[3] = {'a', '\0', 'b'};  // binary data, an embedded NUL included
    out.write(bytes, 3);
  });
  CHECK(slurp(path) == std::string("new a\0b", 7));
  CHECK_FALSE(fs::exists(atomic_temp_path(path)));
  CHECK(atomic_temp_path(path) == path + ".tmp." + std::to_string(::getpid()));
}

TEST_CASE("atomic file: a writer that fails halfway leaves the old file whole and removes its temporary",
          "[tensor][atomic_file]") {
  const std::string path = scratch_path("fail.txt");
  replace_file_atomically(path, "intact\n");
  REQUIRE_THROWS_WITH(replace_file_atomically(path, [](FileSink& out) {
                        out.write("half of the new con");
                        throw std::runtime_error("writer gave up");
                      }),
                      "writer gave up");
  CHECK(slurp(path) == "intact\n");
  CHECK_FALSE(fs::exists(atomic_temp_path(path)));
}

TEST_CASE("atomic file: an unwritable folder is a FileWriteError naming the file", "[tensor][atomic_file]") {
  try {
    replace_file_atomically("/nonexistent-dir/x.txt", "x");
    FAIL("expected a FileWriteError");
  } catch (const FileWriteError& e) {
    CHECK(std::string(e.what()).find("cannot write '/nonexistent-dir/x.txt'") != std::string::npos);
  }
}
