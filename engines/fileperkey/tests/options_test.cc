// Options that had no test of their own: the per-call WriteOptions::sync
// (durable through a power loss while Options::sync is off) and Import's
// cross-file-system fallback (rename fails with EXDEV: copy, then remove the
// source), through a real second file system (/dev/shm) and through an Env
// seam. (index_less and walk errors: index_build_test.cc.)
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <fstream>

#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/fileperkey/fileperkey.h"

namespace kvb::fileperkey {
namespace {

std::unique_ptr<Store> MustOpen(const std::string& dir, const Options& o) {
  Result<std::unique_ptr<Store>> s = Store::Open(dir, o);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(*s);
}

TEST_CASE("WriteOptions::sync makes one write durable with Options::sync off",
          "[store][sync]") {
  auto mem = NewMemEnv();
  FaultInjectionEnv env(mem.get());
  Options o;
  o.env = &env;
  o.transform = Transform::Blocks(1, 1);
  REQUIRE_FALSE(o.sync);
  {
    auto store = MustOpen("/s", o);
    REQUIRE_OK(store->Write("a1", "synced", WriteOptions{.sync = true}));
    REQUIRE_OK(store->Write("b1", "not synced"));
    REQUIRE_OK(env.WriteFileAtomically("/src", "imported"));
    REQUIRE_OK(store->Import("/src", "c1", /*move=*/false,
                             WriteOptions{.sync = true}));
    REQUIRE_OK(store->Write("d1", "not synced either"));
    REQUIRE_OK(env.SimulatePowerLoss());
    // The store object is dead (its files were invalidated); drop it.
  }
  auto store = MustOpen("/s", o);
  std::string v;
  REQUIRE_OK(store->Read("a1", &v));
  CHECK(v == "synced");
  REQUIRE_OK(store->Read("c1", &v));
  CHECK(v == "imported");
  // The strict model keeps no unsynced name: the plain writes are gone, which
  // is what shows the synced ones were synced by their own call.
  CHECK(store->Read("b1", &v).IsNotFound());
  CHECK(store->Read("d1", &v).IsNotFound());
}

// Forwards to another Env; a rename whose source starts with `prefix` fails
// with EXDEV, as rename(2) does across file systems.
class CrossDeviceEnv final : public Env {
 public:
  CrossDeviceEnv(Env* base, std::string prefix)
      : base_(base), prefix_(std::move(prefix)) {}
  int exdev_renames = 0;

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (from.compare(0, prefix_.size(), prefix_) == 0) {
      exdev_renames++;
      return Status::FromErrno(EXDEV, "rename " + from + " -> " + to);
    }
    return base_->RenameFile(from, to);
  }
  Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                         OpenMode mode) override {
    return base_->OpenFile(path, mode);
  }
  Status RemoveFile(const std::string& path) override {
    return base_->RemoveFile(path);
  }
  Status CreateDir(const std::string& path) override {
    return base_->CreateDir(path);
  }
  Status RemoveDir(const std::string& path) override {
    return base_->RemoveDir(path);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  Result<FileStat> Stat(const std::string& path) override {
    return base_->Stat(path);
  }
  Status SyncDir(const std::string& dir) override {
    return base_->SyncDir(dir);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 private:
  Env* const base_;
  const std::string prefix_;
};

// The raw-rename path of Import(move) exists only for plain stores (no
// checksum, no compression), so these use checksum none.
Options PlainIndexed(Env* env) {
  Options o;
  o.env = env;
  o.checksum = ValueChecksum::kNone;
  o.index = true;
  o.cache_bytes = 1 << 20;
  return o;
}

TEST_CASE("Import(move) falls back to copy + remove on EXDEV (Env seam)",
          "[store][import]") {
  auto mem = NewMemEnv();
  CrossDeviceEnv env(mem.get(), "/other-fs/");
  auto store = MustOpen("/s", PlainIndexed(&env));
  REQUIRE_OK(mem->CreateDirs("/other-fs"));
  REQUIRE_OK(mem->WriteFileAtomically("/other-fs/f", "from afar"));
  std::string v;
  CHECK(store->Read("k", &v).IsNotFound());  // and a stale cache would show
  REQUIRE_OK(store->Import("/other-fs/f", "k", /*move=*/true));
  CHECK(env.exdev_renames == 1);  // the rename was tried and refused
  REQUIRE_OK(store->Read("k", &v));
  CHECK(v == "from afar");
  CHECK_FALSE(mem->FileExists("/other-fs/f"));  // moved: the source is gone
  CHECK(*store->IndexKeysAfter("", 10) == std::vector<std::string>{"k"});
  // A rename error other than EXDEV is returned, and the source stays.
  REQUIRE_OK(mem->WriteFileAtomically("/other-fs/g", "g"));
  CHECK(store->Import("/other-fs/missing", "m", true).IsNotFound());
  CHECK(mem->FileExists("/other-fs/g"));
}

TEST_CASE("Import(move) across real file systems (/dev/shm into the store)",
          "[store][import][posix]") {
  testing::TempDir tmp;
  struct stat a, b;
  if (::stat("/dev/shm", &b) != 0 || ::stat(tmp.path().c_str(), &a) != 0 ||
      a.st_dev == b.st_dev) {
    KVB_SKIP("needs /dev/shm on another file system than "
             << tmp.path() << " (the Env-seam case covers the fallback)");
  }
  const std::string src = "/dev/shm/fpk-import-" + std::to_string(::getpid());
  std::ofstream(src) << "tmpfs bytes";
  auto store = MustOpen(tmp.Sub("s"), PlainIndexed(Env::Default()));
  REQUIRE_OK(store->Import(src, "k", /*move=*/true));
  std::string v;
  REQUIRE_OK(store->Read("k", &v));
  CHECK(v == "tmpfs bytes");
  CHECK_FALSE(Env::Default()->FileExists(src));
  CHECK(*store->IndexKeysAfter("", 10) == std::vector<std::string>{"k"});
  ::unlink(src.c_str());
}

}  // namespace
}  // namespace kvb::fileperkey
