// libkvb_powerloss_shim.so — an LD_PRELOAD recorder of the file-system calls
// a process makes under one directory (see log_format.h for the log).
//
// Environment: KVB_POWERLOSS_DIR = the watched root (absolute, no symlinks),
// KVB_POWERLOSS_LOG = the log file (outside the root). Without both the shim
// passes every call through and records nothing.
//
// Rules of this file:
//   - Every wrapper calls the real function and returns its result and errno
//     unchanged; logging happens only after success.
//   - A thread-local depth counter makes the shim's own calls (and anything
//     libc calls back while the shim is active) pass through unrecorded.
//   - Calls on tracked descriptors hold one mutex across the real call and the
//     log write, so the log order is the completion order and the offset of a
//     write() read back with lseek belongs to that write. fsync/fdatasync/sync
//     are the exception: the lock is not held while they run (they are slow);
//     their record carries the sequence number at their start, because only
//     what completed before the start is covered.
//   - No static constructors: the real functions are looked up once with
//     pthread_once on first use (other libraries' constructors may call open
//     before ours would run).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>

#include "crash/powerloss/log_format.h"

namespace {

using kvb::powerloss::kLogMagic;
using kvb::powerloss::RecordHeader;
using kvb::powerloss::RecordType;

constexpr int kMaxFds = 1 << 16;

// The real functions (RTLD_NEXT).
struct Real {
  int (*open)(const char*, int, ...);
  int (*openat)(int, const char*, int, ...);
  ssize_t (*write)(int, const void*, size_t);
  ssize_t (*pwrite)(int, const void*, size_t, off_t);
  ssize_t (*writev)(int, const struct iovec*, int);
  ssize_t (*pwritev)(int, const struct iovec*, int, off_t);
  ssize_t (*pwritev2)(int, const struct iovec*, int, off_t, int);
  int (*ftruncate)(int, off_t);
  int (*truncate)(const char*, off_t);
  int (*fallocate)(int, int, off_t, off_t);
  int (*posix_fallocate)(int, off_t, off_t);
  int (*renameat2)(int, const char*, int, const char*, unsigned);
  int (*renameat)(int, const char*, int, const char*);
  int (*rename)(const char*, const char*);
  int (*unlinkat)(int, const char*, int);
  int (*unlink)(const char*);
  int (*mkdirat)(int, const char*, mode_t);
  int (*mkdir)(const char*, mode_t);
  int (*rmdir)(const char*);
  int (*linkat)(int, const char*, int, const char*, int);
  int (*link)(const char*, const char*);
  int (*symlinkat)(const char*, int, const char*);
  int (*symlink)(const char*, const char*);
  int (*fsync)(int);
  int (*fdatasync)(int);
  int (*sync_file_range)(int, off_t, off_t, unsigned);
  int (*msync)(void*, size_t, int);
  void (*sync)();
  int (*syncfs)(int);
  void* (*mmap)(void*, size_t, int, int, int, off_t);
  int (*close)(int);
  int (*dup)(int);
  int (*dup2)(int, int);
  int (*dup3)(int, int, int);
  int (*fcntl)(int, int, ...);
  ssize_t (*copy_file_range)(int, off_t*, int, off_t*, size_t, unsigned);
  ssize_t (*sendfile)(int, int, off_t*, size_t);
  int (*fclose)(FILE*);
  FILE* (*fdopen)(int, const char*);
  FILE* (*fopen)(const char*, const char*);
};

Real g_real;
pthread_once_t g_once = PTHREAD_ONCE_INIT;
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
char g_root[PATH_MAX];
size_t g_root_len = 0;
int g_log_fd = -1;
uint64_t g_seq = 0;                       // records written (guarded by g_mu)
std::atomic<uint8_t> g_tracked[kMaxFds];  // 1 = fd refers to a watched file
char* g_fd_path[kMaxFds];                 // absolute path (guarded by g_mu)
uint8_t g_fd_append[kMaxFds];             // O_APPEND (guarded by g_mu)
dev_t g_fd_dev[kMaxFds];                  // identity at open (guarded by g_mu)
ino_t g_fd_ino[kMaxFds];
__thread int t_depth __attribute__((tls_model("initial-exec")));

template <typename F>
void Lookup(F* slot, const char* name) {
  *slot = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

void LookupAll() {
  Lookup(&g_real.open, "open");
  Lookup(&g_real.openat, "openat");
  Lookup(&g_real.write, "write");
  Lookup(&g_real.pwrite, "pwrite");
  Lookup(&g_real.writev, "writev");
  Lookup(&g_real.pwritev, "pwritev");
  Lookup(&g_real.pwritev2, "pwritev2");
  Lookup(&g_real.ftruncate, "ftruncate");
  Lookup(&g_real.truncate, "truncate");
  Lookup(&g_real.fallocate, "fallocate");
  Lookup(&g_real.posix_fallocate, "posix_fallocate");
  Lookup(&g_real.renameat2, "renameat2");
  Lookup(&g_real.renameat, "renameat");
  Lookup(&g_real.rename, "rename");
  Lookup(&g_real.unlinkat, "unlinkat");
  Lookup(&g_real.unlink, "unlink");
  Lookup(&g_real.mkdirat, "mkdirat");
  Lookup(&g_real.mkdir, "mkdir");
  Lookup(&g_real.rmdir, "rmdir");
  Lookup(&g_real.linkat, "linkat");
  Lookup(&g_real.link, "link");
  Lookup(&g_real.symlinkat, "symlinkat");
  Lookup(&g_real.symlink, "symlink");
  Lookup(&g_real.fsync, "fsync");
  Lookup(&g_real.fdatasync, "fdatasync");
  Lookup(&g_real.sync_file_range, "sync_file_range");
  Lookup(&g_real.msync, "msync");
  Lookup(&g_real.sync, "sync");
  Lookup(&g_real.syncfs, "syncfs");
  Lookup(&g_real.mmap, "mmap");
  Lookup(&g_real.close, "close");
  Lookup(&g_real.dup, "dup");
  Lookup(&g_real.dup2, "dup2");
  Lookup(&g_real.dup3, "dup3");
  Lookup(&g_real.fcntl, "fcntl");
  Lookup(&g_real.copy_file_range, "copy_file_range");
  Lookup(&g_real.sendfile, "sendfile");
  Lookup(&g_real.fclose, "fclose");
  Lookup(&g_real.fdopen, "fdopen");
  Lookup(&g_real.fopen, "fopen");
}

void WriteAll(const char* p, size_t n) {
  while (n > 0) {
    ssize_t r = g_real.write(g_log_fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;  // the log is best effort; the reader sees the tail
    p += r;
    n -= static_cast<size_t>(r);
  }
}

struct Rec {
  RecordType type;
  int fd = -1;
  int fd2 = -1;
  int64_t a = 0, b = 0, c = 0;
  const char* path1 = "";
  const char* path2 = "";
  const char* data = nullptr;
  size_t data_len = 0;
};

// REQUIRES: g_mu held, g_log_fd >= 0.
void LogLocked(const Rec& r) {
  RecordHeader h;
  memset(&h, 0, sizeof(h));
  h.magic = kLogMagic;
  h.type = static_cast<uint16_t>(r.type);
  size_t l1 = strlen(r.path1), l2 = strlen(r.path2);
  h.path1_len = static_cast<uint16_t>(l1);
  h.path2_len = static_cast<uint16_t>(l2);
  h.fd = r.fd;
  h.fd2 = r.fd2;
  h.a = r.a;
  h.b = r.b;
  h.c = r.c;
  h.data_len = static_cast<uint32_t>(r.data_len);
  size_t total = sizeof(h) + l1 + l2 + r.data_len;
  char* buf = static_cast<char*>(malloc(total));
  if (buf == nullptr) return;
  memcpy(buf, &h, sizeof(h));
  memcpy(buf + sizeof(h), r.path1, l1);
  memcpy(buf + sizeof(h) + l1, r.path2, l2);
  if (r.data_len > 0) memcpy(buf + sizeof(h) + l1 + l2, r.data, r.data_len);
  WriteAll(buf, total);
  free(buf);
  ++g_seq;
}

// getenv, or /proc/self/environ when the first intercepted call comes before
// libc has set up the environment (seen under ASan, whose runtime initialises
// first and calls into the shim).
const char* EnvVar(const char* name, char* buf, size_t size) {
  const char* v = getenv(name);
  if (v != nullptr) return v;
  int fd = g_real.open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  static char env[1 << 16];
  ssize_t n = read(fd, env, sizeof(env) - 1);
  g_real.close(fd);
  if (n <= 0) return nullptr;
  env[n] = '\0';
  size_t len = strlen(name);
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(strlen(env + i)) + 1) {
    if (strncmp(env + i, name, len) == 0 && env[i + len] == '=') {
      snprintf(buf, size, "%s", env + i + len + 1);
      return buf;
    }
  }
  return nullptr;
}

// fork: the child must not inherit a held lock, and must not log into the
// parent's log (its descriptors are another table). An exec'd program under
// the shim logs again, with its own begin record.
void AtForkPrepare() { pthread_mutex_lock(&g_mu); }
void AtForkParent() { pthread_mutex_unlock(&g_mu); }
void AtForkChild() {
  g_log_fd = -1;
  pthread_mutex_unlock(&g_mu);
}

void Init() {
  t_depth++;
  LookupAll();
  pthread_atfork(AtForkPrepare, AtForkParent, AtForkChild);
  static char root_buf[PATH_MAX], log_buf[PATH_MAX];
  const char* root = EnvVar("KVB_POWERLOSS_DIR", root_buf, sizeof(root_buf));
  const char* log = EnvVar("KVB_POWERLOSS_LOG", log_buf, sizeof(log_buf));
  if (root != nullptr && log != nullptr && root[0] == '/' &&
      strlen(root) < sizeof(g_root)) {
    strcpy(g_root, root);
    g_root_len = strlen(g_root);
    while (g_root_len > 1 && g_root[g_root_len - 1] == '/') {
      g_root[--g_root_len] = '\0';
    }
    g_log_fd =
        g_real.open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (g_log_fd < 0) {
      char msg[PATH_MAX + 64];
      int n = snprintf(msg, sizeof(msg),
                       "kvb_powerloss_shim: cannot open log %s (errno %d)\n",
                       log, errno);
      if (n > 0) g_real.write(2, msg, static_cast<size_t>(n));
    }
    if (g_log_fd >= 0) {
      pthread_mutex_lock(&g_mu);
      Rec r{RecordType::kBegin};
      r.path1 = g_root;
      r.a = getpid();
      LogLocked(r);
      pthread_mutex_unlock(&g_mu);
    }
  }
  t_depth--;
}

inline void EnsureInit() { pthread_once(&g_once, Init); }
inline bool Active() { return g_log_fd >= 0 && t_depth == 0; }
inline bool Tracked(int fd) {
  return fd >= 0 && fd < kMaxFds &&
         g_tracked[fd].load(std::memory_order_acquire);
}

// Scoped: marks the thread as inside the shim and holds the lock.
class Guard {
 public:
  Guard() {
    t_depth++;
    pthread_mutex_lock(&g_mu);
  }
  ~Guard() {
    pthread_mutex_unlock(&g_mu);
    t_depth--;
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
};

// Lexically normalises `in` (absolute) into `out`: drops ".", "" and resolves
// ".." (symlinks are not followed: the root is expected to hold none).
void Normalize(const char* in, char* out) {
  size_t n = 0;
  out[n++] = '/';
  const char* p = in;
  while (*p != '\0') {
    while (*p == '/') ++p;
    const char* s = p;
    while (*p != '\0' && *p != '/') ++p;
    size_t len = static_cast<size_t>(p - s);
    if (len == 0 || (len == 1 && s[0] == '.')) continue;
    if (len == 2 && s[0] == '.' && s[1] == '.') {
      while (n > 1 && out[n - 1] != '/') --n;
      if (n > 1) --n;
      continue;
    }
    if (n + len + 2 >= PATH_MAX) break;
    if (n > 1) out[n++] = '/';
    memcpy(out + n, s, len);
    n += len;
  }
  out[n] = '\0';
}

// The directory `dirfd` names, into `out` (PATH_MAX). REQUIRES: t_depth > 0.
bool DirPath(int dirfd, char* out) {
  if (dirfd == AT_FDCWD) return getcwd(out, PATH_MAX) != nullptr;
  if (Tracked(dirfd) && g_fd_path[dirfd] != nullptr) {
    strcpy(out, g_fd_path[dirfd]);
    return true;
  }
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
  ssize_t n = readlink(proc, out, PATH_MAX - 1);
  if (n <= 0) return false;
  out[n] = '\0';
  return true;
}

// Resolves (dirfd, path) to an absolute normalised path in `abs` (PATH_MAX)
// and returns true if it is the root or under it; `rel` then points into
// `abs` at the part after the root ("" for the root).
bool Resolve(int dirfd, const char* path, char* abs, const char** rel) {
  if (path == nullptr) return false;
  char joined[2 * PATH_MAX];
  if (path[0] == '/') {
    snprintf(joined, sizeof(joined), "%s", path);
  } else {
    char base[PATH_MAX];
    if (!DirPath(dirfd, base)) return false;
    snprintf(joined, sizeof(joined), "%s/%s", base, path);
  }
  Normalize(joined, abs);
  if (strncmp(abs, g_root, g_root_len) != 0) return false;
  char next = abs[g_root_len];
  if (next != '\0' && next != '/') return false;
  *rel = abs + g_root_len + (next == '/' ? 1 : 0);
  return true;
}

// REQUIRES: g_mu held.
void TrackLocked(int fd, const char* abs, int flags) {
  if (fd < 0) return;
  if (fd >= kMaxFds) {
    Rec r{RecordType::kUnsupported};
    r.path1 = "descriptor number above 65535 (not tracked)";
    LogLocked(r);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  free(g_fd_path[fd]);
  g_fd_path[fd] = strdup(abs);
  g_fd_append[fd] = (flags & O_APPEND) != 0;
  g_fd_dev[fd] = st.st_dev;
  g_fd_ino[fd] = st.st_ino;
  g_tracked[fd].store(1, std::memory_order_release);
}

// REQUIRES: g_mu held.
void UntrackLocked(int fd) {
  if (fd < 0 || fd >= kMaxFds) return;
  g_tracked[fd].store(0, std::memory_order_release);
  free(g_fd_path[fd]);
  g_fd_path[fd] = nullptr;
}

// Forgets `fd` and logs its close. REQUIRES: g_mu held.
void LogCloseLocked(int fd) {
  UntrackLocked(fd);
  Rec rec{RecordType::kClose};
  rec.fd = fd;
  LogLocked(rec);
}

// True if tracked `fd` still refers to the file it was opened on. A
// descriptor closed behind the shim's back (fclose, or libc-internal closes
// the shim cannot see) and reused for another file is untracked here and
// logged as closed, so its calls are not taken for the old file's.
// REQUIRES: g_mu held.
bool ConfirmLocked(int fd) {
  if (!Tracked(fd)) return false;
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_dev == g_fd_dev[fd] &&
      st.st_ino == g_fd_ino[fd]) {
    return true;
  }
  LogCloseLocked(fd);
  return false;
}

int OpenCommon(int dirfd, const char* path, int flags, mode_t mode) {
  EnsureInit();
  bool has_mode = (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
  if (!Active()) {
    return has_mode ? g_real.openat(dirfd, path, flags, mode)
                    : g_real.openat(dirfd, path, flags);
  }
  t_depth++;
  pthread_mutex_lock(&g_mu);
  char abs[PATH_MAX];
  const char* rel = nullptr;
  bool in_root = Resolve(dirfd, path, abs, &rel);
  if (!in_root) {
    // Not ours: do not hold the lock across an open that may block (a FIFO).
    pthread_mutex_unlock(&g_mu);
    int fd = has_mode ? g_real.openat(dirfd, path, flags, mode)
                      : g_real.openat(dirfd, path, flags);
    int saved = errno;
    if (Tracked(fd)) {  // a number reused behind the shim's back (fclose)
      pthread_mutex_lock(&g_mu);
      LogCloseLocked(fd);
      pthread_mutex_unlock(&g_mu);
    }
    t_depth--;
    errno = saved;
    return fd;
  }
  int fd = has_mode ? g_real.openat(dirfd, path, flags, mode)
                    : g_real.openat(dirfd, path, flags);
  int saved = errno;
  if (fd >= 0 && (flags & O_TMPFILE) == O_TMPFILE) {
    Rec r{RecordType::kUnsupported};
    r.path1 = "O_TMPFILE under the root";
    LogLocked(r);
  } else if (fd >= 0) {
    TrackLocked(fd, abs, flags);
    Rec r{RecordType::kOpen};
    r.fd = fd;
    r.a = flags;
    r.path1 = rel;
    LogLocked(r);
  }
  pthread_mutex_unlock(&g_mu);
  t_depth--;
  errno = saved;
  return fd;
}

mode_t ModeArg(int flags, va_list ap) {
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    return static_cast<mode_t>(va_arg(ap, int));
  }
  return 0;
}

// Logs a completed write of `n` bytes gathered from `iov` at `offset`.
// REQUIRES: g_mu held.
void LogWriteLocked(int fd, int64_t offset, const struct iovec* iov, int iovcnt,
                    size_t n, bool dsync) {
  char* data = static_cast<char*>(malloc(n > 0 ? n : 1));
  if (data == nullptr) return;
  size_t done = 0;
  for (int i = 0; i < iovcnt && done < n; ++i) {
    size_t take = iov[i].iov_len < n - done ? iov[i].iov_len : n - done;
    memcpy(data + done, iov[i].iov_base, take);
    done += take;
  }
  Rec r{RecordType::kWrite};
  r.fd = fd;
  r.a = offset;
  r.b = dsync ? 1 : 0;
  r.data = data;
  r.data_len = n;
  LogLocked(r);
  free(data);
}

// The offset a positional write of `n` bytes at `off` really used: on Linux
// an O_APPEND descriptor appends whatever the offset.
int64_t PositionalOffset(int fd, off_t off, size_t n) {
  if (!g_fd_append[fd]) return off;
  struct stat st;
  if (fstat(fd, &st) != 0) return off;
  return static_cast<int64_t>(st.st_size) - static_cast<int64_t>(n);
}

ssize_t WriteCommon(int fd, const struct iovec* iov, int iovcnt, off_t off,
                    bool positional, int rwf_flags) {
  Guard g;
  if (!ConfirmLocked(fd)) {
    return positional ? g_real.pwritev2(fd, iov, iovcnt, off, rwf_flags)
                      : g_real.writev(fd, iov, iovcnt);
  }
  ssize_t r;
  if (positional) {
    r = rwf_flags != 0 ? g_real.pwritev2(fd, iov, iovcnt, off, rwf_flags)
                       : g_real.pwritev(fd, iov, iovcnt, off);
  } else {
    r = g_real.writev(fd, iov, iovcnt);
  }
  if (r <= 0) return r;
  int saved = errno;
  size_t n = static_cast<size_t>(r);
  int64_t at = positional ? PositionalOffset(fd, off, n)
                          : static_cast<int64_t>(lseek(fd, 0, SEEK_CUR)) -
                                static_cast<int64_t>(n);
  bool dsync = (rwf_flags & (RWF_DSYNC | RWF_SYNC)) != 0;
  LogWriteLocked(fd, at, iov, iovcnt, n, dsync);
  errno = saved;
  return r;
}

// Logs a namespace change after it succeeded; both paths resolved against
// their directory descriptors. A rename out of the root is an unlink; into
// it, an unsupported event (the file's contents are unknown).
void LogPathOp(RecordType type, int d1, const char* p1, int d2, const char* p2,
               int64_t a) {
  char abs1[PATH_MAX], abs2[PATH_MAX];
  const char* rel1 = nullptr;
  const char* rel2 = nullptr;
  bool in1 = Resolve(d1, p1, abs1, &rel1);
  bool in2 = p2 != nullptr && Resolve(d2, p2, abs2, &rel2);
  Rec r{type};
  r.a = a;
  if (type == RecordType::kRename || type == RecordType::kLink) {
    if (!in1 && !in2) return;
    if (in1 && !in2 && type == RecordType::kLink) return;
    if (in1 && !in2) {
      r.type = RecordType::kUnlink;
      r.path1 = rel1;
    } else if (!in1) {
      r.type = RecordType::kUnsupported;
      r.path1 = "rename or link into the root from outside";
    } else {
      r.path1 = rel1;
      r.path2 = rel2;
    }
  } else {
    if (!in1) return;
    r.path1 = rel1;
  }
  LogLocked(r);
}

int SyncCommon(int fd, bool data_only) {
  EnsureInit();
  if (!Active() || !Tracked(fd)) {
    return data_only ? g_real.fdatasync(fd) : g_real.fsync(fd);
  }
  t_depth++;
  pthread_mutex_lock(&g_mu);
  uint64_t start = g_seq;
  bool same = ConfirmLocked(fd);
  pthread_mutex_unlock(&g_mu);
  int r = data_only ? g_real.fdatasync(fd) : g_real.fsync(fd);
  int saved = errno;
  if (r == 0 && same) {
    pthread_mutex_lock(&g_mu);
    Rec rec{RecordType::kFsync};
    rec.fd = fd;
    rec.a = static_cast<int64_t>(start);
    rec.b = data_only ? 1 : 0;
    LogLocked(rec);
    pthread_mutex_unlock(&g_mu);
  }
  t_depth--;
  errno = saved;
  return r;
}

int DupCommon(int oldfd, int newfd_hint, int how, int flags) {
  // how: 0 dup, 2 dup2, 3 dup3, 'F' fcntl F_DUPFD(_CLOEXEC) with a minimum.
  Guard g;
  bool replaces = (how == 2 || how == 3) && newfd_hint != oldfd;
  if (replaces && Tracked(newfd_hint)) {
    UntrackLocked(newfd_hint);
    Rec c{RecordType::kClose};
    c.fd = newfd_hint;
    LogLocked(c);
  }
  int r;
  if (how == 0) {
    r = g_real.dup(oldfd);
  } else if (how == 2) {
    r = g_real.dup2(oldfd, newfd_hint);
  } else if (how == 3) {
    r = g_real.dup3(oldfd, newfd_hint, flags);
  } else {
    r = g_real.fcntl(oldfd, flags, newfd_hint);
  }
  if (r < 0 || r == oldfd || !Tracked(oldfd)) return r;
  int saved = errno;
  TrackLocked(r, g_fd_path[oldfd], g_fd_append[oldfd] ? O_APPEND : 0);
  Rec d{RecordType::kDup};
  d.fd = r;
  d.fd2 = oldfd;
  LogLocked(d);
  errno = saved;
  return r;
}

void LogUnsupportedFd(int fd, const char* what) {
  if (!Active() || !Tracked(fd)) return;
  Guard g;
  Rec r{RecordType::kUnsupported};
  r.fd = fd;
  r.path1 = what;
  LogLocked(r);
}

// The shape of every namespace call: run the real one (`call`) and, when the
// recorder is active and the call succeeded, log it with errno preserved.
template <typename Call>
int LoggedPathCall(Call call, RecordType type, int d1, const char* p1, int d2,
                   const char* p2, int64_t a = 0) {
  EnsureInit();
  if (!Active()) return call();
  Guard g;
  int r = call();
  if (r != 0) return r;
  int saved = errno;
  LogPathOp(type, d1, p1, d2, p2, a);
  errno = saved;
  return r;
}

}  // namespace

extern "C" {

// The acknowledgement marker: the workload calls it (found with dlsym) right
// after an operation was acknowledged. Without the shim the symbol is absent.
__attribute__((visibility("default"))) void kvb_powerloss_ack(uint64_t op_id) {
  EnsureInit();
  if (g_log_fd < 0) return;
  Guard g;
  Rec r{RecordType::kAck};
  r.a = static_cast<int64_t>(op_id);
  LogLocked(r);
}

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return OpenCommon(AT_FDCWD, path, flags, mode);
}
// Same call on 64-bit Linux (off_t is 64 bits), as in glibc.
int open64(const char* path, int flags, ...) __attribute__((alias("open")));
int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return OpenCommon(dirfd, path, flags, mode);
}
// Same call on 64-bit Linux (off_t is 64 bits), as in glibc.
int openat64(int dirfd, const char* path, int flags, ...)
    __attribute__((alias("openat")));
int __open_2(const char* path, int flags) {
  return OpenCommon(AT_FDCWD, path, flags, 0);
}
int __open64_2(const char* path, int flags) {
  return OpenCommon(AT_FDCWD, path, flags, 0);
}
int __openat_2(int dirfd, const char* path, int flags) {
  return OpenCommon(dirfd, path, flags, 0);
}
int __openat64_2(int dirfd, const char* path, int flags) {
  return OpenCommon(dirfd, path, flags, 0);
}
int creat(const char* path, mode_t mode) {
  return OpenCommon(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
int creat64(const char* path, mode_t mode) {
  return OpenCommon(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

ssize_t write(int fd, const void* buf, size_t n) {
  EnsureInit();
  if (!Active() || !Tracked(fd)) return g_real.write(fd, buf, n);
  struct iovec v = {const_cast<void*>(buf), n};
  return WriteCommon(fd, &v, 1, 0, false, 0);
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  EnsureInit();
  if (!Active() || !Tracked(fd)) return g_real.pwrite(fd, buf, n, off);
  struct iovec v = {const_cast<void*>(buf), n};
  return WriteCommon(fd, &v, 1, off, true, 0);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
  return pwrite(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  EnsureInit();
  if (!Active() || !Tracked(fd)) return g_real.writev(fd, iov, iovcnt);
  return WriteCommon(fd, iov, iovcnt, 0, false, 0);
}
ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t off) {
  EnsureInit();
  if (!Active() || !Tracked(fd)) return g_real.pwritev(fd, iov, iovcnt, off);
  return WriteCommon(fd, iov, iovcnt, off, true, 0);
}
ssize_t pwritev64(int fd, const struct iovec* iov, int iovcnt, off_t off) {
  return pwritev(fd, iov, iovcnt, off);
}
ssize_t pwritev2(int fd, const struct iovec* iov, int iovcnt, off_t off,
                 int flags) {
  EnsureInit();
  if (!Active() || !Tracked(fd) || off == -1) {
    // off == -1 means "current position" (like writev); not tracked then.
    if (Active() && Tracked(fd)) {
      LogUnsupportedFd(fd, "pwritev2 at the current position");
    }
    return g_real.pwritev2(fd, iov, iovcnt, off, flags);
  }
  return WriteCommon(fd, iov, iovcnt, off, true, flags);
}
ssize_t pwritev64v2(int fd, const struct iovec* iov, int iovcnt, off_t off,
                    int flags) {
  return pwritev2(fd, iov, iovcnt, off, flags);
}

int ftruncate(int fd, off_t len) {
  EnsureInit();
  if (!Active() || !Tracked(fd)) return g_real.ftruncate(fd, len);
  Guard g;
  int r = g_real.ftruncate(fd, len);
  if (r == 0 && ConfirmLocked(fd)) {
    Rec rec{RecordType::kTruncate};
    rec.fd = fd;
    rec.a = len;
    LogLocked(rec);
  }
  return r;
}
int ftruncate64(int fd, off_t len) { return ftruncate(fd, len); }

int truncate(const char* path, off_t len) {
  EnsureInit();
  if (!Active()) return g_real.truncate(path, len);
  Guard g;
  int r = g_real.truncate(path, len);
  if (r != 0) return r;
  int saved = errno;
  char abs[PATH_MAX];
  const char* rel = nullptr;
  if (Resolve(AT_FDCWD, path, abs, &rel)) {
    Rec rec{RecordType::kTruncate};
    rec.a = len;
    rec.path1 = rel;
    LogLocked(rec);
  }
  errno = saved;
  return r;
}
int truncate64(const char* path, off_t len) { return truncate(path, len); }

int fallocate(int fd, int mode, off_t off, off_t len) {
  EnsureInit();
  if (!Active() || !Tracked(fd)) return g_real.fallocate(fd, mode, off, len);
  Guard g;
  int r = g_real.fallocate(fd, mode, off, len);
  if (r == 0 && ConfirmLocked(fd)) {
    Rec rec{RecordType::kFallocate};
    rec.fd = fd;
    rec.a = mode;
    rec.b = off;
    rec.c = len;
    LogLocked(rec);
  }
  return r;
}
int fallocate64(int fd, int mode, off_t off, off_t len) {
  return fallocate(fd, mode, off, len);
}
int posix_fallocate(int fd, off_t off, off_t len) {
  EnsureInit();
  if (!Active() || !Tracked(fd)) return g_real.posix_fallocate(fd, off, len);
  Guard g;
  int r = g_real.posix_fallocate(fd, off, len);  // returns an errno value
  if (r == 0 && ConfirmLocked(fd)) {
    Rec rec{RecordType::kFallocate};
    rec.fd = fd;
    rec.b = off;
    rec.c = len;
    LogLocked(rec);
  }
  return r;
}
int posix_fallocate64(int fd, off_t off, off_t len) {
  return posix_fallocate(fd, off, len);
}

int renameat2(int d1, const char* p1, int d2, const char* p2, unsigned flags) {
  return LoggedPathCall([&] { return g_real.renameat2(d1, p1, d2, p2, flags); },
                        RecordType::kRename, d1, p1, d2, p2, flags);
}
int renameat(int d1, const char* p1, int d2, const char* p2) {
  return LoggedPathCall([&] { return g_real.renameat(d1, p1, d2, p2); },
                        RecordType::kRename, d1, p1, d2, p2);
}
int rename(const char* p1, const char* p2) {
  return LoggedPathCall([&] { return g_real.rename(p1, p2); },
                        RecordType::kRename, AT_FDCWD, p1, AT_FDCWD, p2);
}

int unlinkat(int dirfd, const char* path, int flags) {
  return LoggedPathCall(
      [&] { return g_real.unlinkat(dirfd, path, flags); },
      (flags & AT_REMOVEDIR) ? RecordType::kRmdir : RecordType::kUnlink, dirfd,
      path, AT_FDCWD, nullptr);
}
int unlink(const char* path) {
  return LoggedPathCall([&] { return g_real.unlink(path); },
                        RecordType::kUnlink, AT_FDCWD, path, AT_FDCWD, nullptr);
}
int rmdir(const char* path) {
  return LoggedPathCall([&] { return g_real.rmdir(path); }, RecordType::kRmdir,
                        AT_FDCWD, path, AT_FDCWD, nullptr);
}
int mkdirat(int dirfd, const char* path, mode_t mode) {
  return LoggedPathCall([&] { return g_real.mkdirat(dirfd, path, mode); },
                        RecordType::kMkdir, dirfd, path, AT_FDCWD, nullptr);
}
int mkdir(const char* path, mode_t mode) {
  return LoggedPathCall([&] { return g_real.mkdir(path, mode); },
                        RecordType::kMkdir, AT_FDCWD, path, AT_FDCWD, nullptr);
}
int linkat(int d1, const char* p1, int d2, const char* p2, int flags) {
  return LoggedPathCall([&] { return g_real.linkat(d1, p1, d2, p2, flags); },
                        RecordType::kLink, d1, p1, d2, p2);
}
int link(const char* p1, const char* p2) {
  return LoggedPathCall([&] { return g_real.link(p1, p2); }, RecordType::kLink,
                        AT_FDCWD, p1, AT_FDCWD, p2);
}
int symlinkat(const char* target, int dirfd, const char* path) {
  EnsureInit();
  if (!Active()) return g_real.symlinkat(target, dirfd, path);
  Guard g;
  int r = g_real.symlinkat(target, dirfd, path);
  if (r != 0) return r;
  int saved = errno;
  char abs[PATH_MAX];
  const char* rel = nullptr;
  if (Resolve(dirfd, path, abs, &rel)) {
    Rec rec{RecordType::kUnsupported};
    rec.path1 = "symlink created under the root";
    LogLocked(rec);
  }
  errno = saved;
  return r;
}
int symlink(const char* target, const char* path) {
  return symlinkat(target, AT_FDCWD, path);
}

int fsync(int fd) { return SyncCommon(fd, false); }
int fdatasync(int fd) { return SyncCommon(fd, true); }

int sync_file_range(int fd, off_t off, off_t n, unsigned flags) {
  EnsureInit();
  int r = g_real.sync_file_range(fd, off, n, flags);
  if (r != 0 || !Active() || !Tracked(fd)) return r;
  int saved = errno;
  Guard g;
  Rec rec{RecordType::kSyncFileRange};
  rec.fd = fd;
  rec.a = off;
  rec.b = n;
  rec.c = flags;
  LogLocked(rec);
  errno = saved;
  return r;
}

int msync(void* addr, size_t len, int flags) {
  EnsureInit();
  int r = g_real.msync(addr, len, flags);
  if (r != 0 || !Active()) return r;
  int saved = errno;
  Guard g;
  Rec rec{RecordType::kMsync};
  rec.a = reinterpret_cast<int64_t>(addr);
  rec.b = static_cast<int64_t>(len);
  rec.c = flags;
  LogLocked(rec);
  errno = saved;
  return r;
}

void sync() {
  EnsureInit();
  if (!Active()) return g_real.sync();
  t_depth++;
  pthread_mutex_lock(&g_mu);
  uint64_t start = g_seq;
  pthread_mutex_unlock(&g_mu);
  g_real.sync();
  pthread_mutex_lock(&g_mu);
  Rec rec{RecordType::kSync};
  rec.a = static_cast<int64_t>(start);
  LogLocked(rec);
  pthread_mutex_unlock(&g_mu);
  t_depth--;
}
int syncfs(int fd) {
  EnsureInit();
  if (!Active()) return g_real.syncfs(fd);
  t_depth++;
  pthread_mutex_lock(&g_mu);
  uint64_t start = g_seq;
  pthread_mutex_unlock(&g_mu);
  int r = g_real.syncfs(fd);
  int saved = errno;
  if (r == 0) {
    pthread_mutex_lock(&g_mu);
    Rec rec{RecordType::kSync};
    rec.a = static_cast<int64_t>(start);
    LogLocked(rec);
    pthread_mutex_unlock(&g_mu);
  }
  t_depth--;
  errno = saved;
  return r;
}

void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  EnsureInit();
  void* p = g_real.mmap(addr, len, prot, flags, fd, off);
  if (p == MAP_FAILED || !Active() || !Tracked(fd)) return p;
  if ((prot & PROT_WRITE) == 0 || (flags & MAP_SHARED) == 0) return p;
  int saved = errno;
  Guard g;
  Rec rec{RecordType::kMmapShared};
  rec.fd = fd;
  rec.a = prot;
  rec.b = static_cast<int64_t>(len);
  rec.c = off;
  const char* path = g_fd_path[fd] != nullptr ? g_fd_path[fd] : "";
  rec.path1 = strlen(path) > g_root_len ? path + g_root_len + 1 : "";
  LogLocked(rec);
  errno = saved;
  return p;
}
void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  return mmap(addr, len, prot, flags, fd, off);
}

int close(int fd) {
  EnsureInit();
  if (!Active() || !Tracked(fd)) return g_real.close(fd);
  Guard g;
  // Untrack before the real close, so the number cannot be reused by an
  // untracked open while it still looks tracked.
  LogCloseLocked(fd);
  return g_real.close(fd);
}

// stdio: fclose closes its descriptor inside libc (invisible to close()
// above), and writes through a stream never reach write() above.
int fclose(FILE* f) {
  EnsureInit();
  int fd = f != nullptr ? fileno(f) : -1;
  if (Active() && Tracked(fd)) {
    Guard g;
    LogCloseLocked(fd);
  }
  return g_real.fclose(f);
}
FILE* fdopen(int fd, const char* mode) {
  EnsureInit();
  FILE* f = g_real.fdopen(fd, mode);
  bool read_only = mode[0] == 'r' && strchr(mode, '+') == nullptr;
  if (f == nullptr || !Active() || !Tracked(fd) || read_only) return f;
  Guard g;
  char what[PATH_MAX + 80];
  snprintf(what, sizeof(what),
           "stdio stream writing %s: fwrite bytes are not recorded",
           g_fd_path[fd] != nullptr ? g_fd_path[fd] + g_root_len : "?");
  Rec rec{RecordType::kUnsupported};
  rec.fd = fd;
  rec.path1 = what;
  LogLocked(rec);
  return f;
}

FILE* fopen(const char* path, const char* mode) {
  EnsureInit();
  FILE* f = g_real.fopen(path, mode);
  bool read_only = mode[0] == 'r' && strchr(mode, '+') == nullptr;
  if (f == nullptr || !Active() || read_only) return f;
  Guard g;
  char abs[PATH_MAX];
  const char* rel = nullptr;
  if (Resolve(AT_FDCWD, path, abs, &rel)) {
    char what[PATH_MAX + 80];
    snprintf(what, sizeof(what),
             "stdio fopen(\"%s\", \"%s\"): its create and writes are not "
             "recorded",
             rel, mode);
    Rec rec{RecordType::kUnsupported};
    rec.path1 = what;
    LogLocked(rec);
  }
  return f;
}
FILE* fopen64(const char* path, const char* mode) { return fopen(path, mode); }

int dup(int fd) {
  EnsureInit();
  if (!Active()) return g_real.dup(fd);
  return DupCommon(fd, -1, 0, 0);
}
int dup2(int fd, int newfd) {
  EnsureInit();
  if (!Active()) return g_real.dup2(fd, newfd);
  return DupCommon(fd, newfd, 2, 0);
}
int dup3(int fd, int newfd, int flags) {
  EnsureInit();
  if (!Active()) return g_real.dup3(fd, newfd, flags);
  return DupCommon(fd, newfd, 3, flags);
}

int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  EnsureInit();
  bool dup_cmd = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC;
  if (Active() && dup_cmd) {
    return DupCommon(fd, static_cast<int>(reinterpret_cast<intptr_t>(arg)), 'F',
                     cmd);
  }
  int r = g_real.fcntl(fd, cmd, arg);
  if (r >= 0 && cmd == F_SETFL && Active() && Tracked(fd)) {
    Guard g;
    g_fd_append[fd] = (reinterpret_cast<intptr_t>(arg) & O_APPEND) != 0;
  }
  return r;
}
int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl(fd, cmd, arg);
}

ssize_t copy_file_range(int in, off_t* in_off, int out, off_t* out_off,
                        size_t n, unsigned flags) {
  EnsureInit();
  LogUnsupportedFd(out, "copy_file_range into a watched file");
  return g_real.copy_file_range(in, in_off, out, out_off, n, flags);
}
ssize_t sendfile(int out, int in, off_t* off, size_t n) {
  EnsureInit();
  LogUnsupportedFd(out, "sendfile into a watched file");
  return g_real.sendfile(out, in, off, n);
}
ssize_t sendfile64(int out, int in, off_t* off, size_t n) {
  return sendfile(out, in, off, n);
}

}  // extern "C"
