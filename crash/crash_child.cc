// The child side of `kvbench crash` (crash/crash.h): open, write, report,
// until SIGKILL.
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/registry.h"
#include "crash/crash.h"
#include "crash/crash_internal.h"
#include "workloads/keyset.h"
#include "workloads/random.h"
#include "workloads/value_codec.h"

namespace kvb {
namespace {

// A child that is never killed (a parent that hangs) stops by itself.
constexpr auto kChildLifetime = std::chrono::seconds(300);

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "kvbench crash-child: error: " << what << "\n";
  std::cerr.flush();
  // Other writer threads may be inside the engine: leave without running
  // destructors, as a crash would.
  _exit(1);
}

class Reporter {
 public:
  explicit Reporter(int fd) : fd_(fd) {}
  // One write(2) of 24 bytes: atomic on a pipe, so threads need no lock. The
  // record is in the pipe before this returns, so it survives our SIGKILL.
  void Send(CrashEventKind kind, uint16_t thread, uint64_t key,
            uint32_t version, bool deleted, uint64_t seq) const {
    CrashEvent e{kind, static_cast<uint8_t>(deleted), thread, version, key,
                 seq};
    const char* p = reinterpret_cast<const char*>(&e);
    size_t left = sizeof e;
    while (left > 0) {
      ssize_t n = write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(4);  // the parent is gone
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
};

struct Shared {
  const CrashChildOptions* o;
  Adapter* adapter;
  const KeySet* keys;
  const ValueCodec* codec;
  Reporter reporter;
  std::atomic<uint64_t> next_seq{0};
  std::atomic<uint64_t> next_sync{0};
  std::chrono::steady_clock::time_point deadline;
};

// Thread t owns keys t, t + T, t + 2T, ...: the ops of one key are issued and
// acknowledged in order, which is what the parent's oracle relies on.
void Writer(Shared* s, uint32_t t) {
  const uint32_t threads = s->o->threads;
  const uint64_t owned = (s->o->keys - t + threads - 1) / threads;
  if (owned == 0) return;
  std::vector<uint32_t> version(owned, s->o->version_base);
  Rng rng(StreamSeed(s->o->seed, t + 1));
  const uint64_t sync_span = 2 * uint64_t{s->o->sync_every};
  uint64_t until_sync = 1 + rng.Below(sync_span);
  std::string value, scratch;
  for (uint64_t n = 0;; ++n) {
    if ((n & 1023) == 0 && std::chrono::steady_clock::now() > s->deadline) {
      return;
    }
    uint64_t local = rng.Below(owned);
    uint64_t id = t + local * threads;
    uint32_t v = ++version[local];
    bool del = rng.Below(kCrashDeleteOneIn) == 0;
    uint64_t seq = s->next_seq.fetch_add(1, std::memory_order_relaxed);
    std::string_view key = s->keys->key(id, &scratch);
    if (!del) s->codec->Encode(s->keys->hash(id), v, &value);
    s->reporter.Send(CrashEventKind::kIssue, t, id, v, del, seq);
    Status st = del ? s->adapter->Delete(key) : s->adapter->Put(key, value);
    if (!st.ok()) {
      Die(std::string(del ? "Delete" : "Put") + " of op #" +
          std::to_string(seq) + ": " + st.ToString());
    }
    s->reporter.Send(CrashEventKind::kAck, t, id, v, del, seq);
    if (!s->o->sync_model && --until_sync == 0) {
      uint64_t sid = s->next_sync.fetch_add(1, std::memory_order_relaxed);
      s->reporter.Send(CrashEventKind::kSyncStart, t, 0, 0, false, sid);
      st = s->adapter->Sync();
      if (!st.ok()) Die("Sync: " + st.ToString());
      s->reporter.Send(CrashEventKind::kSyncDone, t, 0, 0, false, sid);
      until_sync = 1 + rng.Below(sync_span);
    }
  }
}

}  // namespace

int CrashChildMain(const CrashChildOptions& o) {
  // Die with the parent rather than write on forever.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_DFL);
  if (o.report_fd < 0 || o.keys == 0 || o.threads == 0 || o.sync_every == 0) {
    Die("bad arguments (this subcommand is run by `kvbench crash`)");
  }
  Result<KeySet> keys = KeySet::Build(o.keys, CrashKeySizes(), false, o.seed);
  if (!keys.ok()) Die(keys.status().ToString());
  ValueCodec codec(o.seed, CrashValueSizes());
  Result<std::unique_ptr<Adapter>> adapter = OpenAdapter(o.engine, o.dir);
  if (!adapter.ok()) Die("open " + o.dir + ": " + adapter.status().ToString());

  Shared s{&o, adapter->get(), &*keys, &codec, Reporter(o.report_fd), {}, {},
           {}};
  s.deadline = std::chrono::steady_clock::now() + kChildLifetime;
  s.next_seq.store(o.seq_base);
  s.reporter.Send(CrashEventKind::kOpened, 0, 0, 0, false, 0);
  std::vector<std::thread> threads;
  for (uint32_t t = 1; t < o.threads; ++t) threads.emplace_back(Writer, &s, t);
  Writer(&s, 0);
  for (std::thread& t : threads) t.join();
  Die("not killed within " + std::to_string(kChildLifetime.count()) + " s");
}

}  // namespace kvb
