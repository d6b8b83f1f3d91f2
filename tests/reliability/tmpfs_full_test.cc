// A real full disk: each engine configuration writes, through its public API
// and the POSIX Env, into its own 3 MiB tmpfs until a call fails. Every write
// it acknowledged (an OK Put where the write reaches the OS before returning,
// otherwise everything before the last OK Sync) must then be readable: first
// on a reopen while the disk is still full (the open may fail; a value it
// serves must be right), then after the tmpfs is grown (remount) and the
// database reopened, with no key that was never written.
//
// Mounting needs CAP_SYS_ADMIN, here or in a new user namespace; the test does
// its mounts in a private mount namespace so that nothing leaks out. Where
// neither is allowed, it prints SKIPPED with the reason and counts as skipped.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/test_util.h"
#include "tests/reliability/drivers.h"

namespace kvb::reliability {
namespace {

bool WriteProcFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  return static_cast<bool>(f.flush());
}

// Enters a private mount namespace (as root, or as root of a new user
// namespace). Returns "" or why not.
std::string EnterMountNamespace() {
  static std::string result = [] {
    if (::unshare(CLONE_NEWNS) != 0) {
      const int first = errno;
      const uid_t uid = ::getuid();
      const gid_t gid = ::getgid();
      if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
        return std::string("unshare(CLONE_NEWNS): ") + std::strerror(first) +
               "; unshare(CLONE_NEWUSER|CLONE_NEWNS): " + std::strerror(errno);
      }
      WriteProcFile("/proc/self/setgroups", "deny");
      if (!WriteProcFile("/proc/self/uid_map",
                         "0 " + std::to_string(uid) + " 1") ||
          !WriteProcFile("/proc/self/gid_map",
                         "0 " + std::to_string(gid) + " 1"))
        return std::string("cannot write the user namespace's id maps");
    }
    // Our mounts must not propagate to the rest of the machine.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return std::string("mount --make-rprivate /: ") + std::strerror(errno);
    return std::string();
  }();
  return result;
}

// Mounts a tmpfs of `size` on `dir`; "" or why not.
std::string MountTmpfs(const std::string& dir, const char* size, bool remount) {
  const std::string opts = std::string("size=") + size;
  if (::mount("tmpfs", dir.c_str(), "tmpfs", remount ? MS_REMOUNT : 0,
              opts.c_str()) != 0)
    return std::string("mount -t tmpfs -o ") + opts + " " + dir + ": " +
           std::strerror(errno);
  return "";
}

std::string Key(int i) { return "key" + std::to_string(1000000 + i); }
std::string ValueOf(int i) {
  std::string v = "v" + std::to_string(i) + ":";
  for (size_t j = v.size(); j < 900; ++j)
    v.push_back(static_cast<char>('a' + (i * 7 + j * 13) % 26));
  return v;
}

// Every acknowledged key holds its value; `strict` (after the remount) also
// requires an OK read and no unknown key.
std::string Check(Driver* d, int acked, int attempted, bool strict) {
  for (int i = 0; i < acked; ++i) {
    std::string v;
    Status s = d->Get(Key(i), &v);
    if (!strict && !s.ok() && !s.IsNotFound()) continue;  // reported
    if (!s.ok()) return "acknowledged " + Key(i) + ": " + s.ToString();
    if (v != ValueOf(i)) return "acknowledged " + Key(i) + " has a wrong value";
  }
  if (!strict) return "";
  std::set<std::string> keys;
  Status s = d->Keys(&keys);
  if (!s.ok()) return "listing keys: " + s.ToString();
  for (const std::string& k : keys) {
    const int i = std::stoi(k.substr(3)) - 1000000;
    if (i < 0 || i > attempted) return "unknown key " + k;
  }
  return "";
}

struct FullRun {
  int acked = 0;      // keys [0, acked) are acknowledged
  int attempted = 0;  // the last key tried
  std::string first_error;
};

// Writes keys until a call fails, syncing every 25 puts.
FullRun FillUntilFull(Driver* d) {
  FullRun r;
  constexpr int kMaxKeys = 20000;  // 18 MB: far past a 3 MiB disk
  for (int i = 0; i < kMaxKeys; ++i) {
    r.attempted = i;
    Status s = d->Put(Key(i), ValueOf(i));
    if (s.ok() && d->WriteAcknowledges()) r.acked = i + 1;
    if (s.ok() && i % 25 == 24) {
      s = d->Sync();
      if (s.ok()) r.acked = i + 1;
    }
    if (!s.ok()) {
      r.first_error = s.ToString();
      return r;
    }
  }
  return r;
}

TEST_CASE("every engine keeps what it acknowledged on a real full tmpfs",
          "[reliability][tmpfs]") {
  const std::string why = EnterMountNamespace();
  if (!why.empty())
    KVB_SKIP("cannot mount a tmpfs here ("
             << why << "); needs root or user namespaces");
  testing::TempDir tmp("kvb-tmpfs");
  for (const Config& config : AllConfigs()) {
    INFO(config.name);
    const std::string mnt = tmp.Sub("m");
    REQUIRE(::mkdir(mnt.c_str(), 0700) == 0);
    const std::string mounted = MountTmpfs(mnt, "3m", false);
    if (!mounted.empty()) KVB_SKIP(mounted);
    const std::string dir = mnt + "/db";
    std::unique_ptr<Driver> d = config.make();
    if (!d->CreatesDir()) REQUIRE_OK(Env::Default()->CreateDirs(dir));
    REQUIRE_OK(d->Open(Env::Default(), dir));
    const FullRun r = FillUntilFull(d.get());
    d->Close().IgnoreError();
    INFO("acknowledged " << r.acked << " of " << r.attempted + 1
                         << " keys; first error: " << r.first_error);
    CHECK(r.first_error.find("no_space") != std::string::npos);
    CHECK(r.acked > 0);
    {
      std::unique_ptr<Driver> full = config.make();
      if (full->Open(Env::Default(), dir).ok())
        CHECK(Check(full.get(), r.acked, r.attempted, false) == "");
      full->Close().IgnoreError();
    }
    REQUIRE(MountTmpfs(mnt, "64m", true) == "");
    std::unique_ptr<Driver> again = config.make();
    Status s = again->Open(Env::Default(), dir);
    INFO("reopen after the remount: " << s.ToString());
    REQUIRE(s.ok());
    CHECK(Check(again.get(), r.acked, r.attempted, true) == "");
    CHECK_OK(again->Close());
    WARN(config.name << ": 3 MiB tmpfs full after " << r.acked
                     << " acknowledged keys (" << r.first_error << ")");
    REQUIRE(::umount2(mnt.c_str(), MNT_DETACH) == 0);
    REQUIRE(::rmdir(mnt.c_str()) == 0);
  }
}

}  // namespace
}  // namespace kvb::reliability
