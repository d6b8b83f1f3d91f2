// Eight threads of mixed traffic on a small hot key set (runs under TSan via
// the `sanitize` label): every read sees a whole value of its key, the cache
// stays within its bound and coherent with the files, and the index ends equal
// to the files.
#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/testing/test_util.h"
#include "engines/fileperkey/fileperkey.h"

namespace kvb::fileperkey {
namespace {

// Sanitizers slow every operation 5-20x: keep the test under a few seconds
// there too.
#if defined(KVB_SANITIZED)
constexpr int kScale = 5;
#else
constexpr int kScale = 1;
#endif
constexpr int kThreads = 8;
constexpr int kKeys = 24;

std::string KeyName(int i) {
  return std::string("hot/").append(std::to_string(i));
}

std::string MakeValue(const std::string& key, uint64_t version) {
  std::string v = key + "#" + std::to_string(version) + "#";
  const size_t size = 50 + (version * 977) % 6000;
  while (v.size() < size)
    v.push_back(static_cast<char>('A' + (v.size() + version) % 26));
  return v;
}

bool Intact(const std::string& key, const std::string& value) {
  if (value.compare(0, key.size() + 1, key + "#") != 0) return false;
  const size_t end = value.find('#', key.size() + 1);
  if (end == std::string::npos) return false;
  return value == MakeValue(key, std::stoull(value.substr(
                                     key.size() + 1, end - key.size() - 1)));
}

void RunTraffic(Store* store, int ops_per_thread) {
  std::atomic<uint64_t> version{1};
  std::atomic<int> failures{0};
  std::mutex error_mu;
  std::string first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t + 1);
      std::string v;
      for (int i = 0; i < ops_per_thread; i++) {
        const std::string key = KeyName(static_cast<int>(rng() % kKeys));
        const int op = static_cast<int>(rng() % 100);
        Status s;
        if (op < 30) {
          s = store->Write(key, MakeValue(key, version.fetch_add(1)));
        } else if (op < 75) {
          s = store->Read(key, &v);
          if (s.ok() && !Intact(key, v)) failures++;
        } else if (op < 85) {
          auto stream = store->ReadStream(key);
          s = stream.status();
          if (stream.ok()) {
            v.clear();
            s = ReadAll(stream->get(), &v);
            if (s.ok() && !Intact(key, v)) failures++;
          }
        } else if (op < 93) {
          s = store->Erase(key);
        } else if (op < 97) {
          bool found;
          s = store->Has(key, &found);
        } else {
          auto keys = store->IndexKeysAfter("", 5);
          s = keys.status();
        }
        if (!s.ok() && !s.IsNotFound()) {
          std::lock_guard lock(
              error_mu);  // Catch2 macros are not thread-safe: keep the text
          if (first_error.empty()) first_error = s.ToString();
          failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  INFO(first_error);
  CHECK(failures.load() == 0);
}

void CheckQuiescent(Store* store, uint64_t cache_bytes) {
  // After the traffic: the index lists exactly the keys on disk, and every read
  // (cached or not) equals the file.
  std::set<std::string> on_disk;
  REQUIRE_OK(store->ForEachKey("", [&](const std::string& k) {
    on_disk.insert(k);
    return true;
  }));
  auto indexed = store->IndexKeysAfter("", 1000);
  REQUIRE(indexed.ok());
  CHECK(std::set<std::string>(indexed->begin(), indexed->end()) == on_disk);
  for (const std::string& key : on_disk) {
    std::string cached, direct;
    REQUIRE_OK(store->Read(key, &cached));
    auto stream = store->ReadStream(key);
    REQUIRE(stream.ok());
    REQUIRE_OK(ReadAll(stream->get(), &direct));
    CHECK(cached == direct);
    CHECK(Intact(key, cached));
  }
  CHECK(store->stats().cache.charge <= cache_bytes);
}

TEST_CASE("8 threads of mixed traffic (in-memory Env)", "[threads]") {
  auto env = NewMemEnv();
  for (Codec codec : {Codec::kNone, Codec::kZstd}) {
    Options o;
    o.env = env.get();
    o.cache_bytes = 40 << 10;  // smaller than the hot set: constant eviction
    o.index = true;
    o.compression = codec;
    o.transform = Transform::Blocks(2, 2, KeyEncoding::kEscaped);
    auto store = Store::Open(std::string("/t-").append(CodecName(codec)), o);
    REQUIRE(store.ok());
    RunTraffic(store->get(), 1500 / kScale);
    CheckQuiescent(store->get(), o.cache_bytes);
  }
}

TEST_CASE("8 threads of mixed traffic (POSIX Env)", "[threads][posix]") {
  testing::TempDir tmp;
  Options o;
  o.cache_bytes = 40 << 10;
  o.index = true;
  o.transform = Transform::Hashed(1, 1, KeyEncoding::kEscaped);
  auto store = Store::Open(tmp.path(), o);
  REQUIRE(store.ok());
  RunTraffic(store->get(), 800 / kScale);
  CheckQuiescent(store->get(), o.cache_bytes);
}

}  // namespace
}  // namespace kvb::fileperkey
