// Read-path check of the fileperkey performance targets (single thread, warm
// page cache):
//   1. cache off:  Store::Read / a bare open+read+close loop over the same
//   files  (>= 0.8)
//   2. cache on:   adapter "fileperkey:cache_mb=..." Get / adapter "memory" Get
//   (>= 0.5)
// Usage: fileperkey_read_bench [DIR] [keys] [value_bytes] [rounds]
// Prints one line per measurement and the two ratios (median of `rounds`).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "adapters/registry.h"
#include "engines/fileperkey/fileperkey.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename Fn>
double OpsPerSec(size_t ops, Fn fn) {
  const auto t0 = Clock::now();
  fn();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(ops) / s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Fail(const kvb::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/tmp/fpk-read-bench";
  const size_t n = argc > 2 ? std::stoul(argv[2]) : 20000;
  const size_t value_bytes = argc > 3 ? std::stoul(argv[3]) : 100;
  const int rounds = argc > 4 ? std::stoi(argv[4]) : 3;
  kvb::Env::Default()->RemoveAll(dir).IgnoreError();

  std::vector<std::string> keys;
  for (size_t i = 0; i < n; i++)
    keys.push_back("user" + std::to_string(i * 7919 % 1000003));
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; i++) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(1));
  const std::string value(value_bytes, 'v');

  // 1. cache off vs bare syscalls.
  std::vector<double> bare, bare_eof, store_rates;
  {
    kvb::fileperkey::Options o;
    o.transform = *kvb::fileperkey::Transform::Parse(
        "hash:2:1", kvb::fileperkey::KeyEncoding::kEscaped);
    auto store = kvb::fileperkey::Store::Open(dir + "/store", o);
    if (!store.ok()) return Fail(store.status());
    std::vector<std::string> paths;
    for (const auto& k : keys) {
      kvb::Status s = (*store)->Write(k, value);
      if (!s.ok()) return Fail(s);
      paths.push_back(*(*store)->PathOf(k));
    }
    std::string v;
    std::vector<char> buf(value_bytes + 4096);
    for (int r = 0; r < rounds; r++) {
      bare.push_back(OpsPerSec(n, [&] {
        for (size_t i : order) {
          int fd = ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
          ssize_t got = ::read(fd, buf.data(), buf.size());
          ::close(fd);
          if (got != static_cast<ssize_t>(value_bytes)) std::abort();
        }
      }));
      // As `cat` does it: a value's size is not known in advance, so read until
      // EOF.
      bare_eof.push_back(OpsPerSec(n, [&] {
        for (size_t i : order) {
          int fd = ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
          size_t total = 0;
          ssize_t got;
          while ((got = ::read(fd, buf.data(), buf.size())) > 0)
            total += static_cast<size_t>(got);
          ::close(fd);
          if (total != value_bytes) std::abort();
        }
      }));
      store_rates.push_back(OpsPerSec(n, [&] {
        for (size_t i : order) {
          if (!(*store)->Read(keys[i], &v).ok() || v.size() != value_bytes)
            std::abort();
        }
      }));
    }
  }
  std::printf("bare open+read+close (size known, one read): %.0f ops/s\n",
              Median(bare));
  std::printf("bare open+read-to-EOF+close (cat): %.0f ops/s\n",
              Median(bare_eof));
  std::printf("Store::Read, cache off: %.0f ops/s\n", Median(store_rates));

  // 2. cache on vs the memory adapter.
  auto run_adapter = [&](const std::string& spec,
                         const std::string& sub) -> double {
    auto a = kvb::OpenAdapter(spec, dir + "/" + sub);
    if (!a.ok()) std::abort();
    for (const auto& k : keys) {
      if (!(*a)->Put(k, value).ok()) std::abort();
    }
    std::string v;
    for (size_t i : order) (void)(*a)->Get(keys[i], &v);  // warm the cache
    std::vector<double> rates;
    for (int r = 0; r < rounds; r++) {
      rates.push_back(OpsPerSec(n, [&] {
        for (size_t i : order) {
          if (!(*a)->Get(keys[i], &v).ok()) std::abort();
        }
      }));
    }
    (void)(*a)->Close();
    return Median(rates);
  };
  const double memory = run_adapter("memory", "memory");
  const double cached = run_adapter("fileperkey:cache_mb=256", "cached");
  std::printf("adapter memory Get: %.0f ops/s\n", memory);
  std::printf("adapter fileperkey:cache_mb=256 Get: %.0f ops/s\n", cached);
  std::printf(
      "ratio cache off / bare = %.2f, / cat-like bare = %.2f (target >= 0.8)\n",
      Median(store_rates) / Median(bare),
      Median(store_rates) / Median(bare_eof));
  std::printf("ratio cache on / memory = %.2f (target >= 0.5)\n",
              cached / memory);
  // 3. For the record: write rates of the adapter (new keys), durability none
  // and sync.
  for (const char* spec :
       {"fileperkey:durability=none", "fileperkey:durability=sync"}) {
    auto a = kvb::OpenAdapter(spec, dir + "/w" + std::to_string(spec[22]));
    if (!a.ok()) std::abort();
    const size_t writes = spec[22] == 's' ? std::min<size_t>(n, 1000) : n;
    const double rate = OpsPerSec(writes, [&] {
      for (size_t i = 0; i < writes; i++) {
        if (!(*a)->Put(keys[i], value).ok()) std::abort();
      }
    });
    const auto t0 = Clock::now();
    (void)(*a)->Close();
    std::printf("adapter %s Put: %.0f ops/s (%zu keys; Close %.3f s)\n", spec,
                rate, writes,
                std::chrono::duration<double>(Clock::now() - t0).count());
  }
  kvb::Env::Default()->RemoveAll(dir).IgnoreError();
  return 0;
}
