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
  std::atomic<uint64_t> acks{0};
  std::atomic<bool> stop{false};  // close mode: writers leave for Close
  std::chrono::steady_clock::time_point deadline;
};

// Whether this ack was the child's stop_at_ack-th: in write mode we die of
// SIGKILL here (the ack is already in the pipe); in close mode all writers
// leave so the main thread can Close.
bool ReachedStop(Shared* s) {
  const uint64_t stop = s->o->stop_at_ack;
  if (stop == 0) return false;
  if (s->acks.fetch_add(1, std::memory_order_relaxed) + 1 < stop) {
    return s->stop.load(std::memory_order_relaxed);
  }
  if (s->o->mode == "write") kill(getpid(), SIGKILL);
  s->stop.store(true, std::memory_order_relaxed);
  return true;
}

// Waits for the parent's SIGKILL (open and close modes end here).
[[noreturn]] void AwaitKill() {
  std::this_thread::sleep_for(kChildLifetime);
  Die("not killed within " + std::to_string(kChildLifetime.count()) + " s");
}

// Close mode: Close after the writers stopped; the kill lands during it or
// after it.
[[noreturn]] void CloseAndWait(Shared* s) {
  s->reporter.Send(CrashEventKind::kClosing, 0, 0, 0, false, 0);
  Status st = s->adapter->Close();
  if (!st.ok()) Die("Close: " + st.ToString());
  s->reporter.Send(CrashEventKind::kClosed, 0, 0, 0, false, 0);
  AwaitKill();
}

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
    if (s->stop.load(std::memory_order_relaxed)) return;
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
    if (ReachedStop(s)) return;
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

  Shared s{
      &o, adapter->get(), &*keys, &codec, Reporter(o.report_fd), {}, {}, {}, {},
      {}};
  s.deadline = std::chrono::steady_clock::now() + kChildLifetime;
  s.next_seq.store(o.seq_base);
  s.reporter.Send(CrashEventKind::kOpened, 0, 0, 0, false, 0);
  if (o.mode == "open") AwaitKill();
  std::vector<std::thread> threads;
  for (uint32_t t = 1; t < o.threads; ++t) threads.emplace_back(Writer, &s, t);
  Writer(&s, 0);
  for (std::thread& t : threads) t.join();
  if (o.mode == "close" && s.stop.load()) CloseAndWait(&s);
  Die("not killed within " + std::to_string(kChildLifetime.count()) + " s");
}

}  // namespace kvb
