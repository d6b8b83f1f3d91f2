// A real kill -9: a child process writes, checkpoints part-way, writes and
// syncs a tail, then SIGKILLs itself; the parent reopens the directory and
// checks that Open replayed exactly the tail after the checkpoint, that every
// acknowledged key is there with its value, and that nothing was invented.
//
// fork() is safe here: the test process has one thread when it forks (no DB
// is open), and the child ends by a signal, never by returning into Catch2.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "core/testing/test_util.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

std::string Key(int i) {
  std::string k = "key-";
  k.append(std::to_string(i));
  return k;
}

// Version 0 for the first write of a key, 1 for the tail's overwrites.
std::string Val(int i, int ver) {
  std::string v(100, static_cast<char>('a' + ver));
  v.append(std::to_string(i));
  return v;
}

struct Plan {
  int before = 0;         // keys 0..before-1, written before the checkpoint
  int tail_new = 0;       // keys before..before+tail_new-1, after it
  int tail_over = 0;      // overwrites of keys 0, 7, 14, ... after it
  int unsynced = 0;       // keys written after the last Sync (may be lost)
  bool periodic = false;  // wait for the background checkpoint instead
};

// The child's work; returns an exit code only on failure (success ends in
// SIGKILL).
int ChildMain(const std::string& dir, const Plan& p, int report_fd) {
  Options o;
  // Long enough that the tail is written and synced before a second periodic
  // checkpoint could cover part of it (the child reports how many ran).
  o.checkpoint_interval_ms = p.periodic ? 400 : 0;
  auto db = DB::Open(dir, o);
  if (!db.ok()) return 10;
  DB* d = db->get();
  const uint64_t at_open = d->GetMetrics().checkpoints;  // a new DB writes one
  for (int i = 0; i < p.before; ++i) {
    if (!d->Put(Key(i), Val(i, 0)).ok()) return 11;
  }
  if (p.periodic) {
    // The background checkpoint covers everything written so far (no write
    // runs meanwhile).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (d->GetMetrics().checkpoints == at_open) {
      if (std::chrono::steady_clock::now() > deadline) return 12;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  } else if (!d->Checkpoint().ok()) {
    return 12;
  }
  const uint64_t covering = d->GetMetrics().checkpoints;
  for (int i = 0; i < p.tail_new; ++i) {
    if (!d->Put(Key(p.before + i), Val(p.before + i, 0)).ok()) return 13;
  }
  for (int i = 0; i < p.tail_over; ++i) {
    if (!d->Put(Key(i * 7), Val(i * 7, 1)).ok()) return 14;
  }
  if (!d->Sync().ok()) return 15;
  const int first_unsynced = p.before + p.tail_new;
  for (int i = 0; i < p.unsynced; ++i) {
    if (!d->Put(Key(first_unsynced + i), Val(first_unsynced + i, 0)).ok()) {
      return 16;
    }
  }
  // Checkpoints that ran during the tail (0 unless the machine was very slow).
  const uint64_t checkpoints = d->GetMetrics().checkpoints - covering;
  if (write(report_fd, &checkpoints, sizeof(checkpoints)) !=
      sizeof(checkpoints)) {
    return 17;
  }
  raise(SIGKILL);
  return 18;
}

void RunKillCase(const Plan& p) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("db");
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    _exit(ChildMain(dir, p, fds[1]));
  }
  close(fds[1]);
  uint64_t checkpoints = 0;
  const bool reported =
      read(fds[0], &checkpoints, sizeof(checkpoints)) == sizeof(checkpoints);
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("child exit status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  REQUIRE(reported);

  Options o;
  o.checkpoint_interval_ms = 0;
  o.index_preload_bytes = 0;  // the lazily attached index takes the tail
  auto db = DB::Open(dir, o);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  DB* d = db->get();
  // The expected state after the synced tail.
  std::map<std::string, std::string> model;
  for (int i = 0; i < p.before + p.tail_new; ++i) model[Key(i)] = Val(i, 0);
  for (int i = 0; i < p.tail_over; ++i) model[Key(i * 7)] = Val(i * 7, 1);
  // Unsynced keys may have survived (in the page cache) only as a prefix.
  const int first_unsynced = p.before + p.tail_new;
  int survivors = 0;
  std::string v;
  while (survivors < p.unsynced &&
         d->Get(Key(first_unsynced + survivors), &v).ok()) {
    REQUIRE(v == Val(first_unsynced + survivors, 0));
    model[Key(first_unsynced + survivors)] = v;
    ++survivors;
  }
  for (int i = survivors; i < p.unsynced; ++i) {
    REQUIRE(d->Get(Key(first_unsynced + i), &v).IsNotFound());
  }
  const Metrics m = d->GetMetrics();
  CHECK(m.full_rebuilds == 0);
  CHECK(m.recoveries == 1);
  // Only the log after the checkpoint was replayed.
  const uint64_t tail = p.tail_new + p.tail_over + survivors;
  if (checkpoints == 0) {
    CHECK(m.replayed_records == tail);
  } else {
    // A slow machine let another periodic checkpoint cover part of the tail.
    WARN("child ran " << checkpoints << " checkpoints during the tail");
    CHECK(m.replayed_records < tail);
  }
  CHECK(d->Count() == model.size());
  for (const auto& [k, val] : model) {
    REQUIRE(d->Get(k, &v).ok());
    REQUIRE(v == val);
  }
  // Nothing invented: the iterator sees exactly the model.
  std::map<std::string, std::string> seen;
  auto it = d->NewIterator();
  while (it->Next()) seen[std::string(it->key())] = std::string(it->value());
  REQUIRE_OK(it->status());
  CHECK(seen == model);
  it.reset();
  // The recovered state is checkpointed at Close: the next Open replays
  // nothing.
  REQUIRE_OK(d->Close());
  auto again = DB::Open(dir, o);
  REQUIRE(again.ok());
  CHECK((*again)->GetMetrics().replayed_records == 0);
  CHECK((*again)->Count() == model.size());
}

TEST_CASE("kill -9 after an explicit checkpoint: only the tail is replayed",
          "[linhash][kill]") {
  Plan p;
  p.before = 20000;
  p.tail_new = 3000;
  p.tail_over = 1000;
  p.unsynced = 50;
  RunKillCase(p);
}

TEST_CASE("kill -9 after a periodic checkpoint: only the tail is replayed",
          "[linhash][kill]") {
  Plan p;
  p.before = 5000;
  p.tail_new = 800;
  p.tail_over = 200;
  p.periodic = true;
  RunKillCase(p);
}

}  // namespace
}  // namespace kvb::linhash
