// Behaviour specific to one reference adapter, beyond the shared conformance
// suite: LMDB's map growth and key limit, SQLite's refusal of a foreign file,
// the spec options each one declares.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/registry.h"
#include "core/testing/test_util.h"

namespace kvb {
namespace {

// prefix + i, written out to dodge g++ 12's false -Wrestrict on Key("lit", i).
std::string Key(std::string_view prefix, int i) {
  std::string k(prefix);
  k += std::to_string(i);
  return k;
}

// Opens `spec` on `dir`; the test stops if that fails.
std::unique_ptr<Adapter> Make(const std::string& spec, const std::string& dir) {
  Result<std::unique_ptr<Adapter>> a = OpenAdapter(spec, dir);
  INFO(spec << " on " << dir << ": " << a.status().ToString());
  REQUIRE(a.ok());
  return std::move(*a);
}

#ifdef KVB_HAVE_LMDB
TEST_CASE("lmdb grows its map on demand and stops at max_map_mb with NoSpace",
          "[lmdb]") {
  testing::TempDir dir;
  auto a = Make("lmdb:map_mb=1,max_map_mb=4", dir.Sub("db"));
  std::string value(64 << 10, 'v');
  // 2 MiB of values: more than the initial 1 MiB map, less than the 4 MiB cap.
  for (int i = 0; i < 32; i++) REQUIRE_OK(a->Put(Key("grow", i), value));
  CHECK(a->Stats()["map_grows"] >= 1);
  // Far past the cap: NoSpace, never a crash.
  Status s;
  int written = 0;
  for (int i = 0; i < 200 && s.ok(); i++, written++) {
    s = a->Put(Key("full", i), value);
  }
  INFO(s.ToString());
  CHECK(s.IsNoSpace());
  // Everything acknowledged before is intact, and the map still reads and
  // deletes.
  std::string got;
  REQUIRE_OK(a->Get("grow31", &got));
  CHECK(got == value);
  REQUIRE_OK(a->Delete("grow0"));
  REQUIRE_OK(a->Close());
  auto b = Make("lmdb:map_mb=1,max_map_mb=4", dir.Sub("db"));
  REQUIRE_OK(b->Get("full0", &got));
  CHECK(b->Get("grow0", &got).IsNotFound());
  REQUIRE_OK(b->Close());
}

TEST_CASE("lmdb refuses keys over its limit and empty keys on Put only",
          "[lmdb]") {
  testing::TempDir dir;
  auto a = Make("lmdb", dir.Sub("db"));
  size_t max = a->capabilities().max_key_size;
  REQUIRE(max == 511);
  CHECK(a->Put(std::string(max + 1, 'k'), "v").IsInvalidArgument());
  CHECK(a->Put("", "v").IsInvalidArgument());
  std::string got;
  CHECK(a->Get(std::string(max + 1, 'k'), &got).IsNotFound());
  REQUIRE_OK(a->Delete(std::string(max + 1, 'k')));
  std::vector<KeyValue> batch = {{"ok", "1"}, {"", "2"}};
  CHECK(a->WriteBatch(batch).IsInvalidArgument());
  CHECK(a->Get("ok", &got).IsNotFound());  // the batch is all or nothing
  REQUIRE_OK(a->Close());
}

TEST_CASE("lmdb reads stay correct while the map grows under them", "[lmdb]") {
  // Reads take no process-wide lock: the resize waits for active readers and
  // readers step back during it. Readers check every value while a writer
  // forces several resizes.
  testing::TempDir dir;
  auto a = Make("lmdb:map_mb=1,max_map_mb=64", dir.Sub("db"));
  for (int i = 0; i < 100; i++) REQUIRE_OK(a->Put(Key("r", i), Key("v", i)));
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  auto reader = [&](int t) {
    std::string got;
    for (int n = 0; !done.load() || n < 100; n++) {
      const int i = (n * 7 + t) % 100;
      if (!a->Get(Key("r", i), &got).ok() || got != Key("v", i)) bad++;
      reads++;
    }
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; t++) readers.emplace_back(reader, t);
  const std::string value(64 << 10, 'w');
  Status s;
  for (int i = 0; i < 400 && s.ok(); i++) s = a->Put(Key("grow", i), value);
  done = true;
  for (std::thread& t : readers) t.join();
  REQUIRE_OK(s);  // 25 MiB of values fit in the 64 MiB cap
  CHECK(a->Stats()["map_grows"] >= 4);
  CHECK(bad == 0);
  CHECK(reads > 0);
  REQUIRE_OK(a->Close());
}

TEST_CASE("lmdb rejects max_map_mb below map_mb", "[lmdb]") {
  CHECK(CheckAdapterSpec("lmdb:map_mb=64,max_map_mb=8").IsInvalidArgument());
}
#endif  // KVB_HAVE_LMDB

#ifdef KVB_HAVE_SQLITE
TEST_CASE("sqlite refuses a file that is not a database with Corruption",
          "[sqlite]") {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("db"));
  std::ofstream(dir.Sub("db/kv.sqlite")) << std::string(8192, 'x');
  Status s = OpenAdapter("sqlite", dir.Sub("db")).status();
  INFO(s.ToString());
  CHECK(s.IsCorruption());
}

TEST_CASE("sqlite rejects a page size that is not a power of two", "[sqlite]") {
  CHECK(CheckAdapterSpec("sqlite:page_size=3000").IsInvalidArgument());
  CHECK_OK(CheckAdapterSpec("sqlite:page_size=8192,mmap_mb=64"));
}
#endif  // KVB_HAVE_SQLITE

#ifdef KVB_HAVE_ROCKSDB
TEST_CASE("rocksdb checks compression names", "[rocksdb]") {
  Status a = CheckAdapterSpec("rocksdb:compression=brotli");
  REQUIRE_FALSE(a.ok());
  CHECK(a.IsInvalidArgument());
  CHECK(a.message().find("brotli") != std::string_view::npos);
}

TEST_CASE("rocksdb checks perf_level names and works at each level",
          "[rocksdb]") {
  Status bad = CheckAdapterSpec("rocksdb:perf_level=all");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.IsInvalidArgument());
  CHECK(bad.message().find("perf_level") != std::string_view::npos);
  for (const char* level : {"disable", "count", "time"}) {
    testing::TempDir dir;
    auto a = Make(std::string("rocksdb:perf_level=") + level, dir.Sub("db"));
    REQUIRE_OK(a->Put("k", level));
    std::string v;
    REQUIRE_OK(a->Get("k", &v));
    CHECK(v == level);
    REQUIRE_OK(a->Close());
  }
}

TEST_CASE("rocksdb reports engine statistics", "[rocksdb]") {
  testing::TempDir dir;
  auto a = Make("rocksdb", dir.Sub("db"));
  for (int i = 0; i < 100; i++) REQUIRE_OK(a->Put(Key("k", i), "v"));
  std::map<std::string, double> stats = a->Stats();
  CHECK(stats.count("estimate-num-keys") == 1);
  CHECK(stats["estimate-num-keys"] > 0);
  REQUIRE_OK(a->Close());
}
#endif  // KVB_HAVE_ROCKSDB

#ifdef KVB_HAVE_LEVELDB
TEST_CASE("leveldb takes only none or snappy compression", "[leveldb]") {
  CHECK(CheckAdapterSpec("leveldb:compression=zstd").IsInvalidArgument());
  CHECK_OK(CheckAdapterSpec("leveldb:compression=snappy"));
}
#endif  // KVB_HAVE_LEVELDB

TEST_CASE("durability=periodic:MS syncs in the background", "[periodic]") {
  std::vector<std::pair<std::string, std::string>>
      cases;  // spec, name of the Stats counter
#ifdef KVB_HAVE_ROCKSDB
  cases.emplace_back("rocksdb:durability=periodic:1", "periodic-syncs");
#endif
#ifdef KVB_HAVE_LEVELDB
  cases.emplace_back("leveldb:durability=periodic:1", "periodic-syncs");
#endif
#ifdef KVB_HAVE_LMDB
  cases.emplace_back("lmdb:durability=periodic:1", "periodic_syncs");
#endif
#ifdef KVB_HAVE_SQLITE
  cases.emplace_back("sqlite:durability=periodic:1", "periodic_syncs");
#endif
  for (const auto& [spec, counter] : cases) {
    INFO(spec);
    testing::TempDir dir;
    auto a = Make(spec, dir.Sub("db"));
    REQUIRE_OK(a->Put("k", "v"));
    // A liveness check, not a timing one: wait (up to a generous bound) for the
    // first sync.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (a->Stats()[counter] < 1 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK(a->Stats()[counter] >= 1);
    REQUIRE_OK(a->Close());
  }
}

TEST_CASE("memory reports its key count", "[memory]") {
  testing::TempDir dir;
  auto a = Make("memory:shards=4", dir.Sub("db"));
  REQUIRE_OK(a->Put("a", "1"));
  REQUIRE_OK(a->Put("b", "2"));
  REQUIRE_OK(a->Put("a", "3"));
  CHECK(a->Stats()["keys"] == 2);
  REQUIRE_OK(a->Close());
  // Close drops everything (memory's Stats, unlike other adapters', still
  // answers after Close).
  CHECK(a->Stats()["keys"] == 0);
}

}  // namespace
}  // namespace kvb
