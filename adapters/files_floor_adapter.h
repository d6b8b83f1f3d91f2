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
// Open: creates DIR and DIR/.floor-tmp. A non-empty DIR without .floor-tmp is
// refused (Corruption): it is not a files-floor store, and every file in it
// would be taken for a key. No directory lock: two handles on one directory
// both work (temp names carry a per-handle random nonce); stray temp files of
// a crashed write are never cleaned (a baseline has no recovery).
//
// Capabilities: persistent, thread_safe (every call is independent system
// calls; the only shared state is the temp counter, an atomic, and the list of
// unsynced names, under a mutex), unordered (Scan = NotSupported), no native
// batch (WriteBatch = a loop of Put), no lock, max_key_size 85.
#ifndef KVB_ADAPTERS_FILES_FLOOR_ADAPTER_H_
#define KVB_ADAPTERS_FILES_FLOOR_ADAPTER_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/periodic_sync.h"

namespace kvb {

// The file name of `key` (fileperkey's escaped encoding, without splitting).
std::string FilesFloorName(std::string_view key);

class FilesFloorAdapter final : public Adapter {
 public:
  static constexpr size_t kMaxKeySize = 85;
  static constexpr int kSyncThreads = 8;

  explicit FilesFloorAdapter(Durability durability) : durability_(durability) {}
  ~FilesFloorAdapter() override;
  static Capabilities Caps();

  std::string_view name() const override { return "files-floor"; }
  Capabilities capabilities() const override { return Caps(); }
  Status Open(const std::string& dir) override;
  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status Sync() override;

 private:
  Status KeyPath(std::string_view key, std::string* path) const;
  Status WriteTemp(const std::string& tmp, std::string_view value, bool sync);
  Status SyncDir(const std::string& dir) const;
  Status SyncFiles(const std::vector<std::string>& paths) const;

  const Durability durability_;
  bool open_ = false;
  std::string tmp_dir_;
  std::string nonce_;
  std::atomic<uint64_t> temp_counter_{0};
  PeriodicSync periodic_;

  // Files renamed into place (and whether anything was unlinked) since the
  // last Sync; only kept when durability != sync.
  std::mutex unsynced_mu_;
  std::vector<std::string> unsynced_;
  bool dir_dirty_ = false;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_FILES_FLOOR_ADAPTER_H_
