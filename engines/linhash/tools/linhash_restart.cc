// linhash_restart — measures how fast a linhash database comes back: the
// clean reopen (median of several) and the recovery after kill -9.
//
//   linhash_restart [--keys N] [--tail-frac F] [--reopens R] [--dir D]
//                   [--seed S] [--keep]
//
// 1. Loads N keys (16-byte keys, 128-byte values) into a new database in D,
//    closes it cleanly (Close writes the checkpoint).
// 2. Reopens it R times (warm page cache): wall and CPU time of Open, chunks
//    of the index read by Open, then 100,000 random Gets right after the
//    reopen (these pay for the lazily loaded index chunks) and again.
// 3. Forks a child that opens the database, appends F*N/2 new keys, writes a
//    checkpoint (so it covers N(1 + F/2) keys, ~95 % at F = 0.1), tells the
//    parent, and keeps appending new keys; the parent SIGKILLs it after a
//    random delay within the time the child needs for another F*N/2 keys.
// 4. Times the recovery Open, checks what it replayed (exactly the keys the
//    child appended after its checkpoint and that reached the file: a prefix
//    of them), checks sampled values, then times Close (which writes a new
//    checkpoint) and one more clean reopen.
// Prints one table. Removes D at the end unless --keep.
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  uint64_t keys = 10'000'000;
  double tail_frac = 0.1;
  int reopens = 5;
  std::string dir;
  uint64_t seed = 1;
  bool keep = false;
};

// 16 bytes: "key:" + 12 hex digits of a bijection of i on [0, 2^48).
void KeyFor(uint64_t i, char* out) {
  const uint64_t x = (i * 0x9E3779B97F4A7C15ull) & ((uint64_t{1} << 48) - 1);
  std::memcpy(out, "key:", 4);
  static const char* kHex = "0123456789abcdef";
  for (int b = 0; b < 12; ++b) out[4 + b] = kHex[(x >> (4 * b)) & 15];
}

// 128 bytes: i, then a filler that also depends on i.
void ValueFor(uint64_t i, std::string* v) {
  v->assign(128, static_cast<char>('a' + i % 26));
  std::memcpy(v->data(), &i, sizeof(i));
}

double Ms(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double CpuMs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

[[noreturn]] void Die(const char* what, const Status& s) {
  std::fprintf(stderr, "linhash_restart: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

Options BaseOptions() {
  Options o;
  o.checkpoint_interval_ms = 0;  // checkpoints only where this tool says
  return o;
}

std::unique_ptr<DB> MustOpen(const std::string& dir) {
  auto db = DB::Open(dir, BaseOptions());
  if (!db.ok()) Die("open", db.status());
  return std::move(db).value();
}

void PutRange(DB* db, uint64_t from, uint64_t to) {
  char key[16];
  std::string value;
  for (uint64_t i = from; i < to; ++i) {
    KeyFor(i, key);
    ValueFor(i, &value);
    Status s = db->Put(std::string_view(key, 16), value);
    if (!s.ok()) Die("put", s);
  }
}

// Gets `n` random keys of [0, keys); checks each value.
double TimedGets(DB* db, uint64_t keys, uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  char key[16];
  std::string got;
  std::string want;
  auto t0 = Clock::now();
  for (uint64_t j = 0; j < n; ++j) {
    uint64_t i = rng() % keys;
    KeyFor(i, key);
    Status s = db->Get(std::string_view(key, 16), &got);
    if (!s.ok()) Die("get", s);
    ValueFor(i, &want);
    if (got != want) Die("get", Status::Corruption("wrong value"));
  }
  return Ms(t0);
}

struct Shared {                     // one page shared with the child
  std::atomic<uint64_t> acked;      // keys acknowledged so far (child)
  std::atomic<uint64_t> ckpt_done;  // first key index after the checkpoint
  std::atomic<double> rate;         // child's puts per ms before it
};

[[noreturn]] void Child(const Args& a, Shared* sh) {
  auto db = MustOpen(a.dir);
  const uint64_t half = static_cast<uint64_t>(a.keys * a.tail_frac / 2);
  auto t0 = Clock::now();
  PutRange(db.get(), a.keys, a.keys + half);
  sh->rate.store(half / std::max(Ms(t0), 1.0));
  Status s = db->Checkpoint();
  if (!s.ok()) Die("checkpoint", s);
  sh->ckpt_done.store(a.keys + half);
  char key[16];
  std::string value;
  for (uint64_t i = a.keys + half;; ++i) {
    KeyFor(i, key);
    ValueFor(i, &value);
    s = db->Put(std::string_view(key, 16), value);
    if (!s.ok()) Die("put", s);
    sh->acked.store(i + 1, std::memory_order_relaxed);
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Run(const Args& a) {
  Env* env = Env::Default();
  if (env->FileExists(a.dir)) {
    std::fprintf(stderr, "linhash_restart: %s exists; pick a new --dir\n",
                 a.dir.c_str());
    return 2;
  }
  std::printf("linhash_restart: %" PRIu64
              " keys (16 B keys, 128 B values)"
              ", dir %s\n",
              a.keys, a.dir.c_str());
  std::fflush(stdout);
  // 1. Load and close cleanly.
  auto t0 = Clock::now();
  {
    auto db = MustOpen(a.dir);
    PutRange(db.get(), 0, a.keys);
    const double load_ms = Ms(t0);
    auto t1 = Clock::now();
    Status s = db->Close();
    if (!s.ok()) Die("close", s);
    std::printf("  load %.1f s (%.0f puts/s), clean close %.0f ms\n",
                load_ms / 1e3, a.keys / (load_ms / 1e3), Ms(t1));
  }
  const uint64_t log_bytes = [&] {
    auto db = MustOpen(a.dir);
    return db->GetStats().log_bytes;
  }();
  // 2. Clean reopens.
  std::vector<double> wall, cpu, first_gets, second_gets, first_cpu, second_cpu;
  uint64_t chunks_at_open = 0;
  uint64_t replayed_clean = 0;
  uint64_t chunks_after = 0;
  for (int r = 0; r < a.reopens; ++r) {
    const double c0 = CpuMs();
    auto w0 = Clock::now();
    auto db = MustOpen(a.dir);
    wall.push_back(Ms(w0));
    cpu.push_back(CpuMs() - c0);
    chunks_at_open = db->GetMetrics().index_chunks_loaded;
    replayed_clean = db->GetMetrics().replayed_records;
    double g0 = CpuMs();
    first_gets.push_back(TimedGets(db.get(), a.keys, 100'000, a.seed + r));
    first_cpu.push_back(CpuMs() - g0);
    g0 = CpuMs();
    second_gets.push_back(TimedGets(db.get(), a.keys, 100'000, a.seed + r));
    second_cpu.push_back(CpuMs() - g0);
    chunks_after = db->GetMetrics().index_chunks_loaded;
    Status s = db->Close();
    if (!s.ok()) Die("close", s);
  }
  const Stats st = MustOpen(a.dir)->GetStats();
  const uint64_t total_chunks = (st.primary_buckets + 16383) / 16384 +
                                (st.overflow_buckets + 16383) / 16384;

  // 3. The child, killed after its checkpoint.
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 3;
  auto* sh = new (page) Shared{};
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 3;
  if (pid == 0) Child(a, sh);
  while (sh->ckpt_done.load() == 0) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::fprintf(stderr, "linhash_restart: child ended early\n");
      return 4;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const uint64_t ckpt_keys = sh->ckpt_done.load();
  const uint64_t half = ckpt_keys - a.keys;
  const double window_ms = half / std::max(sh->rate.load(), 1e-3);
  std::mt19937_64 rng(a.seed);
  const double delay_ms =
      std::uniform_real_distribution<double>(0.0, window_ms)(rng);
  std::this_thread::sleep_for(
      std::chrono::microseconds(static_cast<int64_t>(delay_ms * 1e3)));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  const uint64_t acked = std::max(sh->acked.load(), ckpt_keys);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    std::fprintf(stderr, "linhash_restart: child was not killed\n");
    return 4;
  }

  // 4. Recovery.
  const double c0 = CpuMs();
  auto w0 = Clock::now();
  auto db = MustOpen(a.dir);
  const double rec_wall = Ms(w0);
  const double rec_cpu = CpuMs() - c0;
  const Metrics m = db->GetMetrics();
  const uint64_t present = db->Count();
  // Keys after the checkpoint that survived are a prefix of what was written.
  const uint64_t survived = present - ckpt_keys;
  bool ok = m.full_rebuilds == 0 && m.replayed_records == survived &&
            present <= acked + 1 && present >= ckpt_keys;
  {
    char key[16];
    std::string got;
    std::string want;
    for (uint64_t i = 0; i < present; i += 997) {
      KeyFor(i, key);
      ok = ok && db->Get(std::string_view(key, 16), &got).ok();
      ValueFor(i, &want);
      ok = ok && got == want;
    }
    KeyFor(present, key);
    ok = ok && db->Get(std::string_view(key, 16), &got).IsNotFound();
  }
  auto t_close = Clock::now();
  Status s = db->Close();
  if (!s.ok()) Die("close after recovery", s);
  const double close_ms = Ms(t_close);
  db.reset();
  auto w1 = Clock::now();
  auto again = MustOpen(a.dir);
  const double reopen_after = Ms(w1);
  const uint64_t replayed_after = again->GetMetrics().replayed_records;
  again->Close().IgnoreError();
  again.reset();

  std::printf("\n| measurement | value |\n|---|---|\n");
  std::printf("| keys loaded / log bytes | %" PRIu64 " / %.2f GB |\n", a.keys,
              log_bytes / 1e9);
  std::printf("| index (checkpoint body) | %.1f MB in %" PRIu64
              " chunks of 2 MiB |\n",
              st.index_bytes / 1e6, total_chunks);
  std::printf(
      "| clean reopen wall, median of %d (min / max) | %.2f ms "
      "(%.2f / %.2f) |\n",
      a.reopens, Median(wall), *std::min_element(wall.begin(), wall.end()),
      *std::max_element(wall.begin(), wall.end()));
  std::printf("| clean reopen CPU, median | %.2f ms |\n", Median(cpu));
  std::printf(
      "| clean reopen: chunks read by Open / records replayed | %" PRIu64
      " / %" PRIu64 " |\n",
      chunks_at_open, replayed_clean);
  std::printf(
      "| first 100k random Gets after reopen, wall / CPU (median) | %.0f ms / "
      "%.0f ms, %" PRIu64 " chunks loaded by then |\n",
      Median(first_gets), Median(first_cpu), chunks_after);
  std::printf(
      "| next 100k random Gets, wall / CPU (median) | %.0f ms / %.0f "
      "ms |\n",
      Median(second_gets), Median(second_cpu));
  std::printf("| child: checkpoint at | %" PRIu64
              " keys (%.1f %% of the "
              "final count) |\n",
              ckpt_keys, 100.0 * ckpt_keys / std::max(present, uint64_t{1}));
  std::printf("| child: SIGKILL after | %.0f ms (window %.0f ms), %" PRIu64
              " puts acknowledged after the checkpoint |\n",
              delay_ms, window_ms, acked - ckpt_keys);
  std::printf("| recovery Open wall / CPU | %.1f ms / %.1f ms |\n", rec_wall,
              rec_cpu);
  std::printf("| recovery: records replayed / full rebuilds | %" PRIu64
              " / %" PRIu64 " |\n",
              m.replayed_records, m.full_rebuilds);
  std::printf("| recovery: keys present / lost unflushed acks | %" PRIu64
              " / %" PRIu64 " |\n",
              present, acked > present ? acked - present : 0);
  std::printf("| Close after recovery (writes a checkpoint) | %.0f ms |\n",
              close_ms);
  std::printf("| reopen after that: wall / replayed | %.2f ms / %" PRIu64
              " |\n",
              reopen_after, replayed_after);
  std::printf(
      "| checks (replay = surviving tail, values, no extra key) | "
      "%s |\n",
      ok ? "pass" : "FAIL");
  if (!a.keep) env->RemoveAll(a.dir).IgnoreError();
  return ok ? 0 : 5;
}

}  // namespace
}  // namespace kvb::linhash

int main(int argc, char** argv) {
  kvb::linhash::Args a;
  a.dir = "/tmp/linhash_restart." + std::to_string(getpid());
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", f.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (f == "--keys") {
      a.keys = std::strtoull(next(), nullptr, 10);
    } else if (f == "--tail-frac") {
      a.tail_frac = std::strtod(next(), nullptr);
    } else if (f == "--reopens") {
      a.reopens = std::atoi(next());
    } else if (f == "--dir") {
      a.dir = next();
    } else if (f == "--seed") {
      a.seed = std::strtoull(next(), nullptr, 10);
    } else if (f == "--keep") {
      a.keep = true;
    } else {
      std::fprintf(stderr,
                   "usage: linhash_restart [--keys N] [--tail-frac F] "
                   "[--reopens R] [--dir D] [--seed S] [--keep]\n");
      return 2;
    }
  }
  if (a.keys < 1000 || !(a.tail_frac > 0 && a.tail_frac <= 1) ||
      a.reopens < 1) {
    std::fprintf(stderr,
                 "linhash_restart: need --keys >= 1000, "
                 "0 < --tail-frac <= 1, --reopens >= 1\n");
    return 2;
  }
  return kvb::linhash::Run(a);
}
