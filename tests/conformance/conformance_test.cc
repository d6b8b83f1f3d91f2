// One conformance suite for every adapter this build contains.
//
// Each TEST_CASE runs once per built adapter (GENERATE over AllAdapters()), so
// a new adapter is tested by registering it: no test code to add. What a case
// expects depends only on the adapter's declared capabilities():
//   persistent      -> data survives Close and a new OpenAdapter, and
//                      BytesOnDisk() > 0 afterwards;
//   ordered         -> Scan returns byte order; otherwise Scan is NotSupported;
//   locks_directory -> a second OpenAdapter of the directory is Busy;
//   max_key_size / max_value_size -> larger keys/values are InvalidArgument,
//                      not a crash.
// The null adapter stores nothing: it runs every case for crashes, but its
// values are not checked (it declares persistent=false and every Get is
// NotFound).
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/registry.h"
#include "core/testing/test_util.h"

namespace kvb {
namespace {

#ifdef KVB_SANITIZED
constexpr size_t kBigValue = 4 << 20;
constexpr int kOpsPerThread = 60;
#else
constexpr size_t kBigValue = 16 << 20;
constexpr int kOpsPerThread = 200;
#endif
constexpr size_t kBigKey = 64 << 10;
constexpr int kThreads = 8;

std::vector<std::string> BuiltAdapters() {
  std::vector<std::string> names;
  for (const AdapterInfo& info : AllAdapters()) {
    if (info.built) names.push_back(info.name);
  }
  return names;
}

// Opens `spec` on `dir`; the test stops if that fails.
std::unique_ptr<Adapter> Make(const std::string& spec, const std::string& dir) {
  Result<std::unique_ptr<Adapter>> a = OpenAdapter(spec, dir);
  INFO(spec << " on " << dir << ": " << a.status().ToString());
  REQUIRE(a.ok());
  return std::move(*a);
}

// Whether Get results can be checked: everything but the null adapter stores
// values.
bool StoresValues(const std::string& name) { return name != "null"; }

void RequireValue(Adapter& a, std::string_view key, std::string_view want) {
  std::string got = "stale";
  Status s = a.Get(key, &got);
  INFO("key of " << key.size() << " bytes: " << s.ToString());
  REQUIRE(s.ok());
  REQUIRE(got.size() == want.size());
  REQUIRE(got == want);
}

void RequireMissing(Adapter& a, std::string_view key) {
  std::string got;
  Status s = a.Get(key, &got);
  INFO(s.ToString());
  REQUIRE(s.IsNotFound());
  bool found = true;
  REQUIRE_OK(a.Has(key, &found));
  REQUIRE_FALSE(found);
}

// prefix + decimal i. (Written out because g++ 12 warns falsely, -Wrestrict, on
// Key("literal", i): GCC bug 105651.)
std::string Key(std::string_view prefix, uint64_t i) {
  std::string k(prefix);
  k += std::to_string(i);
  return k;
}

// A value that names its key and version, so any read can be checked.
std::string ValueFor(std::string_view key, int version, size_t pad = 20) {
  std::string v = std::string(key) + "#" + std::to_string(version) + "#";
  v.append(pad, static_cast<char>('a' + version % 26));
  return v;
}

// Puts prefix0 .. prefix{n-1}, key i holding ValueFor(key, i, pad).
void PutNumbered(Adapter& a, std::string_view prefix, int n, size_t pad) {
  for (int i = 0; i < n; i++) {
    std::string k = Key(prefix, i);
    REQUIRE_OK(a.Put(k, ValueFor(k, i, pad)));
  }
}

// Requires what PutNumbered wrote, but key `deleted`, which must be missing.
void RequireNumbered(Adapter& a, std::string_view prefix, int n, size_t pad,
                     int deleted) {
  for (int i = 0; i < n; i++) {
    std::string k = Key(prefix, i);
    if (i == deleted) {
      RequireMissing(a, k);
    } else {
      RequireValue(a, k, ValueFor(k, i, pad));
    }
  }
}

#define FOR_EACH_ADAPTER()                                        \
  const std::string name = GENERATE(from_range(BuiltAdapters())); \
  CAPTURE(name);                                                  \
  const Capabilities caps = FindAdapter(name)->capabilities;      \
  const bool check = StoresValues(name);                          \
  (void)caps;                                                     \
  (void)check

TEST_CASE("put, get, overwrite, delete, has", "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));
  REQUIRE_OK(a->Put("alpha", "1"));
  REQUIRE_OK(a->Put("beta", "2"));
  if (check) {
    RequireValue(*a, "alpha", "1");
    RequireValue(*a, "beta", "2");
    bool found = false;
    REQUIRE_OK(a->Has("alpha", &found));
    CHECK(found);
  }
  REQUIRE_OK(a->Put("alpha", "one, longer than before"));
  if (check) RequireValue(*a, "alpha", "one, longer than before");
  REQUIRE_OK(a->Put("alpha", "x"));  // and shorter again
  if (check) RequireValue(*a, "alpha", "x");
  REQUIRE_OK(a->Delete("alpha"));
  RequireMissing(*a, "alpha");
  if (check) RequireValue(*a, "beta", "2");
  REQUIRE_OK(a->Delete("alpha"));  // deleting a missing key is OK
  REQUIRE_OK(a->Delete("never-written"));
  REQUIRE_OK(a->Put("alpha", "back"));
  if (check) RequireValue(*a, "alpha", "back");
  for (const auto& [stat, value] : a->Stats()) CHECK_FALSE(stat.empty());
  REQUIRE_OK(a->Close());
  REQUIRE_OK(a->Close());  // closing twice is OK
}

TEST_CASE("missing keys are NotFound and leave the buffer usable",
          "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));
  RequireMissing(*a, "nothing-here");
  REQUIRE_OK(a->Put("k1", "v1"));
  RequireMissing(*a, "k2");
  RequireMissing(*a, "k");    // a prefix of a stored key
  RequireMissing(*a, "k10");  // a stored key is a prefix of it
  REQUIRE_OK(a->Close());
}

TEST_CASE("empty values and empty keys", "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));
  REQUIRE_OK(a->Put("empty", ""));
  if (check) {
    std::string got = "not empty";
    REQUIRE_OK(a->Get("empty", &got));
    CHECK(got.empty());
    bool found = false;
    REQUIRE_OK(a->Has("empty", &found));
    CHECK(found);
  }
  // An empty key is either stored or refused as InvalidArgument; never anything
  // else.
  Status s = a->Put("", "value of the empty key");
  INFO(s.ToString());
  CHECK((s.ok() || s.IsInvalidArgument()));
  if (s.ok() && check) RequireValue(*a, "", "value of the empty key");
  REQUIRE_OK(a->Close());
}

TEST_CASE("binary keys with zero bytes are distinct keys", "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));
  using namespace std::string_literals;
  const std::vector<std::string> keys = {"\0"s,     "\0\0"s, "a\0"s,
                                         "a\0b"s,   "a\0c"s, "a"s,
                                         "\xff\0"s, "\xff"s, "\x01\x80\0\x7f"s};
  for (size_t i = 0; i < keys.size(); i++) {
    REQUIRE_OK(a->Put(keys[i], "v\0"s + std::to_string(i)));
  }
  if (check) {
    for (size_t i = 0; i < keys.size(); i++)
      RequireValue(*a, keys[i], "v\0"s + std::to_string(i));
  }
  REQUIRE_OK(a->Delete("a\0b"s));
  RequireMissing(*a, "a\0b"s);
  if (check) {
    RequireValue(*a, "a\0c"s, "v\0"s + "4");
    RequireValue(*a, "a"s, "v\0"s + "5");
  }
  REQUIRE_OK(a->Close());
}

TEST_CASE("64 KiB keys and 16 MiB values, or a clear InvalidArgument",
          "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));

  std::string big_key(kBigKey, 'k');
  for (size_t i = 0; i < big_key.size(); i += 7)
    big_key[i] = static_cast<char>(i);
  Status s = a->Put(big_key, "v");
  INFO(s.ToString());
  if (caps.max_key_size != 0 && caps.max_key_size < kBigKey) {
    CHECK(s.IsInvalidArgument());
    // The documented limit itself must work.
    std::string max_key(caps.max_key_size, 'm');
    REQUIRE_OK(a->Put(max_key, "at the limit"));
    if (check) RequireValue(*a, max_key, "at the limit");
    CHECK(a->Put(std::string(caps.max_key_size + 1, 'm'), "over")
              .IsInvalidArgument());
  } else {
    REQUIRE(s.ok());
    if (check) RequireValue(*a, big_key, "v");
  }

  std::string big_value(kBigValue, '\0');
  std::mt19937_64 rng(7);
  for (size_t i = 0; i + 8 <= big_value.size(); i += 8) {
    uint64_t r = rng();
    std::memcpy(&big_value[i], &r, 8);
  }
  s = a->Put("big", big_value);
  INFO(s.ToString());
  if (caps.max_value_size != 0 && caps.max_value_size < kBigValue) {
    CHECK(s.IsInvalidArgument());
  } else {
    REQUIRE(s.ok());
    if (check) RequireValue(*a, "big", big_value);
    // Overwriting a big value with a small one leaves no trace of the old one.
    REQUIRE_OK(a->Put("big", "small"));
    if (check) RequireValue(*a, "big", "small");
  }
  REQUIRE_OK(a->Close());
}

TEST_CASE("WriteBatch writes every pair", "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));
  std::vector<std::string> keys, values;
  for (int i = 0; i < 100; i++) {
    keys.push_back(Key("batch-", i));
    values.push_back(ValueFor(keys.back(), i));
  }
  std::vector<KeyValue> pairs;
  for (size_t i = 0; i < keys.size(); i++)
    pairs.push_back({keys[i], values[i]});
  REQUIRE_OK(a->WriteBatch(pairs));
  REQUIRE_OK(a->WriteBatch({}));  // an empty batch is fine
  if (check) {
    for (size_t i = 0; i < keys.size(); i++)
      RequireValue(*a, keys[i], values[i]);
  }
  // A batch overwrites.
  std::vector<KeyValue> again = {{keys[0], "new0"}, {keys[1], "new1"}};
  REQUIRE_OK(a->WriteBatch(again));
  if (check) {
    RequireValue(*a, keys[0], "new0");
    RequireValue(*a, keys[1], "new1");
    RequireValue(*a, keys[2], values[2]);
  }
  REQUIRE_OK(a->Close());
}

TEST_CASE("Scan returns byte order where the adapter is ordered",
          "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));
  auto collect = [&](std::string_view start, size_t limit,
                     std::vector<std::pair<std::string, std::string>>* out) {
    out->clear();
    return a->Scan(start, limit, [out](std::string_view k, std::string_view v) {
      out->emplace_back(std::string(k), std::string(v));
      return true;
    });
  };
  std::vector<std::pair<std::string, std::string>> got;
  if (!caps.ordered) {
    CHECK(collect("", 10, &got).IsNotSupported());
    REQUIRE_OK(a->Close());
    return;
  }
  // Keys in random order, including bytes >= 0x80 (which sort after ASCII:
  // unsigned order).
  std::map<std::string, std::string> want;
  std::mt19937 rng(11);
  for (int i = 0; i < 300; i++) {
    std::string k = "s";
    int len = 1 + rng() % 6;
    for (int j = 0; j < len; j++) k.push_back(static_cast<char>(rng() % 256));
    want[k] = ValueFor(k, i);
  }
  std::vector<std::pair<std::string, std::string>> shuffled(want.begin(),
                                                            want.end());
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (const auto& [k, v] : shuffled) REQUIRE_OK(a->Put(k, v));
  REQUIRE_OK(a->Put("a-before", "x"));
  REQUIRE_OK(a->Put("t-after", "y"));

  using Pairs = std::vector<std::pair<std::string, std::string>>;
  const Pairs sorted(want.begin(), want.end());
  REQUIRE_OK(collect("s", want.size(), &got));
  if (!check) {
    CHECK(got.empty());
    REQUIRE_OK(a->Close());
    return;
  }
  REQUIRE(got.size() == want.size());
  CHECK(got == sorted);

  // From the middle, with a limit.
  auto mid = sorted.begin() + 100;
  REQUIRE_OK(collect(mid->first, 10, &got));
  REQUIRE(got.size() == 10);
  CHECK(got == Pairs(mid, mid + 10));
  // A start between keys begins at the next key.
  REQUIRE_OK(collect(mid->first + std::string(1, '\0'), 1, &got));
  REQUIRE(got.size() == 1);
  CHECK(got[0].first == std::next(mid)->first);
  // Everything, from the empty key.
  REQUIRE_OK(collect("", 1000, &got));
  REQUIRE(got.size() == want.size() + 2);
  CHECK(got.front().first == "a-before");
  CHECK(got.back().first == "t-after");
  // The callback stops the scan early.
  int calls = 0;
  REQUIRE_OK(a->Scan("", 1000, [&](std::string_view, std::string_view) {
    return ++calls < 3;
  }));
  CHECK(calls == 3);
  REQUIRE_OK(collect("", 0, &got));
  CHECK(got.empty());
  REQUIRE_OK(collect("u", 10, &got));
  CHECK(got.empty());
  REQUIRE_OK(a->Close());
}

TEST_CASE("data survives Close and Open where persistent", "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  {
    auto a = Make(name, path);
    PutNumbered(*a, "p", 100, 20);
    REQUIRE_OK(a->Delete("p7"));
    REQUIRE_OK(a->Put("p8", "overwritten"));
    REQUIRE_OK(a->Close());
    // Reopened: closed, destroyed, opened again.
    a.reset();
    a = Make(name, path);
    if (caps.persistent && check) RequireValue(*a, "p9", ValueFor("p9", 9));
    REQUIRE_OK(a->Put("p100", "after reopen"));
  }  // destroyed while open: the destructor closes it
  auto b = Make(name, path);
  if (caps.persistent && check) {
    for (int i = 0; i < 100; i++) {
      std::string k = Key("p", i);
      if (i == 7) {
        RequireMissing(*b, k);
      } else {
        RequireValue(*b, k, i == 8 ? "overwritten" : ValueFor(k, i));
      }
    }
    RequireValue(*b, "p100", "after reopen");
  } else {
    RequireMissing(*b, "p1");  // not persistent: the reopened store is empty
  }
  REQUIRE_OK(b->Close());
}

TEST_CASE("Settle keeps every key and leaves the adapter writable",
          "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  auto a = Make(name, path);
  PutNumbered(*a, "s", 500, 200);
  REQUIRE_OK(a->Delete("s3"));
  REQUIRE_OK(a->Settle());
  REQUIRE_OK(a->Settle());  // nothing owed: still OK
  if (check) RequireNumbered(*a, "s", 500, 200, 3);
  REQUIRE_OK(a->Put("s500", "after settle"));
  REQUIRE_OK(a->Close());
  if (caps.persistent && check) {
    auto b = Make(name, path);
    RequireValue(*b, "s500", "after settle");
    RequireValue(*b, "s499", ValueFor("s499", 499, 200));
    REQUIRE_OK(b->Close());
  }
}

// What Settle must change in each engine's own figures (StateFigures): the
// figure lies in [before_lo, before_hi] after the writes and in [after_lo,
// after_hi] once Settle returns. The writes (8 MiB in 4 KiB values) overflow
// the 1 MiB memtables several times, so the LSMs have compactions to finish.
struct SettleExpectation {
  const char* spec;
  const char* figure;
  double before_lo, before_hi, after_lo, after_hi;
};
constexpr double kAny = 1e300;
// clang-format off
constexpr SettleExpectation kSettleExpectations[] = {
    // spec                                figure                           before       after
    {"rocksdb:write_buffer_mb=1",          "num-entries-active-mem-table",  1, kAny,     0, 0},
    {"rocksdb:write_buffer_mb=1",          "num-immutable-mem-table",       0, kAny,     0, 0},
    {"rocksdb:write_buffer_mb=1",          "compaction-pending",            0, kAny,     0, 0},
    {"rocksdb:write_buffer_mb=1",          "num-running-compactions",       0, kAny,     0, 0},
    {"rocksdb:write_buffer_mb=1",          "num-running-flushes",           0, kAny,     0, 0},
    {"leveldb:write_buffer_mb=1",          "max-compaction-score",          0, kAny,     0, 0.999},
    {"leveldb:write_buffer_mb=1",          "table-bytes",                   1, kAny,     6 << 20, kAny},
    {"sqlite",                             "wal-bytes",                     1, kAny,     0, 0},
    {"linhash",                            "checkpoints",                   1, 1,        2, 2},  // creation's, then Settle's
    {"typedmap:durability=memory",         "dirty_keys",                    0, kAny,     0, 0},
    {"fileperkey:index=on",                "index_building",                0, 1,        0, 0},
};
// clang-format on

TEST_CASE("Settle brings each engine's own figures to a settled state",
          "[conformance]") {
  const std::vector<std::string> built = BuiltAdapters();
  for (const SettleExpectation& e : kSettleExpectations) {
    const std::string spec = e.spec;
    const std::string adapter = spec.substr(0, spec.find(':'));
    if (std::find(built.begin(), built.end(), adapter) == built.end()) continue;
    CAPTURE(spec, e.figure);
    testing::TempDir dir;
    auto a = Make(spec, dir.Sub("db"));
    const std::string value(4096, 'v');
    for (int i = 0; i < 2048; i++) REQUIRE_OK(a->Put(Key("k", i), value));
    std::map<std::string, double> before = a->StateFigures();
    REQUIRE(before.count(e.figure) == 1);
    CHECK(before[e.figure] >= e.before_lo);
    CHECK(before[e.figure] <= e.before_hi);
    REQUIRE_OK(a->Settle());
    std::map<std::string, double> after = a->StateFigures();
    REQUIRE(after.count(e.figure) == 1);
    CHECK(after[e.figure] >= e.after_lo);
    CHECK(after[e.figure] <= e.after_hi);
    RequireValue(*a, "k2047", value);
    REQUIRE_OK(a->Close());
  }
}

TEST_CASE("every durability mode writes, syncs and reopens", "[conformance]") {
  FOR_EACH_ADAPTER();
  const std::string mode =
      GENERATE(as<std::string>{}, "memory", "process", "periodic:20", "sync");
  CAPTURE(mode);
  const AdapterInfo* info = FindAdapter(name);
  REQUIRE(info != nullptr);
  std::string_view refused =
      WayOf(info->durability, ParseDurabilityClass(mode)->level).refused;
  if (!refused.empty()) {  // refused before anything is opened
    CHECK(CheckAdapterSpec(name + ":durability=" + mode).IsInvalidArgument());
    return;
  }
  testing::TempDir dir;
  {
    auto a = Make(name + ":durability=" + mode, dir.Sub("db"));
    for (int i = 0; i < 20; i++) {
      std::string k = Key("d", i);
      REQUIRE_OK(a->Put(k, ValueFor(k, i)));
    }
    REQUIRE_OK(a->Sync());
    REQUIRE_OK(a->Delete("d3"));
    REQUIRE_OK(a->Sync());
    REQUIRE_OK(a->Sync());  // nothing new: still OK
    REQUIRE_OK(a->Close());
  }
  if (caps.persistent && check) {
    auto b = Make(name, dir.Sub("db"));
    RequireValue(*b, "d19", ValueFor("d19", 19));
    RequireMissing(*b, "d3");
    REQUIRE_OK(b->Close());
  }
}

TEST_CASE("BytesOnDisk counts the files after writes and Close",
          "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));
  std::string value(1000, 'b');
  for (int i = 0; i < 100; i++) REQUIRE_OK(a->Put(Key("b", i), value));
  REQUIRE_OK(a->Close());
  Result<uint64_t> bytes = a->BytesOnDisk();
  REQUIRE_OK(bytes.status());
  if (caps.persistent) {
    CHECK(*bytes > 0);
  }
}

TEST_CASE("8 threads read and write concurrently with verified values",
          "[conformance]") {
  FOR_EACH_ADAPTER();
  if (!caps.thread_safe) return;
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));
  // A shared key set every thread reads, so reads race with other threads'
  // writes.
  constexpr int kShared = 64;
  for (int i = 0; i < kShared; i++) {
    std::string k = Key("shared", i);
    REQUIRE_OK(a->Put(k, ValueFor(k, 0)));
  }
  std::atomic<int> errors{0}, bad_values{0}, reads_checked{0};
  auto worker = [&](int t) {
    std::mt19937 rng(t);
    std::map<std::string, int>
        mine;  // this thread's keys and their last version
    for (int op = 0; op < kOpsPerThread; op++) {
      int dice = rng() % 10;
      std::string got;
      if (dice < 3) {  // write an own key
        std::string k = Key(Key("t", t) + "-", rng() % 50);
        int version = op + 1;
        if (!a->Put(k, ValueFor(k, version)).ok()) errors++;
        mine[k] = version;
      } else if (dice <
                 4) {  // overwrite a shared key with a self-describing value
        std::string k = "shared" + std::to_string(rng() % kShared);
        if (!a->Put(k, ValueFor(k, t * 100000 + op)).ok()) errors++;
      } else if (dice < 7 &&
                 !mine.empty()) {  // read an own key: must be the last write
        auto it = std::next(mine.begin(), rng() % mine.size());
        Status s = a->Get(it->first, &got);
        if (check) {
          if (!s.ok() || got != ValueFor(it->first, it->second)) bad_values++;
          reads_checked++;
        }
      } else {  // read a shared key: some complete version, never a torn or
                // foreign value
        std::string k = "shared" + std::to_string(rng() % kShared);
        Status s = a->Get(k, &got);
        if (check) {
          bool ok =
              s.ok() && got.rfind(k + "#", 0) == 0 && got.size() > k.size() + 1;
          if (ok) {
            size_t hash = got.find('#', k.size() + 1);
            ok = hash != std::string::npos &&
                 got == ValueFor(k, std::stoi(got.substr(k.size() + 1,
                                                         hash - k.size() - 1)));
          }
          if (!ok) bad_values++;
          reads_checked++;
        }
      }
    }
    // Every own key, at the end.
    for (const auto& [k, version] : mine) {
      std::string got;
      Status s = a->Get(k, &got);
      if (check && (!s.ok() || got != ValueFor(k, version))) bad_values++;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) threads.emplace_back(worker, t);
  for (std::thread& th : threads) th.join();
  CHECK(errors == 0);
  CHECK(bad_values == 0);
  if (check) CHECK(reads_checked > 0);
  REQUIRE_OK(a->Close());
}

TEST_CASE("a second Open of a locked directory is Busy", "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  auto a = Make(name, dir.Sub("db"));
  REQUIRE_OK(a->Put("k", "v"));
  Result<std::unique_ptr<Adapter>> b = OpenAdapter(name, dir.Sub("db"));
  INFO(b.status().ToString());
  if (caps.locks_directory) {
    CHECK(b.status().IsBusy());
    // The first handle is unharmed, and the lock goes with it.
    if (check) RequireValue(*a, "k", "v");
    REQUIRE_OK(a->Close());
    auto again = Make(name, dir.Sub("db"));
    if (check && caps.persistent) RequireValue(*again, "k", "v");
    REQUIRE_OK(again->Close());
  } else {
    // Not locking is allowed; then both handles work.
    REQUIRE(b.ok());
    REQUIRE_OK((*b)->Close());
    REQUIRE_OK(a->Close());
  }
}

TEST_CASE("Open on a file or beneath a file fails cleanly", "[conformance]") {
  FOR_EACH_ADAPTER();
  testing::TempDir dir;
  const std::string file = dir.Sub("plain-file");
  std::ofstream(file) << "not a database directory";
  Status s = OpenAdapter(name, file).status();
  INFO(s.ToString());
  CHECK_FALSE(s.ok());
  CHECK_FALSE(s.message().empty());
  // As root every directory is writable, so "cannot create" is tested as a path
  // below a file.
  s = OpenAdapter(name, file + "/sub").status();
  INFO(s.ToString());
  CHECK_FALSE(s.ok());
  // After the failures a good directory still opens.
  auto a = Make(name, dir.Sub("db"));
  REQUIRE_OK(a->Put("k", "v"));
  REQUIRE_OK(a->Close());
}

TEST_CASE("unknown options and bad durability are InvalidArgument",
          "[conformance]") {
  FOR_EACH_ADAPTER();
  Status a = CheckAdapterSpec(name + ":no_such_option=1");
  REQUIRE_FALSE(a.ok());
  CHECK(a.IsInvalidArgument());
  CHECK(a.message().find("no_such_option") != std::string_view::npos);
  a = CheckAdapterSpec(name + ":durability=sometimes");
  REQUIRE_FALSE(a.ok());
  CHECK(a.IsInvalidArgument());
  // OpenAdapter checks the same way before touching the directory.
  testing::TempDir dir;
  CHECK(OpenAdapter(name + ":no_such_option=1", dir.Sub("db"))
            .status()
            .IsInvalidArgument());
}

TEST_CASE("an unknown adapter name is InvalidArgument", "[conformance]") {
  Status a = CheckAdapterSpec("no-such-adapter");
  REQUIRE_FALSE(a.ok());
  CHECK(a.IsInvalidArgument());
}

}  // namespace
}  // namespace kvb
