// The "files-floor" baseline beyond the conformance suite: its files are the
// same kind as fileperkey's flat layout (same names, same sizes, one
// directory), its key limits, foreign directories, and every durability mode.
#include "adapters/files_floor_adapter.h"

#include <dirent.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <random>

#include "adapters/registry.h"
#include "core/testing/test_util.h"
#include "engines/fileperkey/transform.h"

namespace kvb {
namespace {

using namespace std::string_literals;  // NOLINT

// Opens `spec` on `dir`; the test stops if that fails.
std::unique_ptr<Adapter> Make(const std::string& spec, const std::string& dir) {
  Result<std::unique_ptr<Adapter>> a = OpenAdapter(spec, dir);
  INFO(spec << " on " << dir << ": " << a.status().ToString());
  REQUIRE(a.ok());
  return std::move(*a);
}

// Regular files directly in `dir` whose names do not start with '.', with
// their sizes; subdirectories are listed with size -1.
std::map<std::string, int64_t> ListEntries(const std::string& dir) {
  std::map<std::string, int64_t> out;
  DIR* d = opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name[0] == '.') continue;
    struct stat st;
    REQUIRE(stat((dir + "/" + name).c_str(), &st) == 0);
    out[name] = S_ISDIR(st.st_mode) ? -1 : static_cast<int64_t>(st.st_size);
  }
  closedir(d);
  return out;
}

TEST_CASE("file names are fileperkey's escaped encoding", "[floor]") {
  std::mt19937_64 rng(6);
  for (int i = 0; i < 2000; i++) {
    std::string key(1 + rng() % kFilesFloorMaxKeySize, '\0');
    for (char& c : key) c = static_cast<char>(rng());
    if (i % 2 == 0) {  // mostly printable, as kvbench keys are
      for (char& c : key) c = static_cast<char>(' ' + (rng() % 95));
    }
    INFO(fileperkey::EscapeKey(key));
    REQUIRE(FilesFloorName(key) == fileperkey::EscapeKey(key));
    CHECK(FilesFloorName(key).size() <= 255);
  }
  CHECK(FilesFloorName(".a.") == "%2Ea.");
  CHECK(FilesFloorName("a/b\0"s) == "a%2Fb%00");
}

TEST_CASE("the same files as fileperkey:transform=flat", "[floor]") {
  testing::TempDir tmp;
  auto floor = Make("files-floor", tmp.Sub("floor"));
  // checksum=off: fileperkey's plain files (by default each carries an 8-byte
  // CRC-32C trailer, which the floor does not write).
  auto fpk = Make("fileperkey:transform=flat,checksum=off", tmp.Sub("fpk"));
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; i++) {
    std::string key(16, '\0');
    for (char& c : key) c = static_cast<char>(rng());
    const std::string value(rng() % 300, static_cast<char>('a' + i % 26));
    REQUIRE_OK(floor->Put(key, value));
    REQUIRE_OK(fpk->Put(key, value));
    if (i % 10 == 0) {
      REQUIRE_OK(floor->Delete(key));
      REQUIRE_OK(fpk->Delete(key));
    }
  }
  REQUIRE_OK(floor->Close());
  REQUIRE_OK(fpk->Close());
  const auto a = ListEntries(tmp.Sub("floor"));
  CHECK(a.size() == 180);
  CHECK(a == ListEntries(tmp.Sub("fpk")));
}

TEST_CASE("files-floor key limits and bad input", "[floor]") {
  testing::TempDir tmp;
  // (An adapter is open from birth: there is no "not open" state to test.)
  auto a = Make("files-floor", tmp.Sub("db"));
  std::string v;
  CHECK(a->Put("", "v").IsInvalidArgument());
  CHECK(a->Get("", &v).IsInvalidArgument());
  const std::string longest(kFilesFloorMaxKeySize, '\xff');
  REQUIRE_OK(a->Put(longest, "max"));
  REQUIRE_OK(a->Get(longest, &v));
  CHECK(v == "max");
  const std::string too_long(kFilesFloorMaxKeySize + 1, 'a');
  CHECK(a->Put(too_long, "v").IsInvalidArgument());
  CHECK(a->Get(too_long, &v).IsInvalidArgument());
  CHECK(a->Delete(too_long).IsInvalidArgument());
  // Path-like keys stay inside the directory.
  for (const std::string key : {"..", ".", "../x", "/etc/passwd", "a/b"}) {
    REQUIRE_OK(a->Put(key, "in"));
    REQUIRE_OK(a->Get(key, &v));
    CHECK(v == "in");
  }
  CHECK(ListEntries(tmp.path()).size() == 1);  // just "db"
  REQUIRE_OK(a->Close());
  // A directory that is not a files-floor store is refused, not taken over.
  std::ofstream(tmp.Sub("foreign-file")) << "x";
  std::string foreign = tmp.Sub("foreign");
  REQUIRE(mkdir(foreign.c_str(), 0755) == 0);
  std::ofstream(foreign + "/README") << "mine";
  CHECK(OpenAdapter("files-floor", foreign).status().IsCorruption());
  CHECK_FALSE(OpenAdapter("files-floor", tmp.Sub("foreign-file")).ok());
}

TEST_CASE("files-floor durability modes round-trip across reopen", "[floor]") {
  testing::TempDir tmp;
  for (const char* mode : {"process", "periodic:20", "sync"}) {
    INFO(mode);
    const std::string dir = tmp.Sub(mode);
    {
      auto a = Make(std::string("files-floor:durability=") + mode, dir);
      for (int i = 0; i < 100; i++)
        REQUIRE_OK(a->Put("k" + std::to_string(i), std::string(i, 'x')));
      REQUIRE_OK(a->Delete("k5"));
      REQUIRE_OK(a->Delete("never-written"));
      REQUIRE_OK(a->Sync());
      REQUIRE_OK(a->Sync());
      REQUIRE_OK(a->Close());
    }
    auto b = Make("files-floor", dir);
    std::string v;
    CHECK(b->Get("k5", &v).IsNotFound());
    REQUIRE_OK(b->Get("k99", &v));
    CHECK(v == std::string(99, 'x'));
    bool found = false;
    REQUIRE_OK(b->Has("k98", &found));
    CHECK(found);
    REQUIRE_OK(b->Has("k5", &found));
    CHECK_FALSE(found);
    REQUIRE_OK(b->Close());
    // Temp files never stay behind after clean writes.
    DIR* d = opendir((dir + "/.floor-tmp").c_str());
    REQUIRE(d != nullptr);
    int entries = 0;
    while (readdir(d) != nullptr) entries++;
    closedir(d);
    CHECK(entries == 2);  // "." and ".."
  }
}

}  // namespace
}  // namespace kvb
