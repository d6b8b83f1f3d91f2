// The registry's parsing and checking: spec strings, spec lists, names and
// options.
#include "adapters/registry.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/testing/test_util.h"

namespace kvb {
namespace {

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

TEST_CASE("ParseAdapterSpec reads a bare name", "[registry]") {
  Result<AdapterSpec> spec = ParseAdapterSpec("rocksdb");
  REQUIRE_OK(spec.status());
  CHECK(spec->name == "rocksdb");
  CHECK(spec->options.empty());
  CHECK(spec->ToString() == "rocksdb");
}

TEST_CASE("ParseAdapterSpec reads options and trims blanks", "[registry]") {
  Result<AdapterSpec> spec =
      ParseAdapterSpec(" rocksdb: cache_mb=256 , bloom_bits=10 ");
  REQUIRE_OK(spec.status());
  CHECK(spec->name == "rocksdb");
  REQUIRE(spec->options.size() == 2);
  CHECK(spec->options.at("cache_mb") == "256");
  CHECK(spec->options.at("bloom_bits") == "10");
  // Keys come back sorted.
  CHECK(spec->ToString() == "rocksdb:bloom_bits=10,cache_mb=256");
}

TEST_CASE("ParseAdapterSpec round-trips through ToString", "[registry]") {
  for (const char* text :
       {"null", "memory:shards=8", "lmdb:durability=sync,map_mb=16",
        "sqlite:a=,b=x=y"}) {
    Result<AdapterSpec> spec = ParseAdapterSpec(text);
    REQUIRE_OK(spec.status());
    Result<AdapterSpec> again = ParseAdapterSpec(spec->ToString());
    REQUIRE_OK(again.status());
    CHECK(again->name == spec->name);
    CHECK(again->options == spec->options);
  }
  // The value is everything after the first '='.
  CHECK(ParseAdapterSpec("sqlite:b=x=y")->options.at("b") == "x=y");
}

TEST_CASE("ParseAdapterSpec rejects malformed specs", "[registry]") {
  for (const char* text :
       {"", ":a=1", "rocksdb:cache_mb", "rocksdb:=5", "rocksdb:a=1,,b=2",
        "RocksDB", "rocks db", "rocksdb:a=1,a=2"}) {
    INFO(text);
    Result<AdapterSpec> spec = ParseAdapterSpec(text);
    REQUIRE_FALSE(spec.ok());
    CHECK(spec.status().IsInvalidArgument());
  }
  CHECK(Contains(ParseAdapterSpec("rocksdb:cache_mb").status().message(),
                 "cache_mb"));
  CHECK(Contains(ParseAdapterSpec("rocksdb:a=1,a=2").status().message(),
                 "twice"));
}

TEST_CASE("An empty option list after the colon is just the name",
          "[registry]") {
  Result<AdapterSpec> spec = ParseAdapterSpec("lmdb:");
  REQUIRE_OK(spec.status());
  CHECK(spec->name == "lmdb");
  CHECK(spec->options.empty());
}

TEST_CASE("SplitSpecList splits where a new spec starts", "[registry]") {
  using V = std::vector<std::string>;
  CHECK(SplitSpecList("rocksdb:a=1,b=2,lmdb") == V{"rocksdb:a=1,b=2", "lmdb"});
  CHECK(SplitSpecList("rocksdb:a=1,lmdb:map_mb=8,c=3,null") ==
        V{"rocksdb:a=1", "lmdb:map_mb=8,c=3", "null"});
  CHECK(SplitSpecList("null, memory ,") == V{"null", "memory"});
  CHECK(SplitSpecList("").empty());
  CHECK(SplitSpecList("single") == V{"single"});
}

TEST_CASE("AllAdapters is sorted, unique and lists the reference DBs",
          "[registry]") {
  const std::vector<AdapterInfo>& all = AllAdapters();
  REQUIRE(all.size() >= 9);
  for (size_t i = 1; i < all.size(); i++) CHECK(all[i - 1].name < all[i].name);
  for (const char* name : {"null", "memory", "rocksdb", "leveldb", "lmdb",
                           "sqlite", "linhash", "typedmap", "fileperkey"}) {
    INFO(name);
    const AdapterInfo* info = FindAdapter(name);
    REQUIRE(info != nullptr);
    CHECK_FALSE(info->description.empty());
    CHECK(info->built == static_cast<bool>(info->open));
    CHECK(info->built == static_cast<bool>(info->check));
  }
  CHECK(FindAdapter("null")->built);
  CHECK(FindAdapter("memory")->built);
  CHECK(FindAdapter("nope") == nullptr);
}

TEST_CASE("Declared capabilities match the adapters'", "[registry]") {
  for (const AdapterInfo& info : AllAdapters()) {
    if (!info.built) continue;
    INFO(info.name);
    testing::TempDir dir;
    Result<std::unique_ptr<Adapter>> a = OpenAdapter(info.name, dir.Sub("db"));
    REQUIRE_OK(a.status());
    CHECK((*a)->name() == info.name);
    Capabilities c = (*a)->capabilities();
    CHECK(c.persistent == info.capabilities.persistent);
    CHECK(c.ordered == info.capabilities.ordered);
    CHECK(c.batch == info.capabilities.batch);
    CHECK(c.locks_directory == info.capabilities.locks_directory);
    Result<Capabilities> before = CapabilitiesOf(info.name);
    REQUIRE_OK(before.status());
    CHECK(before->ordered == c.ordered);
    CHECK(before->persistent == c.persistent);
    CHECK(before->max_key_size == c.max_key_size);
  }
}

TEST_CASE("CheckAdapterSpec names the known adapters for an unknown one",
          "[registry]") {
  Status a = CheckAdapterSpec("rocksdbx");
  REQUIRE_FALSE(a.ok());
  CHECK(a.IsInvalidArgument());
  std::string msg(a.message());
  CHECK(Contains(msg, "unknown adapter 'rocksdbx'"));
  for (const AdapterInfo& info : AllAdapters()) CHECK(Contains(msg, info.name));
}

TEST_CASE("CheckAdapterSpec lists the accepted options for an unknown one",
          "[registry]") {
  Status a = CheckAdapterSpec("memory:shard=4");
  REQUIRE_FALSE(a.ok());
  CHECK(a.IsInvalidArgument());
  std::string msg(a.message());
  CHECK(Contains(msg, "'shard'"));
  CHECK(Contains(msg, "durability, shards"));
}

TEST_CASE("CheckAdapterSpec rejects bad option values with the option's name",
          "[registry]") {
  Status a = CheckAdapterSpec("memory:shards=x");
  REQUIRE_FALSE(a.ok());
  CHECK(a.IsInvalidArgument());
  CHECK(Contains(a.message(), "option shards: expected an integer, got 'x'"));
  // OpenAdapter gives the same message, and creates no directory.
  testing::TempDir dir;
  Result<std::unique_ptr<Adapter>> opened =
      OpenAdapter("memory:shards=x", dir.Sub("db"));
  CHECK(Contains(opened.status().message(),
                 "option shards: expected an integer, got 'x'"));
  CHECK_FALSE(std::filesystem::exists(dir.Sub("db")));

  a = CheckAdapterSpec("memory:shards=0");
  REQUIRE_FALSE(a.ok());
  CHECK(Contains(a.message(), "out of range"));

  a = CheckAdapterSpec("null:durability=fast");
  REQUIRE_FALSE(a.ok());
  CHECK(a.IsInvalidArgument());
  CHECK(Contains(a.message(), "durability"));

  a = CheckAdapterSpec("null:delay_ns=-1");
  CHECK(a.IsInvalidArgument());
}

TEST_CASE("CheckAdapterSpec accepts every declared option at its default",
          "[registry]") {
  for (const AdapterInfo& info : AllAdapters()) {
    if (!info.built) continue;
    AdapterSpec spec{info.name,
                     {{"durability",
                       info.capabilities.persistent ? "sync" : "memory"}}};
    for (const OptionSpec& o : info.options)
      spec.options[o.name] = o.default_value;
    INFO(spec.ToString());
    CHECK_OK(CheckAdapterSpec(spec.ToString()));
  }
}

TEST_CASE("CheckAdapterSpec says which package a missing adapter needs",
          "[registry]") {
  for (const AdapterInfo& info : AllAdapters()) {
    if (info.built) continue;
    INFO(info.name);
    Status a = CheckAdapterSpec(info.name);
    REQUIRE_FALSE(a.ok());
    CHECK(a.IsNotSupported());
    CHECK(Contains(a.message(), "was not built"));
    CHECK((Contains(a.message(), "install") ||
           Contains(a.message(), "configure")));
  }
}

TEST_CASE("The null adapter's delay_ns option makes operations take that long",
          "[registry]") {
  // Not a timing assertion on the machine: the spin waits at least delay_ns by
  // construction, so a lower bound is exact.
  testing::TempDir dir;
  Result<std::unique_ptr<Adapter>> a =
      OpenAdapter("null:delay_ns=2000000", dir.path());
  REQUIRE_OK(a.status());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; i++) REQUIRE_OK((*a)->Put("k", "v"));
  CHECK(std::chrono::steady_clock::now() - start >=
        std::chrono::milliseconds(10));
  std::string v;
  CHECK((*a)->Get("k", &v).IsNotFound());
  REQUIRE_OK((*a)->Close());
}

// st_blocks * 512 of one path (lstat: a symlink is its own small entry).
uint64_t BlocksOf(const std::string& path) {
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST_CASE("AllocatedBytesUnder never counts what a planted symlink points at",
          "[registry]") {
  testing::TempDir dir;
  const std::string db = dir.Sub("db"), outside = dir.Sub("outside");
  std::filesystem::create_directories(db);
  std::filesystem::create_directories(outside + "/tree");
  std::ofstream(db + "/LOG") << std::string(8192, 'l');
  std::ofstream(outside + "/big") << std::string(1 << 20, 'b');
  std::ofstream(outside + "/tree/big") << std::string(1 << 20, 'b');
  // Names the info-log filter accepts, and a directory: all symlinks out.
  std::filesystem::create_symlink(outside + "/big", db + "/LOG.old.1");
  std::filesystem::create_directory_symlink(outside + "/tree", db + "/sub");
  auto logs = [](std::string_view name) { return name.rfind("LOG", 0) == 0; };

  Result<uint64_t> only_logs = AllocatedBytesUnder(db, logs);
  REQUIRE_OK(only_logs.status());
  CHECK(*only_logs == BlocksOf(db + "/LOG"));  // the real file alone
  Result<uint64_t> all = AllocatedBytesUnder(db);
  REQUIRE_OK(all.status());
  CHECK(*all == BlocksOf(db + "/LOG"));  // links are neither files nor dirs
  CHECK(*all < (1 << 20));
  // Nothing outside was touched.
  CHECK(std::filesystem::file_size(outside + "/big") == (1 << 20));
  CHECK(std::filesystem::file_size(outside + "/tree/big") == (1 << 20));
}

}  // namespace
}  // namespace kvb
