// kill -9: a child process writes single records and batches on the real file
// system and reports each acknowledged call through a pipe; the parent kills it
// with SIGKILL mid-stream, reopens the log and checks that every acknowledged
// write is there, that a batch is all or nothing, and that nothing was
// invented. Run for kFSync and kImmediate (both promise survival of a process
// crash; only power loss tells them apart, see crash_test.cc).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "core/testing/test_util.h"
#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap {
namespace {

// Op i is a batch of kBatch keys when i % 4 == 3, else one Set.
constexpr int kBatch = 5;
constexpr uint32_t kChildFailed = 0xffffffff;

bool IsBatch(uint32_t i) { return i % 4 == 3; }
std::string SingleKey(uint32_t i) { return "s" + std::to_string(i); }
std::string BatchKey(uint32_t i, int j) {
  return "b" + std::to_string(i) + "." + std::to_string(j);
}
std::string ValueOf(const std::string& key) { return "value of " + key; }

Status WriteOp(TypedMap<std::string>* map, uint32_t i, Durability d) {
  if (!IsBatch(i)) {
    std::string key = SingleKey(i);
    return map->Set(key, ValueOf(key), d);
  }
  TypedMap<std::string>::Batch batch;
  for (int j = 0; j < kBatch; j++) {
    std::string key = BatchKey(i, j);
    batch.Set(key, ValueOf(key));
  }
  return map->Write(std::move(batch), d);
}

// The child: writes ops forever (until killed), acknowledging each one.
[[noreturn]] void Child(const std::string& path, Durability d, int ack_fd) {
  Store store;
  auto map = store.Map<std::string>("m");
  uint32_t failed = kChildFailed;
  if (!map.ok() || !store.Open(path).ok()) {
    (void)!write(ack_fd, &failed, sizeof failed);
    _exit(1);
  }
  for (uint32_t i = 0;; i++) {
    if (!WriteOp(*map, i, d).ok()) {
      (void)!write(ack_fd, &failed, sizeof failed);
      _exit(1);
    }
    if (write(ack_fd, &i, sizeof i) != sizeof i) _exit(1);
  }
}

// Kills the child once it has acknowledged `kill_after` ops; returns the number
// of ops it acknowledged in all (acks already in the pipe count).
uint32_t RunAndKill(const std::string& path, Durability d,
                    uint32_t kill_after) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    Child(path, d, fds[1]);
  }
  close(fds[1]);
  uint32_t acked = 0, ack = 0;
  bool killed = false;
  while (read(fds[0], &ack, sizeof ack) == sizeof ack) {
    REQUIRE(ack != kChildFailed);
    REQUIRE(ack == acked);  // acks arrive in order
    acked++;
    if (!killed && acked >= kill_after) {
      kill(pid, SIGKILL);
      killed = true;  // keep reading: acks written before death still count
    }
  }
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  return acked;
}

TEST_CASE("kill -9 loses no acknowledged write and invents none") {
  for (Durability d : {Durability::kFSync, Durability::kImmediate}) {
    for (uint32_t kill_after : {1u, 37u, 400u}) {
      testing::TempDir dir;
      const std::string path = dir.path() + "/log";
      uint32_t acked = RunAndKill(path, d, kill_after);
      INFO("durability " << static_cast<int>(d) << ", acked " << acked);
      REQUIRE(acked >= kill_after);

      Store store;
      auto map = store.Map<std::string>("m");
      REQUIRE(map.ok());
      REQUIRE_OK(store.Open(path));
      // The op in flight at the kill (index `acked`) may or may not be there,
      // but whole; nothing after it may exist.
      uint64_t expected = 0;
      auto check_op = [&](uint32_t i, bool must) {
        std::string v;
        if (!IsBatch(i)) {
          Status s = (*map)->Get(SingleKey(i), &v);
          if (must) REQUIRE_OK(s);
          if (s.ok()) {
            CHECK(v == ValueOf(SingleKey(i)));
            expected++;
          }
          return;
        }
        int present = 0;
        for (int j = 0; j < kBatch; j++) {
          if ((*map)->Get(BatchKey(i, j), &v).ok()) {
            CHECK(v == ValueOf(BatchKey(i, j)));
            present++;
          }
        }
        CHECK((present == 0 || present == kBatch));
        if (must) CHECK(present == kBatch);
        expected += present;
      };
      for (uint32_t i = 0; i < acked; i++) check_op(i, true);
      check_op(acked, false);
      // Every key in the map was accounted for above: nothing invented.
      CHECK((*map)->Size() == expected);
      CHECK(store.GetStats().truncated_bytes < 4096);
      REQUIRE_OK(store.Close());
    }
  }
}

}  // namespace
}  // namespace kvb::typedmap
