#include "adapters/files_floor_adapter.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <random>
#include <thread>

#include "adapters/builtin.h"
#include "adapters/options.h"

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

}  // namespace

std::string FilesFloorName(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name;
  name.reserve(key.size() * 3);
  for (size_t i = 0; i < key.size(); i++) {
    const auto c = static_cast<unsigned char>(key[i]);
    // A leading '.' is escaped so no key names ".", "..", or a hidden file.
    if (KeptRaw(c) && !(i == 0 && c == '.')) {
      name.push_back(static_cast<char>(c));
    } else {
      name.push_back('%');
      name.push_back(kHex[c >> 4]);
      name.push_back(kHex[c & 0xf]);
    }
  }
  return name;
}

FilesFloorAdapter::~FilesFloorAdapter() { Close().IgnoreError(); }

Capabilities FilesFloorAdapter::Caps() {
  Capabilities c;
  c.persistent = true;
  c.ordered = false;
  c.thread_safe = true;
  c.batch = false;
  c.atomic_batch = false;
  c.locks_directory = false;
  c.max_key_size = kMaxKeySize;
  return c;
}

Status FilesFloorAdapter::Open(const std::string& dir) {
  if (open_) return Status::FailedPrecondition("files-floor: already open");
  KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
  const std::string tmp = dir + "/" + std::string(kTempDirName);
  struct stat st;
  if (::stat(tmp.c_str(), &st) != 0) {
    if (errno != ENOENT) return Errno(errno, "stat", tmp);
    KVB_ASSIGN_OR_RETURN(bool foreign, HasEntries(dir));
    if (foreign) {
      return Status::Corruption(
          "files-floor: " + dir + " is not empty and has no " +
          std::string(kTempDirName) + ": not a files-floor store");
    }
    if (::mkdir(tmp.c_str(), 0777) != 0 && errno != EEXIST)
      return Errno(errno, "mkdir", tmp);
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::Corruption("files-floor: " + tmp + " is not a directory");
  }
  dir_ = dir;
  tmp_dir_ = tmp;
  nonce_ = RandomNonce();
  open_ = true;
  if (durability_ == Durability::kAsync) {
    periodic_.Start(std::chrono::milliseconds(1000), [this] { return Sync(); });
  }
  return Status::OK();
}

Status FilesFloorAdapter::Close() {
  if (!open_) return Status::OK();
  periodic_.Stop();
  Status s = Sync();
  open_ = false;
  return s;
}

Status FilesFloorAdapter::KeyPath(std::string_view key,
                                  std::string* path) const {
  if (!open_) return Status::FailedPrecondition("files-floor: not open");
  if (key.empty()) return Status::InvalidArgument("files-floor: empty key");
  if (key.size() > kMaxKeySize) {
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
  const bool sync = durability_ == Durability::kSync;
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
  if (durability_ == Durability::kSync) return SyncDir(dir_);
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
  if (!open_) return Status::FailedPrecondition("files-floor: not open");
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

namespace adapters_internal {

void AddFilesFloorAdapter(std::vector<AdapterInfo>* out) {
  AdapterInfo info;
  info.name = "files-floor";
  info.description =
      "baseline: one file per key on bare POSIX calls (the system-call floor "
      "for fileperkey)";
  info.built = true;
  info.capabilities = FilesFloorAdapter::Caps();
  info.options = {};
  info.factory = [](const OptionMap& o) -> Result<std::unique_ptr<Adapter>> {
    KVB_ASSIGN_OR_RETURN(Durability d, GetDurabilityOption(o));
    return std::unique_ptr<Adapter>(new FilesFloorAdapter(d));
  };
  out->push_back(std::move(info));
}

}  // namespace adapters_internal
}  // namespace kvb
