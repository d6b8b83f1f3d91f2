// Env::Default(): the POSIX file system.
//
// Every system call is retried on EINTR and every write loops over short
// writes, so callers see either the whole operation done or an error Status
// naming the path.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <set>

#include "core/env.h"
#include "core/env_internal.h"

namespace kvb {
namespace {

// Retries of mkdir when a concurrent rmdir races it (see CreateDir).
constexpr int kCreateDirAttempts = 16;

// Calls `fn` until it stops failing with EINTR.
template <typename Fn>
auto RetryOnEintr(Fn fn) {
  decltype(fn()) r;
  do {
    r = fn();
  } while (r == -1 && errno == EINTR);
  return r;
}

Status PosixError(const std::string& what, const std::string& path, int err) {
  return Status::FromErrno(err, what + " " + path);
}

class PosixMappedRegion : public MappedRegion {
 public:
  PosixMappedRegion(void* base, size_t map_len, const char* data, size_t size)
      : base_(base), map_len_(map_len), data_(data), size_(size) {}
  ~PosixMappedRegion() override {
    if (base_ != nullptr) munmap(base_, map_len_);
  }
  const char* data() const override { return data_; }
  size_t size() const override { return size_; }

 private:
  void* base_;  // page-aligned start of the mapping (null for an empty region)
  size_t map_len_;
  const char* data_;  // base_ + the offset's distance from its page boundary
  size_t size_;
};

class PosixFile : public File {
 public:
  PosixFile(std::string path, int fd, bool writable, uint64_t size)
      : path_(std::move(path)), fd_(fd), writable_(writable), end_(size) {}
  ~PosixFile() override { Close().IgnoreError(); }

  Status ReadAt(uint64_t offset, size_t n, char* scratch,
                size_t* bytes_read) const override {
    *bytes_read = 0;
    int fd = fd_.load(std::memory_order_acquire);
    if (fd < 0) return Closed();
    size_t done = 0;
    // pread may return fewer bytes than asked before end of file (signals,
    // pipes); loop until it returns 0, which is the only reliable end-of-file
    // marker.
    while (done < n) {
      ssize_t r = RetryOnEintr(
          [&] { return ::pread(fd, scratch + done, n - done, offset + done); });
      if (r < 0) return PosixError("read", path_, errno);
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *bytes_read = done;
    return Status::OK();
  }

  // Appends at this handle's idea of the end: the size at open, moved by this
  // handle's own writes and truncations. (O_APPEND is avoided because on Linux
  // it makes pwrite ignore its offset, which would break WriteAt.) Writers are
  // single by contract.
  Status Append(std::string_view data) override {
    KVB_RETURN_IF_ERROR(CheckWritable());
    KVB_RETURN_IF_ERROR(WriteFully(end_, data));
    end_ += data.size();
    return Status::OK();
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    KVB_RETURN_IF_ERROR(CheckWritable());
    KVB_RETURN_IF_ERROR(WriteFully(offset, data));
    if (offset + data.size() > end_) end_ = offset + data.size();
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    KVB_RETURN_IF_ERROR(CheckWritable());
    int fd = fd_.load(std::memory_order_acquire);
    if (RetryOnEintr(
            [&] { return ::ftruncate(fd, static_cast<off_t>(size)); }) != 0) {
      return PosixError("truncate", path_, errno);
    }
    end_ = size;
    return Status::OK();
  }

  Status Sync() override { return SyncWith(::fsync, "fsync"); }
  Status DataSync() override { return SyncWith(::fdatasync, "fdatasync"); }

  Result<uint64_t> Size() const override {
    int fd = fd_.load(std::memory_order_acquire);
    if (fd < 0) return Closed();
    struct stat st;
    if (::fstat(fd, &st) != 0) return PosixError("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Close() override {
    int fd = fd_.exchange(-1, std::memory_order_acq_rel);
    if (fd < 0) return Status::OK();
    // close() must not be retried on EINTR on Linux: the descriptor is already
    // gone.
    if (::close(fd) != 0) return PosixError("close", path_, errno);
    return Status::OK();
  }

  Result<std::unique_ptr<MappedRegion>> Map(uint64_t offset,
                                            size_t length) const override {
    int fd = fd_.load(std::memory_order_acquire);
    if (fd < 0) return Closed();
    KVB_ASSIGN_OR_RETURN(uint64_t size, Size());
    // Touching a mapped page beyond end of file raises SIGBUS; refuse such
    // ranges up front.
    if (offset > size || length > size - offset) {
      return Status::InvalidArgument("map " + path_ +
                                     ": range beyond end of file");
    }
    if (length == 0) {
      return std::unique_ptr<MappedRegion>(
          std::make_unique<PosixMappedRegion>(nullptr, 0, nullptr, 0));
    }
    static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t aligned = offset & ~(page - 1);
    const size_t delta = static_cast<size_t>(offset - aligned);
    void* base = ::mmap(nullptr, length + delta, PROT_READ, MAP_SHARED, fd,
                        static_cast<off_t>(aligned));
    if (base == MAP_FAILED) return PosixError("mmap", path_, errno);
    return std::unique_ptr<MappedRegion>(std::make_unique<PosixMappedRegion>(
        base, length + delta, static_cast<const char*>(base) + delta, length));
  }

  Status DropCache() override {
    int fd = fd_.load(std::memory_order_acquire);
    if (fd < 0) return Closed();
    int err = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (err != 0) return PosixError("posix_fadvise", path_, err);
    return Status::OK();
  }

 private:
  // fsync(2) or fdatasync(2), retried on EINTR only: a failed sync is never
  // retried (the kernel may have dropped the dirty pages).
  Status SyncWith(int (*sync_fn)(int), const char* what) {
    int fd = fd_.load(std::memory_order_acquire);
    if (fd < 0) return Closed();
    if (RetryOnEintr([&] { return sync_fn(fd); }) != 0) {
      return PosixError(what, path_, errno);
    }
    return Status::OK();
  }

  Status Closed() const {
    return Status::FailedPrecondition("file closed: " + path_);
  }

  Status CheckWritable() const {
    if (fd_.load(std::memory_order_acquire) < 0) return Closed();
    if (!writable_)
      return Status::FailedPrecondition("file opened read-only: " + path_);
    return Status::OK();
  }

  Status WriteFully(uint64_t offset, std::string_view data) {
    int fd = fd_.load(std::memory_order_acquire);
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t r = RetryOnEintr(
          [&] { return ::pwrite(fd, p, left, static_cast<off_t>(offset)); });
      if (r < 0) return PosixError("write", path_, errno);
      p += r;
      left -= static_cast<size_t>(r);
      offset += static_cast<uint64_t>(r);
    }
    return Status::OK();
  }

  const std::string path_;
  std::atomic<int> fd_;
  const bool writable_;
  uint64_t end_;  // where the next Append goes
};

// Paths locked by this process. flock() already refuses a second lock through
// another open file description, but the set gives a clear Busy without
// touching the file and keeps the LevelDB guarantee even on file systems where
// flock is emulated with fcntl (whose locks are per process, so a second lock
// in the same process would silently "succeed").
std::mutex& LockedPathsMutex() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}
std::set<std::string>& LockedPaths() {
  static auto* paths = new std::set<std::string>;
  return *paths;
}

class PosixFileLock : public FileLock {
 public:
  PosixFileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    std::lock_guard<std::mutex> guard(LockedPathsMutex());
    LockedPaths().erase(path_);
  }

 private:
  const std::string path_;
  const int fd_;
};

// ELOOP from an O_NOFOLLOW open means a symlink as the last component, or too
// many links on the way; lstat tells the two apart for the error message.
bool IsSymlink(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

int OpenFlags(OpenMode mode) {
  switch (mode) {
    case OpenMode::kReadOnly:
      return O_RDONLY;
    case OpenMode::kReadWrite:
      return O_RDWR;
    case OpenMode::kCreate:
      return O_RDWR | O_CREAT;
    case OpenMode::kCreateNew:
      return O_RDWR | O_CREAT | O_EXCL;
    case OpenMode::kTruncate:
      return O_RDWR | O_CREAT | O_TRUNC;
  }
  return O_RDONLY;
}

class PosixEnv : public Env {
 public:
  Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                         OpenMode mode) override {
    // O_NOFOLLOW: a symlink planted where an engine keeps its files must not
    // redirect reads or writes outside the engine's directory.
    const int flags = OpenFlags(mode) | O_CLOEXEC | O_NOFOLLOW;
    int fd = RetryOnEintr([&] { return ::open(path.c_str(), flags, 0644); });
    if (fd < 0) {
      const int err = errno;  // IsSymlink's lstat may change errno
      if (err == EEXIST)
        return Status::InvalidArgument("open " + path + ": exists");
      if (err == ELOOP && IsSymlink(path))
        return internal::SymlinkRefused("open", path);
      return PosixError("open", path, err);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("fstat", path, err);
    }
    // A read-only open(2) of a directory succeeds; refuse it here so reads do
    // not fail later with a confusing EISDIR.
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument("open " + path + ": not a regular file");
    }
    return std::unique_ptr<File>(
        std::make_unique<PosixFile>(path, fd, mode != OpenMode::kReadOnly,
                                    static_cast<uint64_t>(st.st_size)));
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename", from + " -> " + to, errno);
    }
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
    return Status::OK();
  }

  Status CreateDir(const std::string& path) override {
    // EEXIST then ENOENT from stat means a concurrent rmdir removed the
    // directory in between (fileperkey prunes empty directories while other
    // threads write into them): try again rather than report a collision.
    for (int attempt = 0; attempt < kCreateDirAttempts; attempt++) {
      if (::mkdir(path.c_str(), 0755) == 0) return Status::OK();
      const int err = errno;
      if (err != EEXIST) return PosixError("mkdir", path, err);
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return Status::OK();
        if (S_ISLNK(st.st_mode)) return internal::SymlinkRefused("mkdir", path);
        return Status::InvalidArgument("mkdir " + path +
                                       ": exists and is not a directory");
      }
      if (errno != ENOENT) return PosixError("lstat", path, errno);
    }
    return Status::Busy("mkdir " + path +
                        ": the directory keeps being removed concurrently");
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return PosixError("rmdir", path, errno);
    return Status::OK();
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("opendir", dir, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name(e->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
    int err = errno;  // readdir returns null both at the end and on error
    ::closedir(d);
    if (err != 0) return PosixError("readdir", dir, err);
    return names;
  }

  Result<FileStat> Stat(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0)
      return PosixError("lstat", path, errno);
    FileStat out;
    out.is_dir = S_ISDIR(st.st_mode);
    out.is_symlink = S_ISLNK(st.st_mode);
    out.size = static_cast<uint64_t>(st.st_size);
    out.allocated_bytes = static_cast<uint64_t>(st.st_blocks) * 512;
    return out;
  }

  Status SyncDir(const std::string& dir) override {
    int fd = RetryOnEintr([&] {
      return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    });
    if (fd < 0) return PosixError("open dir", dir, errno);
    Status s;
    if (RetryOnEintr([&] { return ::fsync(fd); }) != 0)
      s = PosixError("fsync dir", dir, errno);
    ::close(fd);
    return s;
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& raw) override {
    // The set is keyed by the canonical spelling so "d//LOCK" and "d/LOCK"
    // collide.
    const std::string path = internal::NormalizePath(raw);
    std::lock_guard<std::mutex> guard(LockedPathsMutex());
    if (LockedPaths().count(path) != 0) {
      return Status::Busy("lock " + path + ": already held by this process");
    }
    int fd = RetryOnEintr([&] {
      return ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                    0644);
    });
    if (fd < 0) {
      const int err = errno;  // IsSymlink's lstat may change errno
      if (err == ELOOP && IsSymlink(path))
        return internal::SymlinkRefused("lock", path);
      return PosixError("open lock", path, err);
    }
    if (RetryOnEintr([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK)
        return Status::Busy("lock " + path + ": held by another process");
      return PosixError("flock", path, err);
    }
    LockedPaths().insert(path);
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(path, fd));
  }
};

}  // namespace

Env* Env::Default() {
  // Never destroyed: engines may still use it from static destructors.
  static Env* const env = new PosixEnv();
  return env;
}

}  // namespace kvb
