// typedmap_bench — the engine's own measurements (not a test; see README.md
// "Measured").
//
//   typedmap_bench load   DIR [N]        replay time of N (1,000,000) records,
//                                        16-byte keys, 128-byte string values
//   typedmap_bench shrink DIR [N]        log size before and after Shrink
//                                        (3 versions per key)
//   typedmap_bench fsync  DIR [SECONDS]  kFSync writes/s at 1 and 8 threads
//                                        (group commit)
//   typedmap_bench read   DIR [N]        gets/s of the byte adapter's path vs
//                                        a 64-shard unordered_map<string,
//                                        string> with shared_mutex (the
//                                        `memory` adapter's structure), 1 and
//                                        2 threads
//   typedmap_bench gopersist DIR [ROUNDS [THREADS [no-reload]]]
//                                        go-persist's headline benchmark
//                                        shape (benchmark/ in its repository):
//                                        100,000 keys, 1,000,000 ops, 20 %
//                                        Set / 80 % Get of uniform random keys,
//                                        the struct {Field1 int, Field2 string}
//                                        with a 60-character string; ops/s at
//                                        1, 2 and 8 threads (or the comma-
//                                        separated THREADS), rounds interleaved;
//                                        then (unless no-reload) the reload
//                                        time of 1,000,000 such records
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/hash.h"
#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap {
namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds of this process (user + system): the machine is shared, so wall
// time alone says little.
double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void Die(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// "key" + 13 decimal digits: 16 bytes.
std::string KeyOf(uint64_t i) {
  std::string k = "key0000000000000";
  for (size_t pos = k.size(); i > 0 && pos > 3; i /= 10)
    k[--pos] = static_cast<char>('0' + i % 10);
  return k;
}

std::string ValueOf(uint64_t i, int version) {
  std::string v(128, 'a');
  uint64_t x = Hash64(&i, sizeof(i), version);
  for (size_t j = 0; j < v.size(); j++) {
    v[j] = static_cast<char>('a' + (x >> (j % 60)) % 26);
  }
  return v;
}

Options BenchOptions() {
  Options o;
  o.background_flush = false;
  return o;
}

// Writes N keys (versions times) with kAsync + one flush per 100k changes: fast
// to build.
void Fill(const std::string& path, uint64_t n, int versions) {
  Store store(BenchOptions());
  auto m = store.Map<std::string>("m");
  Die(m.status(), "map");
  Die(store.Open(path), "open");
  for (int v = 0; v < versions; v++) {
    for (uint64_t i = 0; i < n; i++) {
      Die((*m)->Set(KeyOf(i), ValueOf(i, v), Durability::kAsync), "set");
      if (i % 100000 == 99999) Die(store.FSyncAll(), "flush");
    }
  }
  Die(store.Close(), "close");
}

int Load(const std::string& dir, uint64_t n) {
  std::string path = dir + "/load.log";
  // Reuses a log left by an earlier run with the same N (so a profiler sees
  // only loading).
  if (!Env::Default()->FileExists(path + "." + std::to_string(n))) {
    Env::Default()->RemoveFile(path).IgnoreError();
    Fill(path, n, 1);
    Env::Default()
        ->WriteFileAtomically(path + "." + std::to_string(n), "")
        .IgnoreError();
  }
  for (int run = 0; run < 3; run++) {
    Store store(BenchOptions());
    auto m = store.Map<std::string>("m");
    auto start = Clock::now();
    double cpu0 = CpuSeconds();
    Die(store.Open(path), "open");
    double secs = Seconds(start);
    double cpu = CpuSeconds() - cpu0;
    Stats st = store.GetStats();
    std::printf("load run %d: %llu records, %.1f MB, %.3f s wall, %.3f s CPU\n",
                run, static_cast<unsigned long long>(st.loaded_records),
                st.log_bytes / 1e6, secs, cpu);
  }
  return 0;
}

int ShrinkSizes(const std::string& dir, uint64_t n) {
  std::string path = dir + "/shrink.log";
  Env::Default()->RemoveFile(path).IgnoreError();
  Fill(path, n, 3);
  Store store(BenchOptions());
  auto m = store.Map<std::string>("m");
  Die(store.Open(path), "open");
  uint64_t before = store.GetStats().log_bytes;
  auto start = Clock::now();
  Die(store.Shrink(), "shrink");
  double secs = Seconds(start);
  Stats st = store.GetStats();
  std::printf(
      "shrink: %llu keys, %.1f MB before, %.1f MB after (%.2fx), %.3f s\n",
      static_cast<unsigned long long>(st.live_keys), before / 1e6,
      st.log_bytes / 1e6, static_cast<double>(before) / st.log_bytes, secs);
  return 0;
}

int FSyncRate(const std::string& dir, double seconds) {
  for (int threads : {1, 8}) {
    std::string path = dir + "/fsync.log";
    Env::Default()->RemoveFile(path).IgnoreError();
    Store store(BenchOptions());
    auto m = store.Map<std::string>("m");
    Die(store.Open(path), "open");
    std::atomic<uint64_t> ops{0};
    auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
      pool.emplace_back([&, t] {
        uint64_t i = 0;
        while (Seconds(start) < seconds) {
          Die((*m)->Set(KeyOf(t * 100000000ull + i % 1000), ValueOf(i, t),
                        Durability::kFSync),
              "set");
          i++;
        }
        ops += i;
      });
    }
    for (auto& th : pool) th.join();
    double secs = Seconds(start);
    Stats st = store.GetStats();
    std::printf(
        "fsync writes, %d thread(s): %.0f writes/s, %llu fdatasyncs for %llu "
        "requests "
        "(%.2f writes per fdatasync)\n",
        threads, ops / secs, static_cast<unsigned long long>(st.syncs),
        static_cast<unsigned long long>(st.sync_requests),
        static_cast<double>(st.sync_requests) /
            std::max<uint64_t>(st.syncs, 1));
  }
  return 0;
}

// The memory adapter's structure, rebuilt here so the engine does not depend on
// adapters/.
struct MemoryBaseline {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return Hash64(s); }
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> map;
  };
  std::unique_ptr<Shard[]> shards{new Shard[64]};
  Shard& For(std::string_view k) { return shards[Hash64(k, 0x5eed) % 64]; }
  bool Get(std::string_view k, std::string* v) {
    Shard& s = For(k);
    std::shared_lock lock(s.mu);
    auto it = s.map.find(k);
    if (it == s.map.end()) return false;
    v->assign(it->second);
    return true;
  }
};

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Gets per second of thread CPU time (summed over the threads), and of wall
// time.
template <typename GetFn>
std::pair<double, double> GetsPerSecond(const std::vector<std::string>& keys,
                                        int threads, GetFn get) {
  std::atomic<uint64_t> misses{0};
  std::atomic<double> cpu{0};
  auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++) {
    pool.emplace_back([&, t] {
      double c0 = ThreadCpuSeconds();
      std::string v;
      for (size_t i = t; i < keys.size(); i += threads) {
        if (!get(keys[i], &v)) misses++;
      }
      double c = ThreadCpuSeconds() - c0;
      double old = cpu.load();
      while (!cpu.compare_exchange_weak(old, old + c)) {
      }
    });
  }
  for (auto& th : pool) th.join();
  double secs = Seconds(start);
  if (misses > 0)
    std::printf("  (%llu misses!)\n",
                static_cast<unsigned long long>(misses.load()));
  return {keys.size() / cpu.load(), keys.size() / secs};
}

// The read-heavy shape: N keys loaded, the store reopened (so the maps are
// built by replay, as after a restart), then every key read in shuffled order.
int ReadRate(const std::string& dir, uint64_t n) {
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < n; i++) keys.push_back(KeyOf(i));
  std::string path = dir + "/read.log";
  Env::Default()->RemoveFile(path).IgnoreError();
  {
    Store store(BenchOptions());
    auto m = store.Map<Bytes>("");
    Die(store.Open(path), "open");
    for (uint64_t i = 0; i < n; i++) {
      Die((*m)->Set(keys[i], Bytes{ValueOf(i, 0)}, Durability::kAsync), "set");
    }
    Die(store.Close(), "close");
  }
  Store store(BenchOptions());
  auto m = store.Map<Bytes>("");
  Die(store.Open(path), "open");
  MemoryBaseline base;
  for (uint64_t i = 0; i < n; i++)
    base.For(keys[i]).map.emplace(keys[i], ValueOf(i, 0));
  std::shuffle(keys.begin(), keys.end(), std::mt19937_64(42));
  for (int threads : {1, 2}) {
    for (int rep = 0; rep < 3; rep++) {
      auto t = GetsPerSecond(
          keys, threads, [&](const std::string& k, std::string* v) {
            return (*m)
                ->View(k, [v](const Bytes& stored) { v->assign(stored.data); })
                .ok();
          });
      auto b = GetsPerSecond(
          keys, threads,
          [&](const std::string& k, std::string* v) { return base.Get(k, v); });
      std::printf(
          "gets per CPU-second, %d thread(s): memory-like %.2f M, typedmap "
          "%.2f M "
          "(%.2fx); wall: %.2f M vs %.2f M\n",
          threads, b.first / 1e6, t.first / 1e6, t.first / b.first,
          b.second / 1e6, t.second / 1e6);
    }
  }
  return 0;
}

// go-persist's benchmark value: `struct {Field1 int; Field2 string}` with
// JSON names field1/field2.
struct GoStruct {
  int64_t field1 = 0;
  std::string field2;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(GoStruct, field1, field2)

// 60 characters with two TABs, as go-persist's string value.
std::string GoText(uint64_t i) {
  std::string s = "value\tof key " + std::to_string(i) + "\t";
  s.resize(60, 'x');
  return s;
}

// Keys are decimal strings 0..K-1, as in go-persist's benchmark.
void FillGoShape(TypedMap<GoStruct>* m, uint64_t keys) {
  for (uint64_t i = 0; i < keys; i++) {
    Die(m->Set(std::to_string(i), GoStruct{static_cast<int64_t>(i), GoText(i)},
               Durability::kAsync),
        "set");
  }
}

// One timed run: `ops` split evenly over `threads`, each op a uniform key,
// a Set (kImmediate: an encode and one write(2)) with probability 1/5, else a
// Get (a lookup and a copy). The clock includes thread start-up, like
// go-persist's harness. Returns ops/s.
double GoShapeRun(TypedMap<GoStruct>* m, const std::vector<std::string>& keys,
                  uint64_t ops, int threads) {
  std::atomic<uint64_t> misses{0};
  auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++) {
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(1000 + t);
      GoStruct v;
      for (uint64_t i = t; i < ops; i += threads) {
        const uint64_t r = rng();
        const std::string& k = keys[(r >> 8) % keys.size()];
        if (r % 5 == 0) {
          Die(m->Set(k, GoStruct{static_cast<int64_t>(i), GoText(i)}), "set");
        } else if (!m->Get(k, &v).ok()) {
          misses++;
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  const double secs = Seconds(start);
  if (misses > 0)
    std::printf("  (%llu misses!)\n",
                static_cast<unsigned long long>(misses.load()));
  return ops / secs;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int GoShape(const std::string& dir, int rounds, const std::vector<int>& threads,
            bool reload) {
  constexpr uint64_t kKeys = 100000, kOps = 1000000, kReload = 1000000;
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < kKeys; i++) keys.push_back(std::to_string(i));
  std::vector<std::vector<double>> rates(threads.size());
  for (int round = 0; round < rounds; round++) {
    for (size_t t = 0; t < threads.size(); t++) {
      const std::string path = dir + "/gopersist.log";
      Env::Default()->RemoveFile(path).IgnoreError();
      Store store(BenchOptions());
      auto m = store.Map<GoStruct>("m");
      Die(m.status(), "map");
      Die(store.Open(path), "open");
      FillGoShape(*m, kKeys);
      Die(store.FSyncAll(), "flush");
      rates[t].push_back(GoShapeRun(*m, keys, kOps, threads[t]));
      Die(store.Close(), "close");
    }
  }
  for (size_t t = 0; t < threads.size(); t++) {
    std::printf(
        "go-persist shape, %d thread(s): median %.2f M ops/s over %d "
        "rounds (min %.2f, max %.2f)\n",
        threads[t], Median(rates[t]) / 1e6, rounds,
        *std::min_element(rates[t].begin(), rates[t].end()) / 1e6,
        *std::max_element(rates[t].begin(), rates[t].end()) / 1e6);
  }
  if (!reload) return 0;
  const std::string path = dir + "/gopersist-reload.log";
  Env::Default()->RemoveFile(path).IgnoreError();
  {
    Store store(BenchOptions());
    auto m = store.Map<GoStruct>("m");
    Die(store.Open(path), "open");
    FillGoShape(*m, kReload);
    Die(store.Close(), "close");
  }
  for (int run = 0; run < 3; run++) {
    Store store(BenchOptions());
    auto m = store.Map<GoStruct>("m");
    auto start = Clock::now();
    Die(store.Open(path), "open");
    const Stats st = store.GetStats();
    std::printf(
        "go-persist shape reload run %d: %llu records, %.1f MB, "
        "%.3f s\n",
        run, static_cast<unsigned long long>(st.loaded_records),
        st.log_bytes / 1e6, Seconds(start));
  }
  return 0;
}

}  // namespace
}  // namespace kvb::typedmap

int main(int argc, char** argv) {
  using namespace kvb::typedmap;
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s load|shrink|fsync|read|gopersist DIR [N|SECONDS]\n",
                 argv[0]);
    return 2;
  }
  std::string cmd = argv[1], dir = argv[2];
  double arg = argc > 3 ? std::atof(argv[3]) : 0;
  if (cmd == "load")
    return Load(dir, arg > 0 ? static_cast<uint64_t>(arg) : 1000000);
  if (cmd == "shrink")
    return ShrinkSizes(dir, arg > 0 ? static_cast<uint64_t>(arg) : 1000000);
  if (cmd == "fsync") return FSyncRate(dir, arg > 0 ? arg : 3);
  if (cmd == "read")
    return ReadRate(dir, arg > 0 ? static_cast<uint64_t>(arg) : 1000000);
  if (cmd == "gopersist") {
    std::vector<int> threads;
    for (const char* t = argc > 4 ? argv[4] : "1,2,8"; *t != '\0';) {
      char* end = nullptr;
      long n = std::strtol(t, &end, 10);
      if (end == t || n < 1 || n > 256 || (*end != ',' && *end != '\0')) {
        std::fprintf(stderr, "THREADS: expected counts like 1,2,8\n");
        return 2;
      }
      threads.push_back(static_cast<int>(n));
      t = *end == ',' ? end + 1 : end;
    }
    const bool reload = argc <= 5 || std::string(argv[5]) != "no-reload";
    return GoShape(dir, arg > 0 ? static_cast<int>(arg) : 3, threads, reload);
  }
  std::fprintf(stderr, "unknown command %s\n", cmd.c_str());
  return 2;
}
