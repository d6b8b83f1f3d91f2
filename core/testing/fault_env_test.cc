// FaultInjectionEnv: each fault and each rule of the power-loss model, on a
// MemEnv base (and one pass on the real disk, to show the model does not depend
// on the base).
#include "core/testing/fault_env.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/test_util.h"

namespace kvb {
namespace {

using Op = FaultInjectionEnv::Op;
using Mode = FaultInjectionEnv::PowerLossMode;

struct Fixture {
  std::unique_ptr<Env> mem = NewMemEnv();
  FaultInjectionEnv env{mem.get()};
  Fixture() { REQUIRE(env.CreateDir("/db").ok()); }

  std::unique_ptr<File> Open(const std::string& path,
                             OpenMode mode = OpenMode::kCreate) {
    auto f = env.OpenFile(path, mode);
    INFO(f.status().ToString());
    REQUIRE(f.ok());
    return std::move(f).value();
  }
  // The contents after a power loss, read through the base so no fault can
  // interfere.
  std::string Read(const std::string& path) {
    auto r = mem->ReadFileToString(path);
    INFO(path << ": " << r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  }
  bool Exists(const std::string& path) { return mem->FileExists(path); }
  // A file whose name and contents are both durable.
  void MakeDurable(const std::string& path, const std::string& contents) {
    auto f = Open(path, OpenMode::kTruncate);
    REQUIRE_OK(f->Append(contents));
    REQUIRE_OK(f->Sync());
    REQUIRE_OK(env.SyncDir(DirName(path)));
  }
};

TEST_CASE("(a) unsynced appends are dropped by power loss", "[fault_env]") {
  Fixture fx;
  auto f = fx.Open("/db/log");
  REQUIRE_OK(fx.env.SyncDir("/db"));
  REQUIRE_OK(f->Append("A"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(f->Append("B"));
  CHECK(fx.Read("/db/log") == "AB");  // visible before the crash
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/log") == "A");
}

TEST_CASE("DataSync is a sync point too; overwrites after it are dropped",
          "[fault_env]") {
  Fixture fx;
  auto f = fx.Open("/db/data");
  REQUIRE_OK(fx.env.SyncDir("/db"));
  REQUIRE_OK(f->Append("0123456789"));
  REQUIRE_OK(f->DataSync());
  REQUIRE_OK(f->WriteAt(2, "xx"));
  REQUIRE_OK(f->Truncate(8));
  REQUIRE_OK(f->Append("yy"));
  CHECK(fx.env.sync_points() == 2);
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/data") == "0123456789");
}

TEST_CASE("syncs after in-place writes record exactly the current bytes",
          "[fault_env]") {
  Fixture fx;
  auto f = fx.Open("/db/data");
  REQUIRE_OK(fx.env.SyncDir("/db"));
  REQUIRE_OK(f->Append("aaaaaaaa"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(f->WriteAt(2, "BB"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(f->Truncate(3));
  REQUIRE_OK(f->Append("cc"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(f->Append("lost"));
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/data") == "aaBcc");
}

TEST_CASE("(b) FailOnce(kSync) makes one Sync return the injected error",
          "[fault_env]") {
  Fixture fx;
  // This case checks the countdown; the fsync-gate has its own case below.
  FaultInjectionEnv::Model model;
  model.failed_sync_drops_data = false;
  fx.env.SetModel(model);
  auto f = fx.Open("/db/log");
  REQUIRE_OK(fx.env.SyncDir("/db"));
  REQUIRE_OK(f->Append("A"));
  REQUIRE_OK(f->Sync());
  fx.env.FailOnce(Op::kSync, 1, Status::FromErrno(EIO, "injected fsync"));
  REQUIRE_OK(f->Append("B"));
  REQUIRE_OK(f->Sync());  // skipped once
  REQUIRE_OK(f->Append("C"));
  Status s = f->Sync();
  CHECK(s.IsIOError());
  CHECK(s.sys_errno() == EIO);
  CHECK(fx.env.injected_failures() == 1);
  REQUIRE_OK(f->Sync());  // only once
  REQUIRE_OK(f->Append("D"));
  fx.env.FailOnce(Op::kSync, 0, Status::IOError("again"));
  CHECK_FALSE(f->Sync().ok());
  // The failed sync made nothing durable.
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/log") == "ABC");
}

TEST_CASE("(c) a new file needs SyncDir of its directory to survive",
          "[fault_env]") {
  Fixture fx;
  {
    auto f = fx.Open("/db/before-syncdir");
    REQUIRE_OK(f->Append("data"));
    REQUIRE_OK(f->Sync());
  }
  // Entry made durable while the data was never synced: the file survives,
  // empty.
  fx.Open("/db/empty-data");
  REQUIRE_OK(
      fx.env.SyncDir("/db/"));  // trailing slash names the same directory
  REQUIRE_OK(fx.Open("/db/empty-data")->Append("never synced"));
  {
    // Created after the last SyncDir: gone even though its data was synced.
    auto f = fx.Open("/db/after-syncdir");
    REQUIRE_OK(f->Append("data"));
    REQUIRE_OK(f->Sync());
  }
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/before-syncdir") == "data");
  CHECK(fx.Read("/db/empty-data").empty());
  CHECK_FALSE(fx.Exists("/db/after-syncdir"));
}

TEST_CASE("(c') a synced file whose directory was never synced vanishes",
          "[fault_env]") {
  Fixture fx;
  auto f = fx.Open("/db/orphan");
  REQUIRE_OK(f->Append("data"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK_FALSE(fx.Exists("/db/orphan"));
  CHECK(fx.mem->ListDir("/db")->empty());
}

TEST_CASE("(d) a rename without SyncDir is undone", "[fault_env]") {
  Fixture fx;
  fx.MakeDurable("/db/CURRENT", "old");
  {
    auto tmp = fx.Open("/db/CURRENT.tmp", OpenMode::kTruncate);
    REQUIRE_OK(tmp->Append("new"));
    REQUIRE_OK(tmp->Sync());
  }
  REQUIRE_OK(fx.env.RenameFile("/db/CURRENT.tmp", "/db/CURRENT"));
  CHECK(fx.Read("/db/CURRENT") == "new");
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/CURRENT") == "old");
  CHECK_FALSE(fx.Exists("/db/CURRENT.tmp"));

  // The same sequence with SyncDir sticks, and so does WriteFileAtomically.
  REQUIRE_OK(fx.env.WriteFileAtomically("/db/CURRENT", "newer"));
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/CURRENT") == "newer");
  CHECK_FALSE(fx.Exists("/db/CURRENT.tmp"));
}

TEST_CASE("(d') a rename across directories is durable per directory",
          "[fault_env]") {
  Fixture fx;
  REQUIRE_OK(fx.env.CreateDir("/db/a"));
  REQUIRE_OK(fx.env.CreateDir("/db/b"));
  fx.MakeDurable("/db/a/f", "payload");
  REQUIRE_OK(fx.env.RenameFile("/db/a/f", "/db/b/f"));
  REQUIRE_OK(
      fx.env.SyncDir("/db/b"));  // the new name is durable, the removal is not
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/a/f") == "payload");
  CHECK(fx.Read("/db/b/f") == "payload");
  // After the power loss the two names are independent files.
  REQUIRE_OK(fx.Open("/db/a/f")->Append("+"));
  CHECK(fx.Read("/db/b/f") == "payload");
}

TEST_CASE("(e) a removal without SyncDir is undone", "[fault_env]") {
  Fixture fx;
  fx.MakeDurable("/db/keep", "v1");
  {
    auto f = fx.Open("/db/keep", OpenMode::kReadWrite);
    REQUIRE_OK(f->Append("-unsynced"));
  }
  REQUIRE_OK(fx.env.RemoveFile("/db/keep"));
  CHECK_FALSE(fx.Exists("/db/keep"));
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/keep") == "v1");

  REQUIRE_OK(fx.env.RemoveFile("/db/keep"));
  REQUIRE_OK(fx.env.SyncDir("/db"));
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK_FALSE(fx.Exists("/db/keep"));
}

TEST_CASE("a removed then recreated name comes back as the old file",
          "[fault_env]") {
  Fixture fx;
  fx.MakeDurable("/db/f", "old");
  REQUIRE_OK(fx.env.RemoveFile("/db/f"));
  auto f = fx.Open("/db/f", OpenMode::kCreateNew);
  REQUIRE_OK(f->Append("new"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/f") == "old");
}

TEST_CASE("(f) ENOSPC injected on Append gives NoSpace, filtered by path",
          "[fault_env]") {
  Fixture fx;
  auto log = fx.Open("/db/log");
  auto other = fx.Open("/db/other");
  fx.env.FailAlways(Op::kAppend, Status::FromErrno(ENOSPC, "injected"), "log");
  CHECK(log->Append("x").IsNoSpace());
  CHECK(log->Append("y").IsNoSpace());
  REQUIRE_OK(other->Append("fine"));
  REQUIRE_OK(log->WriteAt(0, "w"));  // a different operation
  CHECK(fx.Read("/db/log") == "w");
  CHECK(fx.env.injected_failures() == 2);
  fx.env.ClearFaults();
  REQUIRE_OK(log->Append("z"));
  CHECK(fx.Read("/db/log") == "wz");
}

TEST_CASE("kAny and Env-level operations can fail", "[fault_env]") {
  Fixture fx;
  fx.env.FailOnce(Op::kOpen, 0, Status::IOError("open"));
  CHECK(fx.env.OpenFile("/db/x", OpenMode::kCreate).status().IsIOError());
  CHECK_FALSE(fx.Exists("/db/x"));
  fx.env.FailOnce(Op::kAny, 0, Status::IOError("any"), "/db/y");
  CHECK(fx.env.OpenFile("/db/y", OpenMode::kCreate).status().IsIOError());
  fx.env.FailOnce(Op::kRename, 0, Status::IOError("rename"));
  fx.MakeDurable("/db/a", "1");
  CHECK(fx.env.RenameFile("/db/a", "/db/b").IsIOError());
  CHECK(fx.Exists("/db/a"));
  fx.env.FailOnce(Op::kSyncDir, 0, Status::IOError("syncdir"));
  CHECK(fx.env.SyncDir("/db").IsIOError());
  fx.env.FailOnce(Op::kRead, 0, Status::Corruption("bad sector"));
  auto f = fx.Open("/db/a", OpenMode::kReadOnly);
  char buf[4];
  size_t got = 9;
  CHECK(f->ReadAt(0, 4, buf, &got).IsCorruption());
  CHECK(got == 0);
  REQUIRE_OK(f->ReadAt(0, 4, buf, &got));
  CHECK(got == 1);
  fx.env.FailOnce(Op::kLock, 0, Status::Busy("held"));
  CHECK(fx.env.LockFile("/db/LOCK").status().IsBusy());
  fx.env.FailOnce(Op::kRemove, 0, Status::IOError("rm"));
  CHECK(fx.env.RemoveFile("/db/a").IsIOError());
  REQUIRE_OK(fx.env.CreateDir("/db/d"));
  fx.env.FailOnce(Op::kRemoveDir, 0, Status::IOError("rmdir"));
  REQUIRE_OK(fx.env.RemoveFile("/db/a"));  // kRemoveDir is RemoveDir only
  CHECK(fx.env.RemoveDir("/db/d").IsIOError());
  fx.env.FailOnce(Op::kCreateDir, 0, Status::NoSpace("mkdir"));
  CHECK(fx.env.CreateDirs("/db/x/y").IsNoSpace());
  fx.env.FailOnce(Op::kListDir, 0, Status::IOError("ls"));
  CHECK(fx.env.ListDir("/db").status().IsIOError());
}

TEST_CASE("(g) TearNextWrite keeps a prefix of the write and fails it",
          "[fault_env]") {
  Fixture fx;
  auto f = fx.Open("/db/log");
  auto g = fx.Open("/db/other");
  fx.env.TearNextWrite(3, "log");
  REQUIRE_OK(g->Append("untouched"));  // filtered out
  CHECK(f->Append("abcdefgh").IsIOError());
  CHECK(fx.Read("/db/log") == "abc");
  REQUIRE_OK(f->Append("XY"));  // only the next write tears
  CHECK(fx.Read("/db/log") == "abcXY");
  fx.env.TearNextWrite(1);
  CHECK(f->WriteAt(1, "123").IsIOError());
  CHECK(fx.Read("/db/log") == "a1cXY");
  CHECK(fx.Read("/db/other") == "untouched");
}

TEST_CASE("(h) CrashAfterSyncs(k) fails every call after k sync points",
          "[fault_env]") {
  Fixture fx;
  auto f = fx.Open("/db/log");
  fx.env.CrashAfterSyncs(2);
  REQUIRE_OK(f->Append("1"));
  REQUIRE_OK(f->Sync());              // sync point 1
  REQUIRE_OK(fx.env.SyncDir("/db"));  // sync point 2: succeeds, then the crash
  CHECK(fx.env.crashed());
  CHECK(f->Append("2").IsIOError());
  CHECK(f->Sync().IsIOError());
  CHECK(f->Size().status().IsIOError());
  CHECK(fx.env.OpenFile("/db/new", OpenMode::kCreate).status().IsIOError());
  CHECK(fx.env.Stat("/db/log").status().IsIOError());
  CHECK(fx.env.SyncDir("/db").IsIOError());
  CHECK(fx.env.sync_points() == 2);
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK_FALSE(fx.env.crashed());
  CHECK(fx.Read("/db/log") == "1");

  fx.env.CrashAfterSyncs(0);  // crash right now
  CHECK(fx.env.crashed());
  fx.env.ClearFaults();
  CHECK_FALSE(fx.env.crashed());
}

TEST_CASE("(i) kTornTail keeps a prefix of the unsynced bytes", "[fault_env]") {
  bool saw_partial = false;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Fixture fx;
    auto f = fx.Open("/db/log");
    REQUIRE_OK(fx.env.SyncDir("/db"));
    REQUIRE_OK(f->Append("synced|"));
    REQUIRE_OK(f->Sync());
    const std::string tail = "0123456789abcdefghij";
    REQUIRE_OK(f->Append(tail));
    REQUIRE_OK(fx.env.SimulatePowerLoss(Mode::kTornTail, seed));
    std::string after = fx.Read("/db/log");
    INFO("seed " << seed << ": " << after);
    REQUIRE(after.size() >= 7);
    CHECK(after.substr(0, 7) == "synced|");
    CHECK(tail.substr(0, after.size() - 7) == after.substr(7));
    if (after.size() > 7 && after.size() < 7 + tail.size()) saw_partial = true;
  }
  CHECK(saw_partial);
}

TEST_CASE("kTornTail is reproducible for a seed and drops in-place overwrites",
          "[fault_env]") {
  std::string first;
  for (int round = 0; round < 2; ++round) {
    Fixture fx;
    auto f = fx.Open("/db/log");
    REQUIRE_OK(fx.env.SyncDir("/db"));
    REQUIRE_OK(f->Append(std::string(100, 'a')));
    REQUIRE_OK(fx.env.SimulatePowerLoss(Mode::kTornTail, 1234));
    std::string after = fx.Read("/db/log");
    if (round == 0) first = after;
    CHECK(after == first);
  }
  Fixture fx;
  fx.MakeDurable("/db/page", "AAAA");
  REQUIRE_OK(fx.Open("/db/page")->WriteAt(0, "BBBBBB"));
  REQUIRE_OK(fx.env.SimulatePowerLoss(Mode::kTornTail, 7));
  CHECK(fx.Read("/db/page") == "AAAA");
}

TEST_CASE("(j) files opened before power loss fail afterwards", "[fault_env]") {
  Fixture fx;
  fx.MakeDurable("/db/f", "x");
  auto f = fx.Open("/db/f");
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  char buf[1];
  size_t got = 0;
  CHECK(f->ReadAt(0, 1, buf, &got).IsIOError());
  CHECK(f->Append("y").IsIOError());
  CHECK(f->WriteAt(0, "y").IsIOError());
  CHECK(f->Truncate(0).IsIOError());
  CHECK(f->Sync().IsIOError());
  CHECK(f->DataSync().IsIOError());
  CHECK(f->Size().status().IsIOError());
  CHECK(f->Close().IsIOError());
  CHECK(fx.Read("/db/f") == "x");
}

TEST_CASE("(k) the Env works normally after power loss; locks are released",
          "[fault_env]") {
  Fixture fx;
  auto lock = fx.env.LockFile("/db/LOCK");
  REQUIRE(lock.ok());
  CHECK(fx.env.LockFile("/db/LOCK").status().IsBusy());
  fx.env.FailAlways(Op::kAppend, Status::IOError("stuck"));
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  // The "dead process" no longer holds its lock; faults are gone.
  auto relock = fx.env.LockFile("/db/LOCK");
  CHECK(relock.ok());
  lock->reset();  // destroying a lock released by power loss is harmless
  fx.MakeDurable("/db/f", "after");
  auto f = fx.Open("/db/f");
  REQUIRE_OK(f->Append("!"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/f") == "after!");
  CHECK(fx.env.ReadFileToString("/db/f").ok());
}

TEST_CASE("files that existed before the FaultInjectionEnv count as durable",
          "[fault_env]") {
  auto mem = NewMemEnv();
  REQUIRE_OK(mem->CreateDir("/db"));
  REQUIRE_OK(mem->WriteFileAtomically("/db/old", "before"));
  REQUIRE_OK(mem->WriteFileAtomically("/db/untouched", "as is"));
  FaultInjectionEnv env(mem.get());
  {
    auto f = env.OpenFile("/db/old", OpenMode::kReadWrite);
    REQUIRE(f.ok());
    REQUIRE_OK((*f)->Append(" after"));
  }
  REQUIRE_OK(env.RenameFile("/db/old", "/db/moved"));
  REQUIRE_OK(env.SimulatePowerLoss());
  CHECK(*mem->ReadFileToString("/db/old") == "before");
  CHECK_FALSE(mem->FileExists("/db/moved"));
  CHECK(*mem->ReadFileToString("/db/untouched") == "as is");
}

TEST_CASE("directory removal is immediate; files in a removed dir stay gone",
          "[fault_env]") {
  Fixture fx;
  REQUIRE_OK(fx.env.CreateDir("/db/sub"));
  fx.MakeDurable("/db/sub/f", "x");
  REQUIRE_OK(fx.env.RemoveAll("/db/sub"));
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK_FALSE(fx.Exists("/db/sub"));
  CHECK(fx.env.RenameFile("/db", "/db2").IsNotSupported());
}

TEST_CASE("concurrent reads and writers through the fault env", "[fault_env]") {
  Fixture fx;
  fx.MakeDurable("/db/shared", std::string(4096, 's'));
  auto reader = fx.Open("/db/shared", OpenMode::kReadOnly);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&] {
      char buf[64];
      for (int i = 0; i < 500; ++i) {
        size_t got = 0;
        if (!reader->ReadAt(i % 4000, 64, buf, &got).ok() || got != 64)
          ++failures;
      }
    });
  }
  for (int th = 0; th < 2; ++th) {
    threads.emplace_back([&, th] {
      auto f = fx.env.OpenFile("/db/w" + std::to_string(th), OpenMode::kCreate);
      if (!f.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < 100; ++i) {
        if (!(*f)->Append("rec").ok() || !(*f)->Sync().ok()) ++failures;
        if (!fx.env.SyncDir("/db").ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/w0").size() == 300);
  CHECK(fx.Read("/db/w1").size() == 300);
}

TEST_CASE("the power-loss model works over the POSIX Env too", "[fault_env]") {
  testing::TempDir tmp("kvb-fault-env");
  FaultInjectionEnv env(Env::Default());
  const std::string dir = tmp.path();
  REQUIRE_OK(env.WriteFileAtomically(JoinPath(dir, "CURRENT"), "v1"));
  auto f = env.OpenFile(JoinPath(dir, "log"), OpenMode::kCreate);
  REQUIRE(f.ok());
  REQUIRE_OK((*f)->Append("A"));
  REQUIRE_OK((*f)->Sync());
  REQUIRE_OK(env.SyncDir(dir));
  REQUIRE_OK((*f)->Append("B"));
  REQUIRE_OK(env.RenameFile(JoinPath(dir, "CURRENT"), JoinPath(dir, "OLD")));
  REQUIRE_OK(env.SimulatePowerLoss());
  CHECK(*Env::Default()->ReadFileToString(JoinPath(dir, "log")) == "A");
  CHECK(*Env::Default()->ReadFileToString(JoinPath(dir, "CURRENT")) == "v1");
  CHECK_FALSE(Env::Default()->FileExists(JoinPath(dir, "OLD")));
}

TEST_CASE("FailSticky: once it fires, the listed calls keep failing",
          "[fault_env]") {
  Fixture fx;
  auto f = fx.Open("/db/log");
  fx.env.FailSticky(Op::kAppend, 1, Status::NoSpace("full"),
                    {Op::kAppend, Op::kSync, Op::kOpen, Op::kCreateDir});
  REQUIRE_OK(f->Append("A"));  // skipped once
  CHECK(f->Append("B").IsNoSpace());
  CHECK(f->Append("C").IsNoSpace());
  CHECK(f->Sync().IsNoSpace());
  CHECK(fx.env.OpenFile("/db/other", OpenMode::kCreate).status().IsNoSpace());
  CHECK(fx.env.CreateDir("/db/sub").IsNoSpace());
  char buf[4];
  size_t got = 0;
  REQUIRE_OK(f->ReadAt(0, 4, buf, &got));  // not listed: still works
  CHECK(got == 1);
  CHECK(fx.env.injected_failures() == 5);
  fx.env.ClearFaults();
  REQUIRE_OK(f->Append("D"));
}

// ---- The model's extra states (FaultInjectionEnv::Model) -------------------

using Model = FaultInjectionEnv::Model;
using Names = Model::Names;

Model NamesModel(Names names) {
  Model m;
  m.unsynced_names = names;
  return m;
}

TEST_CASE("names outrun data: a create survives without SyncDir, zero length",
          "[fault_env][model]") {
  Fixture fx;
  fx.env.SetModel(NamesModel(Names::kAll));
  REQUIRE_OK(fx.Open("/db/new")->Append("never synced"));
  auto synced = fx.Open("/db/synced");
  REQUIRE_OK(synced->Append("data"));
  REQUIRE_OK(synced->Sync());
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/new").empty());
  CHECK(fx.Read("/db/synced") == "data");  // data and name both durable
}

TEST_CASE("names outrun data: a rename survives while its data does not",
          "[fault_env][model]") {
  for (Names names : {Names::kOnlySynced, Names::kAll}) {
    Fixture fx;
    fx.env.SetModel(NamesModel(names));
    fx.MakeDurable("/db/CURRENT", "old");
    fx.MakeDurable("/db/inplace", "old-bytes");
    // The classic unsafe replace: write a temp file, rename it, no fsync.
    REQUIRE_OK(fx.Open("/db/CURRENT.tmp")->Append("new"));
    REQUIRE_OK(fx.env.RenameFile("/db/CURRENT.tmp", "/db/CURRENT"));
    // An inode rewritten in place, then renamed: the new name, old contents.
    REQUIRE_OK(fx.Open("/db/inplace", OpenMode::kReadWrite)->WriteAt(0, "NEW"));
    REQUIRE_OK(fx.env.RenameFile("/db/inplace", "/db/moved"));
    REQUIRE_OK(fx.env.SimulatePowerLoss());
    INFO("names model " << static_cast<int>(names));
    CHECK_FALSE(fx.Exists("/db/CURRENT.tmp"));
    if (names == Names::kAll) {
      CHECK(fx.Read("/db/CURRENT").empty());  // the new inode, never synced
      CHECK(fx.Read("/db/moved") == "old-bytes");
      CHECK_FALSE(fx.Exists("/db/inplace"));
    } else {
      CHECK(fx.Read("/db/CURRENT") == "old");  // the rename was undone
      CHECK(fx.Read("/db/inplace") == "old-bytes");
      CHECK_FALSE(fx.Exists("/db/moved"));
    }
  }
}

TEST_CASE("names outrun data: truncation and removal are durable at once",
          "[fault_env][model]") {
  Fixture fx;
  fx.env.SetModel(NamesModel(Names::kAll));
  fx.MakeDurable("/db/rewritten", "0123456789");
  fx.MakeDurable("/db/cut", "0123456789");
  fx.MakeDurable("/db/removed", "x");
  REQUIRE_OK(fx.Open("/db/rewritten", OpenMode::kTruncate)->Append("new"));
  REQUIRE_OK(fx.Open("/db/cut", OpenMode::kReadWrite)->Truncate(4));
  REQUIRE_OK(fx.env.RemoveFile("/db/removed"));
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/rewritten").empty());
  CHECK(fx.Read("/db/cut") == "0123");
  CHECK_FALSE(fx.Exists("/db/removed"));
}

TEST_CASE("names outrun data: a random prefix of the journal, renames whole",
          "[fault_env][model]") {
  std::set<int> kept_counts;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Fixture fx;
    fx.env.SetModel(NamesModel(Names::kRandomPrefix));
    fx.MakeDurable("/db/A", "a");
    for (int i = 0; i < 10; ++i) {
      if (i == 5) REQUIRE_OK(fx.env.RenameFile("/db/A", "/db/B"));
      auto f = fx.Open("/db/f" + std::to_string(i));
      REQUIRE_OK(f->Append("data"));
      REQUIRE_OK(f->Sync());
    }
    REQUIRE_OK(fx.env.SimulatePowerLoss(Mode::kDropUnsynced, seed));
    INFO("seed " << seed);
    int kept = 0;
    while (kept < 10 && fx.Exists("/db/f" + std::to_string(kept))) ++kept;
    for (int i = kept; i < 10; ++i)
      CHECK_FALSE(fx.Exists("/db/f" + std::to_string(i)));  // a prefix only
    CHECK(fx.Exists("/db/A") != fx.Exists("/db/B"));        // never split
    // In order with the creates around it (the cut may fall just after it).
    if (kept > 5) CHECK(fx.Exists("/db/B"));
    if (kept < 5) CHECK(fx.Exists("/db/A"));
    kept_counts.insert(kept);
  }
  CHECK(kept_counts.size() >= 4);  // the seed does pick different cuts
}

TEST_CASE("directories: a new one is durable only after SyncDir of its parent",
          "[fault_env][model]") {
  Fixture fx;
  Model m;
  m.dirs_need_parent_sync = true;
  fx.env.SetModel(m);
  REQUIRE_OK(fx.env.CreateDir("/db/lost"));
  REQUIRE_OK(fx.env.CreateDirs("/db/kept/child"));
  REQUIRE_OK(fx.env.SyncDir("/db"));
  // /db/lost is created again after the parent sync: not durable.
  REQUIRE_OK(fx.env.CreateDir("/db/late"));
  for (const char* dir : {"/db/lost", "/db/late", "/db/kept/child"}) {
    auto f = fx.Open(std::string(dir) + "/file");
    REQUIRE_OK(f->Append("data"));
    REQUIRE_OK(f->Sync());
    REQUIRE_OK(fx.env.SyncDir(dir));  // the file's entry itself is durable
  }
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Exists("/db/lost"));  // synced by SyncDir("/db") above
  CHECK(fx.Read("/db/lost/file") == "data");
  CHECK_FALSE(fx.Exists("/db/late"));  // gone, and its file with it
  CHECK(fx.Exists("/db/kept"));
  CHECK_FALSE(fx.Exists("/db/kept/child"));  // /db/kept never synced
}

TEST_CASE("directories: the root's children need SyncDir(\"/\")",
          "[fault_env][model]") {
  Fixture fx;
  Model m;
  m.dirs_need_parent_sync = true;
  fx.env.SetModel(m);
  REQUIRE_OK(fx.env.CreateDir("/top"));
  REQUIRE_OK(fx.env.CreateDir("/gone"));
  REQUIRE_OK(fx.env.SyncDir("/"));
  REQUIRE_OK(fx.env.RemoveDir("/gone"));
  REQUIRE_OK(fx.env.CreateDir("/late"));
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Exists("/top"));
  CHECK(fx.Exists("/gone"));  // the removal was never synced
  CHECK_FALSE(fx.Exists("/late"));
}

TEST_CASE("directories: a RemoveDir is undone until the parent is synced",
          "[fault_env][model]") {
  Fixture fx;
  Model m;
  m.dirs_need_parent_sync = true;
  fx.env.SetModel(m);
  REQUIRE_OK(fx.env.CreateDir("/db/a"));
  REQUIRE_OK(fx.env.CreateDir("/db/b"));
  REQUIRE_OK(fx.env.SyncDir("/db"));
  REQUIRE_OK(fx.env.RemoveDir("/db/a"));
  REQUIRE_OK(fx.env.RemoveDir("/db/b"));
  REQUIRE_OK(fx.env.SyncDir("/db"));
  REQUIRE_OK(fx.env.CreateDir("/db/b"));  // re-created, not durable
  REQUIRE_OK(fx.env.RemoveDir("/db/b"));
  REQUIRE_OK(fx.env.RemoveDir("/db"));  // existed before the model: durable
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Exists("/db"));
  CHECK_FALSE(fx.Exists("/db/a"));
  CHECK_FALSE(fx.Exists("/db/b"));
}

TEST_CASE("without the model, directories are durable at once",
          "[fault_env][model]") {
  Fixture fx;
  REQUIRE_OK(fx.env.CreateDir("/db/sub"));
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Exists("/db/sub"));
}

TEST_CASE("fsync-gate: a failed sync drops the dirty data for good",
          "[fault_env][model]") {
  for (Op op : {Op::kSync, Op::kDataSync}) {
    Fixture fx;  // failed_sync_drops_data is the default
    auto f = fx.Open("/db/log");
    REQUIRE_OK(fx.env.SyncDir("/db"));
    REQUIRE_OK(f->Append("AB"));
    REQUIRE_OK(f->Sync());
    REQUIRE_OK(f->WriteAt(0, "a"));  // an overwrite of durable bytes
    REQUIRE_OK(f->Append("CD"));     // and new bytes
    fx.env.FailOnce(op, 0, Status::FromErrno(EIO, "injected"));
    CHECK((op == Op::kSync ? f->Sync() : f->DataSync()).IsIOError());
    CHECK(fx.Read("/db/log") == "aBCD");  // the page cache still has them
    REQUIRE_OK(f->Append("E"));           // written after the failure
    REQUIRE_OK(f->Sync());                // succeeds, but cannot bring back
    REQUIRE_OK(fx.env.SimulatePowerLoss());
    CHECK(fx.Read("/db/log") == std::string("AB\0\0E", 5));
  }
}

TEST_CASE("fsync-gate: bytes written again after the failure become durable",
          "[fault_env][model]") {
  Fixture fx;
  auto f = fx.Open("/db/log");
  REQUIRE_OK(fx.env.SyncDir("/db"));
  REQUIRE_OK(f->Append("ABCD"));
  fx.env.FailOnce(Op::kSync, 0, Status::IOError("injected"));
  CHECK_FALSE(f->Sync().ok());
  REQUIRE_OK(f->WriteAt(1, "bc"));  // the engine rewrites part of what it lost
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/log") == std::string("\0bc\0", 4));
}

TEST_CASE("fsync-gate off: a later successful sync covers the failed one",
          "[fault_env][model]") {
  Fixture fx;
  Model m;
  m.failed_sync_drops_data = false;
  fx.env.SetModel(m);
  auto f = fx.Open("/db/log");
  REQUIRE_OK(fx.env.SyncDir("/db"));
  REQUIRE_OK(f->Append("AB"));
  fx.env.FailOnce(Op::kSync, 0, Status::IOError("injected"));
  CHECK_FALSE(f->Sync().ok());
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(fx.env.SimulatePowerLoss());
  CHECK(fx.Read("/db/log") == "AB");
}

}  // namespace
}  // namespace kvb
