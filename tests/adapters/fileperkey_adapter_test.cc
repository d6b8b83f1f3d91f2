// The "fileperkey" adapter beyond the shared conformance suite (which runs
// default options only): ordered Scan with index=on, option parsing, durability
// modes, and inspect.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "adapters/registry.h"
#include "core/testing/test_util.h"

namespace kvb {
namespace {

// Opens `spec` on `dir`; the test stops if that fails.
std::unique_ptr<Adapter> Make(const std::string& spec, const std::string& dir) {
  Result<std::unique_ptr<Adapter>> a = OpenAdapter(spec, dir);
  INFO(spec << " on " << dir << ": " << a.status().ToString());
  REQUIRE(a.ok());
  return std::move(*a);
}

TEST_CASE("index=on makes Scan ordered over binary keys", "[adapter]") {
  testing::TempDir tmp;
  for (const char* transform : {"flat", "blocks:2:2", "hash:2:1"}) {
    const std::string spec =
        std::string("fileperkey:index=on,transform=") + transform;
    auto a = Make(spec, tmp.Sub(transform));
    CHECK(a->capabilities().ordered);
    // Known before opening too (the harness decides on scans from it).
    Result<Capabilities> caps = CapabilitiesOf(spec);
    REQUIRE_OK(caps.status());
    CHECK(caps->ordered);
    const std::vector<std::string> keys = {
        std::string("\0", 1), std::string("a\0b", 3), "a", "ab", "b",
        "\xff\xfe",           std::string(700, 'z')};
    for (const auto& k : keys) REQUIRE_OK(a->Put(k, "v:" + k));
    std::vector<std::string> seen;
    REQUIRE_OK(a->Scan("", 100, [&](std::string_view k, std::string_view v) {
      CHECK(v == "v:" + std::string(k));
      seen.emplace_back(k);
      return true;
    }));
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    CHECK(seen == sorted);
    seen.clear();
    REQUIRE_OK(a->Scan("a", 2, [&](std::string_view k, std::string_view) {
      seen.emplace_back(k);
      return true;
    }));
    CHECK(seen == std::vector<std::string>{"a", std::string("a\0b", 3)});
    // The index is rebuilt on reopen.
    REQUIRE_OK(a->Close());
    a = Make(spec, tmp.Sub(transform));
    size_t n = 0;
    REQUIRE_OK(a->Scan("", 100, [&](std::string_view, std::string_view) {
      return ++n < 100;
    }));
    CHECK(n == keys.size());
    REQUIRE_OK(a->Close());
  }
  auto unordered = Make("fileperkey", tmp.Sub("u"));
  CHECK_FALSE(CapabilitiesOf("fileperkey")->ordered);
  CHECK(
      unordered
          ->Scan("", 1, [](std::string_view, std::string_view) { return true; })
          .IsNotSupported());
}

TEST_CASE("options are parsed and checked", "[adapter]") {
  for (const char* good :
       {"fileperkey:cache_mb=4,compression=zstd,level=5",
        "fileperkey:durability=periodic:100", "fileperkey:durability=sync", "fileperkey:transform=blocks:2:2",
        "fileperkey:checksum=off", "fileperkey:checksum=on",
        "fileperkey:checksum=default",
        "fileperkey:checksum=off,compression=gzip"}) {
    INFO(good);
    CHECK(CheckAdapterSpec(good).ok());
  }
  for (const char* bad :
       {"fileperkey:transform=tree", "fileperkey:compression=lz4",
        "fileperkey:cache_mb=-1", "fileperkey:index=maybe",
        "fileperkey:durability=later", "fileperkey:nope=1",
        "fileperkey:sync=1", "fileperkey:durability=memory",
        "fileperkey:durability=none",
        "fileperkey:checksum=maybe",
        "fileperkey:checksum=on,compression=zstd"}) {
    INFO(bad);
    CHECK(CheckAdapterSpec(bad).IsInvalidArgument());
  }
}

TEST_CASE("every durability mode and codec round-trips across reopen",
          "[adapter]") {
  testing::TempDir tmp;
  int n = 0;
  for (const char* spec :
       {"fileperkey:durability=process,compression=gzip",
        "fileperkey:durability=periodic:10,cache_mb=1",
        "fileperkey:durability=sync,compression=zstd,cache_mb=1"}) {
    INFO(spec);
    const std::string dir = tmp.Sub(std::to_string(n++));
    auto a = Make(spec, dir);
    for (int i = 0; i < 50; i++) {
      REQUIRE_OK(a->Put(std::to_string(i),
                        std::string(static_cast<size_t>(i) * 10, 'x')));
    }
    REQUIRE_OK(a->Delete("7"));
    REQUIRE_OK(a->Delete("never-there"));
    REQUIRE_OK(a->Sync());
    REQUIRE_OK(a->Close());
    a = Make(spec, dir);
    std::string v;
    for (int i = 0; i < 50; i++) {
      Status s = a->Get(std::to_string(i), &v);
      if (i == 7) {
        CHECK(s.IsNotFound());
        continue;
      }
      REQUIRE_OK(s);
      CHECK(v == std::string(static_cast<size_t>(i) * 10, 'x'));
    }
    REQUIRE_OK(a->Close());
    auto bytes = a->BytesOnDisk();
    REQUIRE(bytes.ok());
    CHECK(*bytes >= 49 * 512);  // at least a block per key file
  }
}

TEST_CASE("a directory of another engine is Corruption", "[adapter]") {
  testing::TempDir tmp;
  std::ofstream(tmp.Sub("CURRENT")) << "MANIFEST-000001\n";
  CHECK(OpenAdapter("fileperkey", tmp.path()).status().IsCorruption());
}

TEST_CASE("inspect reports counts and catches foreign files", "[adapter]") {
  testing::TempDir tmp;
  {
    auto a = Make("fileperkey:transform=blocks:1:1", tmp.path());
    REQUIRE_OK(a->Put("alpha", "1"));
    REQUIRE_OK(a->Put(std::string("b\0", 2), "2"));
    REQUIRE_OK(a->Close());
  }
  const AdapterInfo* info = FindAdapter("fileperkey");
  REQUIRE(info != nullptr);
  REQUIRE(info->inspect);
  std::ostringstream out;
  REQUIRE_OK(info->inspect(tmp.path(), true, out));
  CHECK(out.str().find("keys: 2\n") != std::string::npos);
  CHECK(out.str().find("key: alpha\n") != std::string::npos);
  CHECK(out.str().find("key: b%00\n") != std::string::npos);
  CHECK(out.str().find("status: OK") != std::string::npos);
  // A file in the wrong bucket is not a key of this store.
  std::ofstream(tmp.Sub("a/zebra")) << "misplaced";
  std::ostringstream bad;
  CHECK(info->inspect(tmp.path(), false, bad).IsCorruption());
  CHECK(bad.str().find("files that are not keys: 1") != std::string::npos);
  std::ostringstream none;
  CHECK(info->inspect(tmp.Sub("missing"), false, none).IsNotFound());
}

std::string FileContents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("checksum=off keeps plain files, the default adds the trailer",
          "[adapter][checksum]") {
  testing::TempDir tmp;
  {
    auto off = Make("fileperkey:transform=flat,checksum=off", tmp.Sub("off"));
    REQUIRE_OK(off->Put("k", "plain value"));
    REQUIRE_OK(off->Close());
  }
  CHECK(FileContents(tmp.Sub("off/k")) == "plain value");
  {
    auto on = Make("fileperkey:transform=flat", tmp.Sub("on"));
    REQUIRE_OK(on->Put("k", "framed value"));
    REQUIRE_OK(on->Close());
  }
  const std::string framed = FileContents(tmp.Sub("on/k"));
  REQUIRE(framed.size() == 12 + 8);
  CHECK(framed.substr(0, 12) == "framed value");
  CHECK(framed.substr(16) == std::string("\xfb\x66\x6b\x01", 4));
  // A reopen that forces the other setting is refused; the store is intact.
  CHECK(OpenAdapter("fileperkey:transform=flat,checksum=off", tmp.Sub("on"))
            .status()
            .IsInvalidArgument());
  CHECK(OpenAdapter("fileperkey:transform=flat,checksum=on", tmp.Sub("off"))
            .status()
            .IsInvalidArgument());
  // A flipped byte: Get is Corruption, inspect reports it.
  std::string flipped = framed;
  flipped[3] ^= 0x20;
  std::ofstream(tmp.Sub("on/k"), std::ios::binary | std::ios::trunc) << flipped;
  auto on = Make("fileperkey:transform=flat", tmp.Sub("on"));
  std::string v;
  CHECK(on->Get("k", &v).IsCorruption());
  REQUIRE_OK(on->Close());
  const AdapterInfo* info = FindAdapter("fileperkey");
  REQUIRE(info != nullptr);
  std::ostringstream out;
  CHECK(info->inspect(tmp.Sub("on"), false, out).IsCorruption());
  CHECK(out.str().find("checksum=crc32c") != std::string::npos);
  CHECK(out.str().find("values failing their checksum: 1") !=
        std::string::npos);
  CHECK(out.str().find("problem: bad value " + tmp.Sub("on/k")) !=
        std::string::npos);
  CHECK(out.str().find("status: CORRUPT") != std::string::npos);
}

}  // namespace
}  // namespace kvb
