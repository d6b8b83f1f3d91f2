// Tests of the assertion detection of loaded libraries, on two fixture shared
// objects built from one source with and without assertions.
#include "harness/loaded_library.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "core/testing/test_util.h"

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

  auto off = FindLoadedLibrary("kvb_fixture_assert_off");
  REQUIRE(off.ok());
  CHECK(off->path == Canonical(KVB_FIXTURE_OFF));
  CHECK_FALSE(off->assertions);
}

TEST_CASE("the file check reads the dynamic symbol table") {
  auto on = ImportsAssertFail(KVB_FIXTURE_ON);
  REQUIRE(on.ok());
  CHECK(*on);
  auto off = ImportsAssertFail(KVB_FIXTURE_OFF);
  REQUIRE(off.ok());
  CHECK_FALSE(*off);
}

TEST_CASE("bad input is an error, not a crash") {
  CHECK(FindLoadedLibrary("kvb_no_such_symbol_anywhere").status().code() ==
        StatusCode::kNotFound);
  CHECK(ImportsAssertFail("/nonexistent/libnothing.so").status().code() ==
        StatusCode::kIOError);
  testing::TempDir dir;
  std::string text = dir.path() + "/not-elf.so";
  std::ofstream(text) << "not an ELF file at all, just some text\n";
  CHECK(ImportsAssertFail(text).status().code() == StatusCode::kCorruption);
  // A real ELF header cut short: the section headers lie past the end.
  std::ifstream in(KVB_FIXTURE_ON, std::ios::binary);
  std::string head(64, '\0');
  in.read(head.data(), 64);
  std::string cut = dir.path() + "/cut.so";
  std::ofstream(cut, std::ios::binary) << head;
  CHECK(ImportsAssertFail(cut).status().code() == StatusCode::kCorruption);
}

}  // namespace
}  // namespace kvb
