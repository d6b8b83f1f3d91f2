// kvb::FilesFloorAdapter — "files-floor": the system-call floor of a
// one-file-per-key store.
//
// This is a baseline, not an engine. It does the least work a store that keeps
// each value in its own file can do, straight on POSIX system calls (no
// kvb::Env, no cache, no index, no checksum, no lock), so that kvbench can put
// the fileperkey engine (engines/fileperkey) beside the cost of the system
// calls themselves (issue 6: "cache off >= 0.8x the floor"). Anything
// fileperkey spends above this is ours.
//
// Files: the same kind as `fileperkey:transform=flat`: one directory, one file
// per key named by fileperkey's `escaped` encoding ([A-Za-z0-9_-.] unchanged
// except a leading '.', every other byte %XX with upper-case hex), holding the
// value byte for byte. Temp files live in DIR/.floor-tmp/ (no escaped name
// starts with '.', so they never clash with a key).
//
// Operations (paths are full paths, as a path-based store must use):
//   Put     open(DIR/.floor-tmp/<nonce>-<n>, O_CREAT|O_TRUNC|O_WRONLY) + write
//           loop (+ fdatasync with durability=sync, as fileperkey) + close +
//           rename to DIR/<name> (+ fsync of DIR with durability=sync).
//   Get     open + fstat + read loop of st_size bytes + close. Files are only
//           ever replaced by rename, never rewritten, so the size is stable.
//   Has     stat. Delete: unlink (+ fsync of DIR with durability=sync);
//           a missing key is OK.
//   Sync    fdatasync of every file renamed into place since the last Sync
//           (names kept in a list, 8 threads at most, the same bounded
//           parallelism as fileperkey's Sync), then fsync of DIR. A no-op when
//           nothing changed.
//
// Keys: 1..85 bytes (max_key_size = 85, so that a fully escaped name fits in
// NAME_MAX = 255 bytes without fileperkey's long-name splitting); the empty key
// and longer keys are InvalidArgument. Values: no limit.
//
// Durability: none = writes are atomic (rename) but not synced until Sync() or
// Close(); async = as none plus a background Sync() every second; sync = every
// acknowledged Put/Delete is durable.
//
// Opening creates DIR and DIR/.floor-tmp. A non-empty DIR without .floor-tmp is
// refused (Corruption): it is not a files-floor store, and every file in it
// would be taken for a key. No directory lock: two handles on one directory
// both work (temp names carry a per-handle random nonce); stray temp files of
// a crashed write are never cleaned (a baseline has no recovery).
//
// Capabilities: persistent, thread_safe (every call is independent system
// calls; the only shared state is the temp counter, an atomic, and the list of
// unsynced names, under a mutex), unordered (Scan = NotSupported), no native
// batch (WriteBatch = a loop of Put), no lock, max_key_size 85.
#include "adapters/files_floor_adapter.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "adapters/periodic_sync.h"
#include "core/strings.h"

namespace kvb {
namespace {

constexpr std::string_view kTempDirName = ".floor-tmp";

Status Errno(int err, std::string_view what, const std::string& path) {
  return Status::FromErrno(err,
                           "files-floor: " + std::string(what) + " " + path);
}

bool KeptRaw(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

// close(2) that keeps errno of an earlier failure intact.
void CloseQuietly(int fd) {
  const int saved = errno;
  ::close(fd);
  errno = saved;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// Whether `dir` has entries other than "." and "..".
Result<bool> HasEntries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Errno(errno, "opendir", dir);
  bool any = false;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view n = e->d_name;
    if (n != "." && n != "..") {
      any = true;
      break;
    }
  }
  ::closedir(d);
  return any;
}

std::string RandomNonce() {
  std::random_device rd;
  uint64_t v = (uint64_t{rd()} << 32) ^ rd() ^
               static_cast<uint64_t>(
                   std::chrono::steady_clock::now().time_since_epoch().count());
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; i--, v >>= 4)
    s[static_cast<size_t>(i)] = kDigits[v & 0xf];
  return s;
}

constexpr int kSyncThreads = 8;

constexpr Capabilities kFilesFloorCaps{.max_key_size = kFilesFloorMaxKeySize};

// Makes DIR/.floor-tmp, refusing a non-empty DIR that has none.
Result<std::string> PrepareTempDir(const std::string& dir) {
  const std::string tmp = dir + "/" + std::string(kTempDirName);
  struct stat st;
  if (::stat(tmp.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return tmp;
    return Status::Corruption("files-floor: " + tmp + " is not a directory");
  }
  if (errno != ENOENT) return Errno(errno, "stat", tmp);
  KVB_ASSIGN_OR_RETURN(bool foreign, HasEntries(dir));
  if (foreign) {
    return Status::Corruption(
        "files-floor: " + dir + " is not empty and has no " +
        std::string(kTempDirName) + ": not a files-floor store");
  }
  if (::mkdir(tmp.c_str(), 0777) != 0 && errno != EEXIST)
    return Errno(errno, "mkdir", tmp);
  return tmp;
}

Result<DurabilityClass> ParseFloor(const OptionMap& o) {
  return GetDurabilityOption(o);
}

constexpr DurabilityTable kFilesFloorDurability{{
    {Durability::kMemory, "",
     "every Put write(2)s and renames its file: nothing weaker than process"},
    {Durability::kProcess,
     "write(2) to a temp file + rename before Put returns; no fsync until "
     "Sync/Close",
     ""},
    {Durability::kPeriodic, "as process, plus a background Sync every MS ms",
     ""},
    {Durability::kSync,
     "fdatasync of the temp file before rename, fsync of the directory after",
     ""},
}};

class FilesFloorAdapter final : public adapters_internal::BuiltinAdapter {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const DurabilityClass& d,
                                               const std::string& dir) {
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    KVB_ASSIGN_OR_RETURN(std::string tmp, PrepareTempDir(dir));
    return std::unique_ptr<Adapter>(new FilesFloorAdapter(d, dir, tmp));
  }
  ~FilesFloorAdapter() override { Close().IgnoreError(); }

  Status Close() override {
    if (closed_) return Status::OK();
    closed_ = true;
    periodic_.Stop();
    return Sync();
  }
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status Sync() override;

 private:
  FilesFloorAdapter(const DurabilityClass& d, const std::string& dir, std::string tmp)
      : BuiltinAdapter("files-floor", kFilesFloorCaps, dir),
        durability_(d),
        tmp_dir_(std::move(tmp)),
        nonce_(RandomNonce()) {
    periodic_.StartIfPeriodic(d, [this] { return Sync(); });
  }

  Status KeyPath(std::string_view key, std::string* path) const;
  Status WriteTemp(const std::string& tmp, std::string_view value, bool sync);
  Status SyncDir(const std::string& dir) const;
  Status SyncFiles(const std::vector<std::string>& paths) const;

  const DurabilityClass durability_;
  const std::string tmp_dir_;
  const std::string nonce_;
  bool closed_ = false;
  std::atomic<uint64_t> temp_counter_{0};

  // Files renamed into place (and whether anything was unlinked) since the
  // last Sync; only kept when durability != sync.
  std::mutex unsynced_mu_;
  std::vector<std::string> unsynced_;
  bool dir_dirty_ = false;
  PeriodicSync periodic_;  // last: stopped before the members it uses go
};

Status FilesFloorAdapter::KeyPath(std::string_view key,
                                  std::string* path) const {
  if (key.empty()) return Status::InvalidArgument("files-floor: empty key");
  if (key.size() > kFilesFloorMaxKeySize) {
    return Status::InvalidArgument("files-floor: key of " +
                                   std::to_string(key.size()) +
                                   " bytes exceeds max_key_size 85");
  }
  path->reserve(dir_.size() + 1 + key.size() * 3);
  path->assign(dir_);
  path->push_back('/');
  path->append(FilesFloorName(key));
  return Status::OK();
}

Status FilesFloorAdapter::WriteTemp(const std::string& tmp,
                                    std::string_view value, bool sync) {
  const int fd =
      ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) return Errno(errno, "open", tmp);
  Status s = WriteAll(fd, value, tmp);
  if (s.ok() && sync && ::fdatasync(fd) != 0)
    s = Errno(errno, "fdatasync", tmp);
  if (::close(fd) != 0 && s.ok()) s = Errno(errno, "close", tmp);
  return s;
}

Status FilesFloorAdapter::Put(std::string_view key, std::string_view value) {
  std::string path;
  KVB_RETURN_IF_ERROR(KeyPath(key, &path));
  const bool sync = durability_.level == Durability::kSync;
  const std::string tmp =
      tmp_dir_ + "/" + nonce_ + "-" +
      std::to_string(temp_counter_.fetch_add(1, std::memory_order_relaxed));
  Status s = WriteTemp(tmp, value, sync);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    s = Errno(errno, "rename to", path);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  if (sync) return SyncDir(dir_);
  std::lock_guard lock(unsynced_mu_);
  unsynced_.push_back(std::move(path));
  dir_dirty_ = true;
  return Status::OK();
}

Status FilesFloorAdapter::Get(std::string_view key, std::string* value) {
  std::string path;
  KVB_RETURN_IF_ERROR(KeyPath(key, &path));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound();
    return Errno(errno, "open", path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    CloseQuietly(fd);
    return Errno(errno, "fstat", path);
  }
  value->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < value->size()) {
    const ssize_t n = ::read(fd, value->data() + got, value->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      CloseQuietly(fd);
      return Errno(errno, "read", path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  value->resize(got);
  ::close(fd);  // read-only: nothing to lose
  return Status::OK();
}

Status FilesFloorAdapter::Delete(std::string_view key) {
  std::string path;
  KVB_RETURN_IF_ERROR(KeyPath(key, &path));
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Status::OK();
    return Errno(errno, "unlink", path);
  }
  if (durability_.level == Durability::kSync) return SyncDir(dir_);
  std::lock_guard lock(unsynced_mu_);
  dir_dirty_ = true;
  return Status::OK();
}

Status FilesFloorAdapter::Has(std::string_view key, bool* found) {
  std::string path;
  KVB_RETURN_IF_ERROR(KeyPath(key, &path));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Errno(errno, "stat", path);
    *found = false;
    return Status::OK();
  }
  *found = true;
  return Status::OK();
}

Status FilesFloorAdapter::SyncDir(const std::string& dir) const {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno(errno, "open", dir);
  Status s;
  if (::fsync(fd) != 0) s = Errno(errno, "fsync", dir);
  ::close(fd);
  return s;
}

Status FilesFloorAdapter::SyncFiles(
    const std::vector<std::string>& paths) const {
  // Concurrent fdatasyncs share journal commits; one thread would pay a commit
  // per file (about 4x slower for thousands of small files on this machine).
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < paths.size();) {
      const int fd = ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
      Status s;
      if (fd < 0) {
        // Replaced or deleted since: the directory sync covers that change.
        if (errno != ENOENT) s = Errno(errno, "open", paths[i]);
      } else {
        if (::fdatasync(fd) != 0) s = Errno(errno, "fdatasync", paths[i]);
        ::close(fd);
      }
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (first.ok()) first = s;
      }
    }
  };
  const size_t n = std::min<size_t>(kSyncThreads, (paths.size() + 63) / 64);
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; t++) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return first;
}

Status FilesFloorAdapter::Sync() {
  std::vector<std::string> paths;
  bool dirty;
  {
    std::lock_guard lock(unsynced_mu_);
    paths.swap(unsynced_);
    dirty = dir_dirty_;
    dir_dirty_ = false;
  }
  if (!dirty) return Status::OK();
  // Duplicates (a key written twice) need one sync.
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  Status s = SyncFiles(paths);
  if (s.ok()) s = SyncDir(dir_);
  if (!s.ok()) {
    // Put the names back so the next Sync retries them.
    std::lock_guard lock(unsynced_mu_);
    unsynced_.insert(unsynced_.end(), paths.begin(), paths.end());
    dir_dirty_ = true;
  }
  return s;
}

}  // namespace

std::string FilesFloorName(std::string_view key) {
  std::string name;
  name.reserve(key.size() * 3);
  for (size_t i = 0; i < key.size(); i++) {
    const auto c = static_cast<unsigned char>(key[i]);
    // A leading '.' is escaped so no key names ".", "..", or a hidden file.
    if (KeptRaw(c) && !(i == 0 && c == '.')) {
      name.push_back(static_cast<char>(c));
    } else {
      AppendPercentEscape(c, &name);
    }
  }
  return name;
}

namespace adapters_internal {

void AddFilesFloorAdapter(std::vector<AdapterInfo>* out) {
  Register<DurabilityClass>(
      out,
      {"files-floor",
       "baseline: one file per key on bare POSIX calls (the system-call floor "
       "for fileperkey)",
       kFilesFloorCaps,
       {},
       kFilesFloorDurability},
      &ParseFloor, &FilesFloorAdapter::Open);
}

}  // namespace adapters_internal
}  // namespace kvb
