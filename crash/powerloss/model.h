// kvb::powerloss::Model — replays a power-loss log and builds the directory a
// power cut at the current point would leave.
//
// The model keeps, per inode, the durable contents plus the ordered list of
// changes since (writes, truncates, fallocates), each flagged durable once a
// sync covered it; per directory, the durable entries plus the ordered list of
// entry changes (create, rename, unlink, mkdir, rmdir, link).
//
// Persistence rules (the pessimistic model, POSIX's minimum):
//   - fsync/fdatasync of a file makes durable every change to that file that
//     was logged before the call started. It does not persist the file's name.
//   - fsync of a directory makes durable every entry change in that directory
//     logged before the call started. A file is reachable after the cut only
//     through durable entries of durable directories, from the root down.
//   - A write through an O_SYNC/O_DSYNC descriptor, or with RWF_(D)SYNC, is
//     durable when it returns (the write alone, not earlier ones).
//   - sync()/syncfs() make everything logged before their start durable.
//   - sync_file_range and msync persist nothing (sync_file_range gives no
//     guarantee; msync only matters for writable shared mappings, whose
//     stores the shim cannot see: they are reported as unsupported).
// Options:
//   - DirModel::kExt4: like ext4 (data=ordered): an fsync of any file also
//     commits every directory change logged before it (ext4's fsync commits
//     the whole running journal transaction). Less pessimistic than POSIX.
//   - DataModel::kPrefix: each file additionally keeps a random prefix of its
//     unsynced changes (per file, chosen from the point seed) — writes reach
//     the disk in order, some not yet.
// The initial state (the snapshot directory) is durable.
//
// Thread safety: none (one replay per object).
#ifndef KVB_CRASH_POWERLOSS_MODEL_H_
#define KVB_CRASH_POWERLOSS_MODEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "crash/powerloss/log_reader.h"

namespace kvb::powerloss {

enum class DataModel : uint8_t { kPessimistic, kPrefix };
enum class DirModel : uint8_t { kPosix, kExt4 };

struct ModelOptions {
  DataModel data = DataModel::kPessimistic;
  DirModel dir = DirModel::kPosix;
};

class Model {
 public:
  explicit Model(ModelOptions options);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Loads `snapshot_dir` (regular files and directories, recursively) as the
  // durable initial state. Call once, before Apply. IOError if unreadable.
  Status LoadSnapshot(const std::string& snapshot_dir);

  // Applies entry number `seq` of the log (seq = its index; entries must come
  // in order). A record the model cannot replay (a write on an unknown fd, an
  // open of a file it never saw created) is counted in anomalies(), not fatal.
  void Apply(const Entry& e, uint64_t seq);

  // Writes what a power cut now would leave into `out_dir` (created; must not
  // exist). `point_seed` drives DataModel::kPrefix.
  Status Materialize(const std::string& out_dir, uint64_t point_seed) const;

  // Human-readable notes on records that could not be modelled exactly.
  const std::vector<std::string>& anomalies() const { return anomalies_; }
  // Writable shared mappings seen (paths relative to the root).
  const std::vector<std::string>& shared_mappings() const {
    return shared_mappings_;
  }

 private:
  struct Inode;
  struct FdInfo {
    uint64_t ino = 0;
    bool dsync = false;
  };

  uint64_t NewInode(bool dir);
  // Resolves a root-relative path through the current (volatile) entries:
  // sets *parent and *name; returns the inode or 0 if absent.
  uint64_t Lookup(const std::string& path, uint64_t* parent, std::string* name);
  void AddEntryChange(uint64_t dir, uint64_t seq, const std::string& name,
                      uint64_t ino);
  void ApplyOpen(const Entry& e, uint64_t seq);
  void ApplyFileChange(const Entry& e, uint64_t seq);
  void ApplyNamespace(const Entry& e, uint64_t seq);
  void ApplySync(uint64_t ino, uint64_t start_seq);
  void CommitAllDirs(uint64_t start_seq);
  void CommitAll(uint64_t start_seq);
  Inode* FdInode(int fd, const Entry& e);
  void Note(const std::string& what);
  Status WriteDir(uint64_t ino, const std::string& path, uint64_t seed,
                  std::vector<bool>* visited) const;

  ModelOptions options_;
  std::vector<std::unique_ptr<Inode>> inodes_;  // index = inode number
  uint64_t root_ = 0;
  std::map<int, FdInfo> fds_;
  std::vector<std::string> anomalies_;
  std::vector<std::string> shared_mappings_;
};

}  // namespace kvb::powerloss

#endif  // KVB_CRASH_POWERLOSS_MODEL_H_
