// NewMemEnv(): an in-memory file system for hermetic, fast tests.
//
// The namespace (which paths exist, files vs directories) is one sorted map
// under one mutex. File contents live in a shared FileData object with its own
// reader/writer lock, so an open handle keeps working after its name is removed
// or renamed (like an unlinked inode) and many threads can ReadAt one file at
// once without touching the namespace lock.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "core/env.h"
#include "core/env_internal.h"

namespace kvb {
namespace {

struct FileData {
  mutable std::shared_mutex mu;
  std::string contents;
};

// One namespace entry: a directory (file == nullptr) or a regular file.
struct Node {
  std::shared_ptr<FileData> file;
  bool is_dir() const { return file == nullptr; }
};

using internal::NormalizePath;

class MemFile : public File {
 public:
  MemFile(std::string path, std::shared_ptr<FileData> data, bool writable)
      : path_(std::move(path)), data_(std::move(data)), writable_(writable) {}

  Status ReadAt(uint64_t offset, size_t n, char* scratch,
                size_t* bytes_read) const override {
    *bytes_read = 0;
    if (closed_.load(std::memory_order_acquire)) return Closed();
    std::shared_lock lock(data_->mu);
    const std::string& c = data_->contents;
    if (offset >= c.size()) return Status::OK();
    size_t got = std::min<uint64_t>(n, c.size() - offset);
    std::memcpy(scratch, c.data() + offset, got);
    *bytes_read = got;
    return Status::OK();
  }

  Status Append(std::string_view data) override {
    KVB_RETURN_IF_ERROR(CheckWritable());
    std::unique_lock lock(data_->mu);
    data_->contents.append(data);
    return Status::OK();
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    KVB_RETURN_IF_ERROR(CheckWritable());
    KVB_RETURN_IF_ERROR(CheckSize(offset, data.size()));
    std::unique_lock lock(data_->mu);
    std::string& c = data_->contents;
    if (c.size() < offset + data.size()) c.resize(offset + data.size(), '\0');
    std::memcpy(c.data() + offset, data.data(), data.size());
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    KVB_RETURN_IF_ERROR(CheckWritable());
    KVB_RETURN_IF_ERROR(CheckSize(size, 0));
    std::unique_lock lock(data_->mu);
    data_->contents.resize(size, '\0');
    return Status::OK();
  }

  // Memory is always "durable" until the process ends; power loss is
  // FaultInjectionEnv's job.
  Status Sync() override { return closed_ ? Closed() : Status::OK(); }
  Status DataSync() override { return closed_ ? Closed() : Status::OK(); }

  Result<uint64_t> Size() const override {
    if (closed_.load(std::memory_order_acquire)) return Closed();
    std::shared_lock lock(data_->mu);
    return static_cast<uint64_t>(data_->contents.size());
  }

  Status Close() override {
    closed_.store(true, std::memory_order_release);
    return Status::OK();
  }

 private:
  Status Closed() const {
    return Status::FailedPrecondition("file closed: " + path_);
  }
  Status CheckWritable() const {
    if (closed_.load(std::memory_order_acquire)) return Closed();
    if (!writable_)
      return Status::FailedPrecondition("file opened read-only: " + path_);
    return Status::OK();
  }
  // A huge offset would make resize() throw; report it like a full disk
  // instead.
  Status CheckSize(uint64_t offset, size_t n) const {
    constexpr uint64_t kMaxFileSize = uint64_t{1} << 40;
    if (offset > kMaxFileSize || n > kMaxFileSize - offset) {
      return Status::NoSpace("mem env: file too large: " + path_);
    }
    return Status::OK();
  }

  const std::string path_;
  const std::shared_ptr<FileData> data_;
  const bool writable_;
  std::atomic<bool> closed_{false};
};

// Lock ownership outlives neither the Env nor the lock: both share this table.
struct LockTable {
  std::mutex mu;
  std::set<std::string> held;
};

class MemFileLock : public FileLock {
 public:
  MemFileLock(std::shared_ptr<LockTable> table, std::string path)
      : table_(std::move(table)), path_(std::move(path)) {}
  ~MemFileLock() override {
    std::lock_guard guard(table_->mu);
    table_->held.erase(path_);
  }

 private:
  std::shared_ptr<LockTable> table_;
  std::string path_;
};

class MemEnv : public Env {
 public:
  Result<std::unique_ptr<File>> OpenFile(const std::string& raw,
                                         OpenMode mode) override {
    const std::string path = NormalizePath(raw);
    if (IsRoot(path)) {
      return Status::InvalidArgument("open '" + path + "': is a directory");
    }
    std::lock_guard guard(mu_);
    auto it = nodes_.find(path);
    if (it != nodes_.end()) {
      if (it->second.is_dir()) {
        return Status::InvalidArgument("open " + path + ": is a directory");
      }
      if (mode == OpenMode::kCreateNew)
        return Status::InvalidArgument("open " + path + ": exists");
      std::shared_ptr<FileData> data = it->second.file;
      if (mode == OpenMode::kTruncate) {
        std::unique_lock lock(data->mu);
        data->contents.clear();
      }
      return MakeFile(path, std::move(data), mode);
    }
    if (mode == OpenMode::kReadOnly || mode == OpenMode::kReadWrite) {
      return Status::NotFound("open " + path + ": No such file or directory");
    }
    KVB_RETURN_IF_ERROR(CheckParentLocked(path, "open"));
    auto data = std::make_shared<FileData>();
    nodes_[path] = Node{data};
    return MakeFile(path, std::move(data), mode);
  }

  Status RenameFile(const std::string& raw_from,
                    const std::string& raw_to) override {
    const std::string from = NormalizePath(raw_from);
    const std::string to = NormalizePath(raw_to);
    if (IsRoot(from) || IsRoot(to)) {
      return Status::InvalidArgument("rename '" + from + "' -> '" + to +
                                     "': cannot rename a root directory");
    }
    std::lock_guard guard(mu_);
    auto src = nodes_.find(from);
    if (src == nodes_.end())
      return Status::NotFound("rename " + from + ": No such file");
    if (from == to) return Status::OK();
    KVB_RETURN_IF_ERROR(CheckParentLocked(to, "rename"));
    auto dst = nodes_.find(to);
    if (src->second.is_dir()) return RenameDirLocked(from, to);
    if (dst != nodes_.end() && dst->second.is_dir()) {
      return Status::InvalidArgument("rename " + from + " -> " + to +
                                     ": target is a directory");
    }
    // One map update under the lock: readers see either the old or the new
    // target.
    nodes_[to] = src->second;
    nodes_.erase(from);
    return Status::OK();
  }

  Status RemoveFile(const std::string& raw) override {
    const std::string path = NormalizePath(raw);
    std::lock_guard guard(mu_);
    NodeIter it;
    KVB_RETURN_IF_ERROR(FindKindLocked(path, /*dir=*/false, &it));
    nodes_.erase(it);
    return Status::OK();
  }

  Status CreateDir(const std::string& raw) override {
    const std::string path = NormalizePath(raw);
    std::lock_guard guard(mu_);
    if (IsRoot(path)) return Status::OK();
    auto it = nodes_.find(path);
    if (it != nodes_.end()) {
      if (it->second.is_dir()) return Status::OK();
      return Status::InvalidArgument("mkdir " + path +
                                     ": exists and is not a directory");
    }
    KVB_RETURN_IF_ERROR(CheckParentLocked(path, "mkdir"));
    nodes_[path] = Node{nullptr};
    return Status::OK();
  }

  Status RemoveDir(const std::string& raw) override {
    const std::string path = NormalizePath(raw);
    std::lock_guard guard(mu_);
    NodeIter it;
    KVB_RETURN_IF_ERROR(FindKindLocked(path, /*dir=*/true, &it));
    if (HasChildrenLocked(path))
      return Status::IOError("rmdir " + path + ": Directory not empty");
    nodes_.erase(it);
    return Status::OK();
  }

  Result<std::vector<std::string>> ListDir(const std::string& raw) override {
    const std::string dir = NormalizePath(raw);
    std::lock_guard guard(mu_);
    KVB_RETURN_IF_ERROR(CheckDirLocked(dir, "opendir"));
    std::vector<std::string> names;
    const std::string prefix = ChildPrefix(dir);
    for (auto it = nodes_.lower_bound(prefix);
         it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
         ++it) {
      std::string_view rest(it->first);
      rest.remove_prefix(prefix.size());
      if (!rest.empty() && rest.find('/') == std::string_view::npos)
        names.emplace_back(rest);
    }
    return names;
  }

  Result<FileStat> Stat(const std::string& raw) override {
    const std::string path = NormalizePath(raw);
    std::lock_guard guard(mu_);
    FileStat st;
    if (IsRoot(path)) {
      st.is_dir = true;
      return st;
    }
    auto it = nodes_.find(path);
    if (it == nodes_.end())
      return Status::NotFound("stat " + path + ": No such file or directory");
    st.is_dir = it->second.is_dir();
    if (!st.is_dir) {
      std::shared_lock lock(it->second.file->mu);
      st.size = it->second.file->contents.size();
      st.allocated_bytes = st.size;
    }
    return st;
  }

  Status SyncDir(const std::string& raw) override {
    std::lock_guard guard(mu_);
    return CheckDirLocked(NormalizePath(raw), "open dir");
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& raw) override {
    const std::string path = NormalizePath(raw);
    {
      // Like the POSIX Env, the lock file is created if missing.
      KVB_ASSIGN_OR_RETURN(std::unique_ptr<File> f,
                           OpenFile(path, OpenMode::kCreate));
      f->Close().IgnoreError();
    }
    std::lock_guard guard(locks_->mu);
    if (!locks_->held.insert(path).second)
      return Status::Busy("lock " + path + ": already held");
    return std::unique_ptr<FileLock>(
        std::make_unique<MemFileLock>(locks_, path));
  }

 private:
  static bool IsRoot(const std::string& path) {
    return path == "/" || path == "." || path.empty();
  }
  static std::string ChildPrefix(const std::string& dir) {
    if (dir == "/") return "/";
    if (dir == "." || dir.empty()) return "";
    return dir + "/";
  }

  Result<std::unique_ptr<File>> MakeFile(const std::string& path,
                                         std::shared_ptr<FileData> data,
                                         OpenMode mode) {
    return std::unique_ptr<File>(std::make_unique<MemFile>(
        path, std::move(data), mode != OpenMode::kReadOnly));
  }

  Status CheckDirLocked(const std::string& dir, const char* what) const {
    if (IsRoot(dir)) return Status::OK();
    auto it = nodes_.find(dir);
    if (it == nodes_.end()) {
      return Status::NotFound(std::string(what) + " " + dir +
                              ": No such directory");
    }
    if (!it->second.is_dir()) {
      return Status::InvalidArgument(std::string(what) + " " + dir +
                                     ": Not a directory");
    }
    return Status::OK();
  }

  // Every name must be created inside an existing directory, as with mkdir(2)
  // and open(2).
  Status CheckParentLocked(const std::string& path, const char* what) const {
    Status s = CheckDirLocked(DirName(path), what);
    return s.ok() ? s : s.WithContext(std::string(what) + " " + path);
  }

  bool HasChildrenLocked(const std::string& dir) const {
    const std::string prefix = ChildPrefix(dir);
    auto it = nodes_.lower_bound(prefix);
    return it != nodes_.end() &&
           it->first.compare(0, prefix.size(), prefix) == 0;
  }

  // rename(2) of a directory: the target must be missing or an empty directory,
  // and may not lie inside the source.
  Status RenameDirLocked(const std::string& from, const std::string& to) {
    auto dst = nodes_.find(to);
    if (dst != nodes_.end() &&
        (!dst->second.is_dir() || HasChildrenLocked(to))) {
      return Status::InvalidArgument("rename " + from + " -> " + to +
                                     ": target not empty dir");
    }
    if (to.compare(0, from.size() + 1, from + "/") == 0) {
      return Status::InvalidArgument("rename " + from + " -> " + to +
                                     ": target inside source");
    }
    std::map<std::string, Node> moved;
    const std::string prefix = from + "/";
    for (auto it = nodes_.lower_bound(prefix);
         it != nodes_.end() &&
         it->first.compare(0, prefix.size(), prefix) == 0;) {
      moved[to + it->first.substr(from.size())] = it->second;
      it = nodes_.erase(it);
    }
    nodes_.erase(from);
    nodes_[to] = Node{nullptr};
    nodes_.merge(moved);
    return Status::OK();
  }

  using NodeIter = std::map<std::string, Node>::iterator;
  // The node at `path` for unlink (dir false) or rmdir (dir true), with the
  // errors POSIX gives for a missing one or one of the other kind.
  Status FindKindLocked(const std::string& path, bool dir, NodeIter* it) {
    const char* op = dir ? "rmdir " : "unlink ";
    *it = nodes_.find(path);
    if (*it == nodes_.end())
      return Status::NotFound(op + path +
                              (dir ? ": No such directory" : ": No such file"));
    if ((*it)->second.is_dir() != dir)
      return Status::InvalidArgument(
          op + path + (dir ? ": not a directory" : ": is a directory"));
    return Status::OK();
  }

  std::mutex mu_;
  std::map<std::string, Node>
      nodes_;  // every path except the roots "/" and "."
  std::shared_ptr<LockTable> locks_ = std::make_shared<LockTable>();
};

}  // namespace

std::unique_ptr<Env> NewMemEnv() { return std::make_unique<MemEnv>(); }

}  // namespace kvb
