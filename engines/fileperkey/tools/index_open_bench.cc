// fileperkey_index_open_bench: how long Store::Open takes with the ordered
// index on, in the background (Open returns, then WaitForIndex) and
// synchronously (the old behaviour: Open walks the whole tree first).
//
//   fileperkey_index_open_bench DIR KEYS [ROUNDS]
//
// Creates DIR with KEYS empty values (keys user0000000000..., layout hash:2:1,
// escaped, no checksum: zero-length files, so a million keys cost inodes and
// directory blocks only) unless DIR already holds a store of that many keys,
// then opens it ROUNDS times (default 3) each way, alternating, and prints
// each round and the medians. The page cache stays warm (a reopen, as in a
// restart of the process).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engines/fileperkey/fileperkey.h"

namespace {

using kvb::fileperkey::KeyEncoding;
using kvb::fileperkey::Options;
using kvb::fileperkey::Store;
using kvb::fileperkey::Transform;
using kvb::fileperkey::ValueChecksum;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Options BaseOptions() {
  Options o;
  o.transform = Transform::Hashed(2, 1, KeyEncoding::kEscaped);
  o.checksum = ValueChecksum::kNone;
  return o;
}

std::unique_ptr<Store> OpenOrDie(const std::string& dir, const Options& o) {
  auto s = Store::Open(dir, o);
  if (!s.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(),
                 s.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

void Populate(const std::string& dir, uint64_t keys) {
  Options o = BaseOptions();
  o.index = true;
  o.index_in_background = false;
  auto store = OpenOrDie(dir, o);
  const uint64_t have = store->stats().index_keys;
  if (have == keys) return;
  std::fprintf(stderr, "writing %llu keys into %s (had %llu)\n",
               static_cast<unsigned long long>(keys), dir.c_str(),
               static_cast<unsigned long long>(have));
  char key[32];
  for (uint64_t i = 0; i < keys; i++) {
    std::snprintf(key, sizeof(key), "user%010llu",
                  static_cast<unsigned long long>(i));
    kvb::Status s = store->Write(key, "");
    if (!s.ok()) {
      std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR KEYS [ROUNDS]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t keys = std::strtoull(argv[2], nullptr, 10);
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  Populate(dir, keys);
  std::vector<double> bg_open, bg_ready, sync_open, no_index;
  for (int r = 0; r < rounds; r++) {
    Options o = BaseOptions();
    const auto tn = Clock::now();
    OpenOrDie(dir, o).reset();
    no_index.push_back(Ms(tn, Clock::now()));
    o.index = true;
    const auto t0 = Clock::now();
    auto store = OpenOrDie(dir, o);
    const auto t1 = Clock::now();
    kvb::Status s = store->WaitForIndex();
    const auto t2 = Clock::now();
    if (!s.ok() || store->stats().index_keys != keys) {
      std::fprintf(stderr, "index: %s, %llu keys\n", s.ToString().c_str(),
                   static_cast<unsigned long long>(store->stats().index_keys));
      return 1;
    }
    store.reset();
    o.index_in_background = false;
    const auto t3 = Clock::now();
    store = OpenOrDie(dir, o);
    const auto t4 = Clock::now();
    store.reset();
    bg_open.push_back(Ms(t0, t1));
    bg_ready.push_back(Ms(t0, t2));
    sync_open.push_back(Ms(t3, t4));
    std::printf(
        "round %d: no index: Open+close %.3f ms; background Open %.3f ms, "
        "index complete %.1f ms; synchronous Open %.1f ms\n",
        r + 1, no_index.back(), bg_open.back(), bg_ready.back(),
        sync_open.back());
  }
  std::printf(
      "median of %d, %llu keys: no index: Open+close %.3f ms; background "
      "Open %.3f ms, index complete %.1f ms; synchronous Open %.1f ms\n",
      rounds, static_cast<unsigned long long>(keys), Median(no_index),
      Median(bg_open), Median(bg_ready), Median(sync_open));
  return 0;
}
