// Shared parts of the adapter interface: the default
// Has/MultiGet/WriteBatch/Scan, and the directory helpers every adapter uses
// at Open.
#include "adapters/adapter.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>


namespace kvb {
namespace fs = std::filesystem;

Status Adapter::Settle() { return Sync(); }

Status Adapter::Has(std::string_view key, bool* found) {
  std::string scratch;
  Status s = Get(key, &scratch);
  if (s.ok()) {
    *found = true;
    return Status::OK();
  }
  if (s.IsNotFound()) {
    *found = false;
    return Status::OK();
  }
  return s;
}

Status Adapter::MultiGet(std::span<const std::string_view> keys,
                         std::string* values, Status* statuses) {
  Status first;
  for (size_t i = 0; i < keys.size(); ++i) {
    statuses[i] = Get(keys[i], &values[i]);
    if (first.ok() && !statuses[i].ok() && !statuses[i].IsNotFound())
      first = statuses[i];
  }
  return first;
}

Status Adapter::WriteBatch(std::span<const KeyValue> pairs) {
  for (const KeyValue& kv : pairs) KVB_RETURN_IF_ERROR(Put(kv.key, kv.value));
  return Status::OK();
}

Status Adapter::Scan(std::string_view start, size_t limit,
                     const ScanCallback& cb) {
  return Status::NotSupported("adapter '" + std::string(name()) +
                              "' is not ordered");
}

Result<uint64_t> Adapter::BytesOnDisk() const {
  if (dir_.empty())
    return Status::FailedPrecondition("BytesOnDisk: never opened");
  KVB_ASSIGN_OR_RETURN(uint64_t all, AllocatedBytesUnder(dir_));
  KVB_ASSIGN_OR_RETURN(uint64_t logs, InfoLogBytes());
  return all > logs ? all - logs : 0;
}

Result<uint64_t> Adapter::InfoLogBytes() const {
  if (dir_.empty())
    return Status::FailedPrecondition("InfoLogBytes: never opened");
  return AllocatedBytesUnder(
      dir_, [this](std::string_view name) { return IsInfoLog(name); });
}

Result<uint64_t> AllocatedBytesUnder(
    const std::string& dir,
    const std::function<bool(std::string_view)>& only) {
  std::error_code ec;
  fs::recursive_directory_iterator it(
      dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Status::FromErrno(ec.value(), "scan " + dir);
  uint64_t total = 0;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::FromErrno(ec.value(), "scan " + dir);
    // lstat, not stat: a symlink's target may live outside the directory.
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) {
      // A file may vanish between listing and stat (an engine compacting); skip
      // it.
      if (errno == ENOENT) continue;
      return Status::FromErrno(errno, "stat " + it->path().string());
    }
    // Directories count too: a layout of many small directories (fileperkey's
    // two-level transforms) pays a block for each, and hiding that would
    // flatter it.
    if (only && (!S_ISREG(st.st_mode) ||
                 !only(it->path().filename().string())))
      continue;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
      total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  if (ec) return Status::FromErrno(ec.value(), "scan " + dir);
  return total;
}

Status PrepareDirectory(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("empty directory path");
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st))
      return Status::InvalidArgument("not a directory: " + dir);
  } else {
    fs::create_directories(dir, ec);
    if (ec) {
      // ENOTDIR means some parent is a regular file: say which path we wanted.
      if (ec.value() == ENOTDIR || ec.value() == EEXIST) {
        return Status::InvalidArgument("cannot create directory " + dir +
                                       ": a parent is not a directory");
      }
      return Status::FromErrno(ec.value(), "cannot create directory " + dir);
    }
  }
  // access(W_OK) is true for root everywhere; it still catches read-only mounts
  // (EROFS).
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return Status::FromErrno(errno, "directory not writable: " + dir);
  }
  return Status::OK();
}

}  // namespace kvb
