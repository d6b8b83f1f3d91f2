// The read path through the store: a cache hit touches neither the file
// system nor the transform, the cache policy (anything up to the capacity, as
// diskv's CacheSizeMax), and ReadOptions::direct (diskv's ReadStream direct).
#include <atomic>
#include <catch2/catch.hpp>
#include <string>

#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/fileperkey/fileperkey.h"

namespace kvb::fileperkey {
namespace {

std::unique_ptr<Store> MustOpen(const std::string& dir, Options o) {
  Result<std::unique_ptr<Store>> s = Store::Open(dir, std::move(o));
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(*s);
}

std::string MustRead(Store* store, std::string_view key,
                     const ReadOptions& ro = {}) {
  std::string v;
  Status s = store->Read(key, &v, ro);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return v;
}

std::string MustStream(Store* store, std::string_view key,
                       const ReadOptions& ro = {}) {
  auto stream = store->ReadStream(key, ro);
  INFO(stream.status().ToString());
  REQUIRE(stream.ok());
  std::string out;
  REQUIRE_OK(ReadAll(stream->get(), &out));
  return out;
}

TEST_CASE("a cache hit makes no file-system call and runs no transform",
          "[store][cache]") {
  auto mem = NewMemEnv();
  FaultInjectionEnv env(mem.get());
  std::atomic<int> transform_calls{0};
  Options o;
  o.env = &env;
  o.cache_bytes = 1 << 20;
  o.transform = Transform::Function([&](std::string_view key) {
    transform_calls++;
    return std::vector<std::string>{std::string(key.substr(0, 1))};
  });
  auto store = MustOpen("/s", o);
  REQUIRE_OK(store->Write("alpha", "one"));
  REQUIRE_OK(store->Write("beta", "two"));
  CHECK(MustRead(store.get(), "alpha") == "one");   // miss: fills the cache
  CHECK(MustStream(store.get(), "beta") == "two");  // miss: the tee fills it
  // From now on every Env call fails.
  env.CrashAfterSyncs(0);
  const int calls = transform_calls.load();
  CHECK(MustRead(store.get(), "alpha") == "one");
  CHECK(MustRead(store.get(), "beta") == "two");
  CHECK(MustStream(store.get(), "alpha") == "one");
  bool found = false;
  REQUIRE_OK(store->Has("beta", &found));
  CHECK(found);
  CHECK(transform_calls.load() == calls);
  // The faults are armed: an uncached key reaches the Env and fails.
  std::string v;
  CHECK_FALSE(store->Read("gamma", &v).ok());
  // Invalid keys are still refused: they were never cached, so they miss and
  // meet the validator.
  CHECK(store->Read("", &v).IsInvalidArgument());
  CHECK(store->Read("a/b", &v).IsInvalidArgument());
  env.ClearFaults();
}

TEST_CASE("the store caches a value larger than cache/16 (diskv policy)",
          "[store][cache][policy]") {
  // 32 MiB: 16 shards. The old per-shard limit refused anything over 2 MiB.
  auto env = NewMemEnv();
  Options o;
  o.env = env.get();
  o.cache_bytes = 32 << 20;
  auto store = MustOpen("/s", o);
  const std::string big(5 << 20, 'b');
  REQUIRE_OK(store->Write("big", big));
  CHECK(MustRead(store.get(), "big") == big);
  CHECK(store->stats().cache.entries == 1);
  CHECK(MustRead(store.get(), "big") == big);
  CHECK(store->stats().cache.hits == 1);
  // Streamed, too: the tee keeps it because it fits the capacity.
  REQUIRE_OK(store->Write("big2", big));
  CHECK(MustStream(store.get(), "big2") == big);
  CHECK(store->stats().cache.entries == 2);
  // Over the capacity: read correctly, never cached.
  const std::string huge((32 << 20) + 1, 'h');
  REQUIRE_OK(store->Write("huge", huge));
  CHECK(MustRead(store.get(), "huge") == huge);
  CHECK(MustStream(store.get(), "huge") == huge);
  CHECK(store->stats().cache.charge <= o.cache_bytes);
  CHECK(store->stats().cache.hits == 1);
  CHECK(store->stats().cache.entries == 2);
}

using testing::TempDir;

TEST_CASE("ReadOptions::direct bypasses the cache and drops the cached copy",
          "[store][cache][direct]") {
  TempDir tmp;
  Options o;
  o.cache_bytes = 1 << 20;
  o.checksum = ValueChecksum::kNone;  // so the file can be edited by hand
  auto store = MustOpen(tmp.path(), o);
  REQUIRE_OK(store->Write("k", "v1"));
  CHECK(MustRead(store.get(), "k") == "v1");  // cached
  // Someone changes the file behind the store's back.
  const std::string path = *store->PathOf("k");
  REQUIRE_OK(Env::Default()->WriteFileAtomically(path, "v2"));
  CHECK(MustRead(store.get(), "k") == "v1");  // the cache still answers
  const ReadOptions direct{.direct = true};
  const uint64_t hits = store->stats().cache.hits;
  CHECK(MustStream(store.get(), "k", direct) == "v2");
  CHECK(store->stats().cache.hits == hits);  // not consulted
  CHECK(store->stats().cache.entries == 0);  // and dropped
  // A direct read does not fill the cache either.
  CHECK(MustStream(store.get(), "k", direct) == "v2");
  CHECK(store->stats().cache.entries == 0);
  // Read with direct behaves the same way.
  CHECK(MustRead(store.get(), "k") == "v2");  // normal read: fills
  CHECK(store->stats().cache.entries == 1);
  REQUIRE_OK(Env::Default()->WriteFileAtomically(path, "v3"));
  CHECK(MustRead(store.get(), "k", direct) == "v3");
  CHECK(store->stats().cache.entries == 0);
  CHECK(MustRead(store.get(), "k") == "v3");
  // Errors still come from the file: a bad key, a missing key.
  std::string v;
  CHECK(store->ReadStream("../x", direct).status().IsInvalidArgument());
  CHECK(store->ReadStream("nope", direct).status().IsNotFound());
  CHECK(store->Read("nope", &v, direct).IsNotFound());
  // Without a cache the flag changes nothing.
  store.reset();
  o.cache_bytes = 0;
  store = MustOpen(tmp.path(), o);
  CHECK(MustStream(store.get(), "k", direct) == "v3");
}

TEST_CASE("a direct stream reading an old file does not refill the cache",
          "[store][cache][direct]") {
  // A normal stream opened before a direct read, read to its end after it,
  // must not put the value it saw back into the cache over what the direct
  // read dropped: the drop stales its ticket (diskv's asynchronous drop could
  // even underflow the cache total, defect D2).
  auto env = NewMemEnv();
  Options o;
  o.env = env.get();
  o.cache_bytes = 1 << 20;
  auto store = MustOpen("/s", o);
  REQUIRE_OK(store->Write("k", "old"));
  auto normal = store->ReadStream("k");
  REQUIRE(normal.ok());
  CHECK(MustStream(store.get(), "k", ReadOptions{.direct = true}) == "old");
  std::string out;
  REQUIRE_OK(ReadAll(normal->get(), &out));
  CHECK(out == "old");
  CHECK(store->stats().cache.entries == 0);
  CHECK(store->stats().cache.rejected == 1);
}

}  // namespace
}  // namespace kvb::fileperkey
