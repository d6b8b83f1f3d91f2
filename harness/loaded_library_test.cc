// Tests of the assertion detection of loaded libraries, on two fixture shared
// objects built from one source with and without assertions.
#include "harness/loaded_library.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/testing/test_util.h"
#include "harness/context.h"

namespace kvb {
namespace {

std::string Canonical(const std::string& path) {
  char buf[PATH_MAX];
  REQUIRE(realpath(path.c_str(), buf) != nullptr);
  return buf;
}

void* Open(const char* path) {
  void* h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  INFO(dlerror());
  REQUIRE(h != nullptr);
  return h;
}

TEST_CASE("a library built with assert is detected, one with NDEBUG is not") {
  Open(KVB_FIXTURE_ON);
  Open(KVB_FIXTURE_OFF);

  auto on = FindLoadedLibrary("kvb_fixture_assert_on");
  REQUIRE(on.ok());
  CHECK(on->path == Canonical(KVB_FIXTURE_ON));
  CHECK(on->assertions);
  CHECK(on->sync_points);

  auto off = FindLoadedLibrary("kvb_fixture_assert_off");
  REQUIRE(off.ok());
  CHECK(off->path == Canonical(KVB_FIXTURE_OFF));
  CHECK_FALSE(off->assertions);
  CHECK_FALSE(off->sync_points);
}

TEST_CASE("the file check reads the dynamic symbol table") {
  auto on = InspectSharedObject(KVB_FIXTURE_ON);
  REQUIRE(on.ok());
  CHECK(on->assertions);
  CHECK(on->sync_points);
  auto off = InspectSharedObject(KVB_FIXTURE_OFF);
  REQUIRE(off.ok());
  CHECK_FALSE(off->assertions);
  CHECK_FALSE(off->sync_points);
}

// The reference libraries this build links (Debian's, or the release builds
// of scripts/build-release-refs.sh with KVB_REFS_DIR): what the context
// records must be the file the linker chose, and its build as expected —
// Debian's RocksDB and LevelDB have assertions on (and RocksDB its sync
// points), the release builds neither.
struct Reference {
  const char* name;
  const char* symbol;
  const char* lib;  // the library CMake linked
  bool release;     // from KVB_REFS_DIR
};
constexpr Reference kReferences[] = {
#ifdef KVB_TEST_ROCKSDB_LIB
    {"rocksdb", "rocksdb_open", KVB_TEST_ROCKSDB_LIB, KVB_TEST_ROCKSDB_RELEASE},
#endif
#ifdef KVB_TEST_LEVELDB_LIB
    {"leveldb", "leveldb_open", KVB_TEST_LEVELDB_LIB, KVB_TEST_LEVELDB_RELEASE},
#endif
    {nullptr, nullptr, nullptr, false},
};

TEST_CASE("the linked reference libraries are detected as built") {
  if (kReferences[0].name == nullptr) {
    KVB_SKIP("this build links neither RocksDB nor LevelDB");
    return;
  }
  // Already loaded if the adapters are linked in: then the same object.
  for (const Reference& ref : kReferences) {
    if (ref.name != nullptr) Open(ref.lib);
  }
  const nlohmann::json libraries = LinkedLibraries();
  for (const Reference& ref : kReferences) {
    if (ref.name == nullptr) break;
    INFO(ref.name << " " << ref.lib);
    auto lib = FindLoadedLibrary(ref.symbol);
    REQUIRE(lib.ok());
    CHECK(lib->path == Canonical(ref.lib));
    CHECK(lib->assertions == !ref.release);
    if (std::string(ref.name) == "rocksdb")
      CHECK(lib->sync_points == !ref.release);
    bool recorded = false;
    for (const nlohmann::json& e : libraries) {
      if (e.value("name", "") != ref.name) continue;
      recorded = true;
      INFO(e.dump());
      CHECK(e["path"] == lib->path);
      CHECK(e["assertions"] == lib->assertions);
      CHECK(e["sync_points"] == lib->sync_points);
    }
    CHECK(recorded);
  }
}

TEST_CASE("bad input is an error, not a crash") {
  CHECK(FindLoadedLibrary("kvb_no_such_symbol_anywhere").status().code() ==
        StatusCode::kNotFound);
  CHECK(InspectSharedObject("/nonexistent/libnothing.so").status().code() ==
        StatusCode::kIOError);
  testing::TempDir dir;
  std::string text = dir.path() + "/not-elf.so";
  std::ofstream(text) << "not an ELF file at all, just some text\n";
  CHECK(InspectSharedObject(text).status().code() == StatusCode::kCorruption);
  // A real ELF header cut short: the section headers lie past the end.
  std::ifstream in(KVB_FIXTURE_ON, std::ios::binary);
  std::string head(64, '\0');
  in.read(head.data(), 64);
  std::string cut = dir.path() + "/cut.so";
  std::ofstream(cut, std::ios::binary) << head;
  CHECK(InspectSharedObject(cut).status().code() == StatusCode::kCorruption);
}

}  // namespace
}  // namespace kvb
