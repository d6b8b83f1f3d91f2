#include "crash/powerloss/shim_selftest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace kvb::powerloss {

namespace {

bool Check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "shim selftest: %s (errno %d)\n", what, errno);
  return ok;
}

bool Put(int fd, const char* s) {
  return ::write(fd, s, std::strlen(s)) == static_cast<ssize_t>(std::strlen(s));
}

// O_APPEND, dup, writev; the file is unlinked while open and written again.
bool AppendAndUnlink(const std::string& dir) {
  std::string a = dir + "/a";
  int fd = ::open(a.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
  if (!Check(fd >= 0, "open a")) return false;
  bool ok = Put(fd, "hello") && Put(fd, " world");
  int fd2 = ::dup(fd);
  struct iovec v[2] = {{const_cast<char*>("x"), 1},
                       {const_cast<char*>("yz"), 2}};
  ok =
      ok && Check(fd2 >= 0, "dup") && Check(::writev(fd2, v, 2) == 3, "writev");
  std::string keep = dir + "/a-link";
  ok = ok && Check(::link(a.c_str(), keep.c_str()) == 0, "link");
  ok = ok && Check(::unlink(a.c_str()) == 0, "unlink a") && Put(fd2, "!");
  ::close(fd);
  ::close(fd2);
  return ok;
}

// pwrite, ftruncate, F_DUPFD, write at the shared offset, lseek, rename.
bool PositionalAndRename(const std::string& dir) {
  std::string b = dir + "/b";
  int fd = ::open(b.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (!Check(fd >= 0, "open b")) return false;
  bool ok = Check(::pwrite(fd, "0123456789", 10, 0) == 10, "pwrite") &&
            Check(::pwrite(fd, "AB", 2, 4) == 2, "pwrite 2") &&
            Check(::ftruncate(fd, 8) == 0, "ftruncate") &&
            Check(::fdatasync(fd) == 0, "fdatasync");
  int fd4 = ::fcntl(fd, F_DUPFD, 100);
  ok = ok && Check(fd4 >= 100, "F_DUPFD") && Put(fd4, "tail") &&
       Check(::lseek(fd4, 0, SEEK_END) == 8, "lseek") && Put(fd4, "END");
  ::close(fd4);
  ::close(fd);
  ok = ok && Check(::mkdir((dir + "/sub").c_str(), 0755) == 0, "mkdir sub") &&
       Check(::rename(b.c_str(), (dir + "/sub/b2").c_str()) == 0, "rename");
  return ok;
}

// openat relative to a directory fd, fallocate, rmdir, a failing open.
bool AtCallsAndErrors(const std::string& dir) {
  int dfd = ::open((dir + "/sub").c_str(), O_RDONLY | O_DIRECTORY);
  if (!Check(dfd >= 0, "open sub")) return false;
  int fd = ::openat(dfd, "c", O_CREAT | O_WRONLY, 0644);
  bool ok = Check(fd >= 0, "openat c") && Put(fd, "c") &&
            Check(::fallocate(fd, 0, 0, 100) == 0, "fallocate") &&
            Check(::fsync(dfd) == 0, "fsync dir");
  ::close(fd);
  ::close(dfd);
  ok = ok && Check(::mkdir((dir + "/gone").c_str(), 0755) == 0, "mkdir gone") &&
       Check(::rmdir((dir + "/gone").c_str()) == 0, "rmdir gone");
  errno = 0;
  int bad = ::open((dir + "/missing").c_str(), O_RDONLY);
  ok = ok && Check(bad < 0 && errno == ENOENT, "failed open keeps ENOENT");
  errno = 0;
  ok =
      ok && Check(::rename((dir + "/nope").c_str(), (dir + "/x").c_str()) < 0 &&
                      errno == ENOENT,
                  "failed rename keeps ENOENT");
  return ok;
}

// Four threads append to their own files and one shared file at once: the
// shim's lock must keep each logged offset with its write.
bool Threads(const std::string& dir) {
  int shared =
      ::open((dir + "/shared").c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
  if (!Check(shared >= 0, "open shared")) return false;
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string own = dir + "/t" + std::to_string(t);
      int fd = ::open(own.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
      if (fd < 0) ok = false;
      for (int i = 0; i < 200 && fd >= 0; ++i) {
        std::string rec = std::to_string(t) + ":" + std::to_string(i) + ";";
        if (!Put(fd, rec.c_str()) || !Put(shared, rec.c_str())) ok = false;
      }
      if (fd >= 0) ::close(fd);
    });
  }
  for (std::thread& th : threads) th.join();
  ::close(shared);
  return Check(ok, "threaded appends");
}

}  // namespace

int ShimSelfTest(const std::string& dir) {
  if (!AppendAndUnlink(dir)) return 1;
  if (!PositionalAndRename(dir)) return 1;
  if (!AtCallsAndErrors(dir)) return 1;
  if (!Threads(dir)) return 1;
  ::sync();
  return 0;
}

}  // namespace kvb::powerloss
