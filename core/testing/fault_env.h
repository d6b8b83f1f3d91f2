// kvb::FaultInjectionEnv — an Env that wraps another and misbehaves on request.
// For tests only: it lives in the test library kvb_core_testing, never in kvb_core.
//
// Used by crash, power-loss and disk-full tests (LevelDB's fault_injection_test
// and SpecialEnv ideas). It forwards every call to the wrapped Env (usually
// NewMemEnv()) and can:
//   - fail chosen calls with a chosen Status (EIO -> IOError, ENOSPC -> NoSpace),
//     once after a countdown or always, optionally only for paths containing a
//     substring;
//   - tear the next write: apply only its first `keep` bytes, then fail it;
//   - simulate power loss: every file goes back to the contents it had at its
//     last successful Sync/DataSync (or, with kTornTail, keeps a random prefix
//     of its unsynced tail), and every directory goes back to the entries it had
//     at its last successful SyncDir (files created or renamed in since are
//     gone, files removed or renamed away since are back with their last durable
//     contents). Files that existed before the FaultInjectionEnv was created are
//     treated as durable as they were at that moment;
//   - crash at the k-th sync point: after k successful Sync/DataSync/SyncDir
//     calls, every later call fails with IOError("fault env: crashed"), so the
//     engine above stops mid-flight; the test then calls SimulatePowerLoss() and
//     reopens.
//
// The default model is the strictest one an engine may rely on (env.h's
// durability model). Model (SetModel) adds the states real file systems also
// produce, which a correct engine must survive too:
//   names outrun data   a create or rename is durable (the journal committed it)
//                       while the file's data is not: zero length, or the old
//                       contents of an inode rewritten in place;
//   directories         a CreateDir is durable only after SyncDir of its parent;
//   fsync-gate          a failed Sync drops the dirty data (on by default; Linux).
//
// Thread-safe. Files opened before SimulatePowerLoss() fail every call
// afterwards.
#ifndef KVB_CORE_TESTING_FAULT_ENV_H_
#define KVB_CORE_TESTING_FAULT_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"

namespace kvb {

class FaultInjectionEnv : public Env {
 public:
  // The operations that can be made to fail.
  enum class Op : uint8_t {
    kOpen,
    kRead,
    kAppend,
    kWriteAt,
    kTruncate,
    kSync,
    kDataSync,
    kRename,
    kRemove,     // RemoveFile
    kRemoveDir,  // RemoveDir
    kCreateDir,
    kListDir,
    kSyncDir,
    kLock,
    kAny,
  };
  enum class PowerLossMode : uint8_t {
    kDropUnsynced,  // unsynced bytes are lost entirely
    kTornTail,      // each file keeps a random prefix of its unsynced bytes
  };

  // Which file-system behaviours a power loss may expose, beyond env.h's model.
  struct Model {
    // Which changes of file names (create, rename, remove) made since the last
    // SyncDir of their directory a power loss keeps: none (env.h's model), all
    // of them, or a random prefix in the order they were made (a journal that
    // committed part way; drawn from SimulatePowerLoss's seed; a rename is never
    // split). File data still survives only up to its last successful sync, so a
    // kept create or rename leaves a file with zero length or its old contents.
    // With kAll or kRandomPrefix a Truncate (and kTruncate open) shortens the
    // durable contents at once, as a journalled size change does.
    enum class Names : uint8_t { kOnlySynced, kAll, kRandomPrefix };
    Names unsynced_names = Names::kOnlySynced;
    // A directory made by CreateDir survives a power loss only once SyncDir of
    // its parent has returned OK, and a RemoveDir is undone until then (a
    // directory that vanishes takes every file in it along). Off: directories
    // are durable at once.
    bool dirs_need_parent_sync = false;
    // The fsync-gate behaviour of Linux: a Sync/DataSync that fails (injected,
    // or by the wrapped Env) drops the data written since the last successful
    // sync; a later successful sync does not make those bytes durable unless
    // they are written again. Reads still see them until a power loss, which
    // leaves the old bytes there (zeros past the old end).
    bool failed_sync_drops_data = true;
  };

  // `base` must outlive this Env.
  explicit FaultInjectionEnv(Env* base);
  ~FaultInjectionEnv() override;

  // The `skip`+1-th matching call from now fails with `error`; later calls
  // succeed.
  void FailOnce(Op op, uint64_t skip, Status error,
                std::string path_filter = "");
  // Every matching call fails with `error` until ClearFaults().
  void FailAlways(Op op, Status error, std::string path_filter = "");
  // Like FailOnce (no path filter), but once it fires every later call of an
  // op in `then` fails with `error` too, until ClearFaults(): a disk that stays
  // full (ENOSPC) or dead (EIO) from that call on.
  void FailSticky(Op op, uint64_t skip, Status error, std::vector<Op> then);
  // The next Append/WriteAt (matching the filter) writes only its first `keep`
  // bytes, then returns IOError.
  void TearNextWrite(size_t keep, std::string path_filter = "");
  // After `k` more successful sync points (Sync, DataSync, SyncDir), the Env
  // "crashes".
  void CrashAfterSyncs(uint64_t k);
  // Removes all armed faults and un-crashes.
  void ClearFaults();
  // Replaces the model (default: Model{}). Takes effect for later calls; set it
  // before the workload starts.
  void SetModel(const Model& model);

  // Resets the wrapped Env to its durable state (see above) and invalidates
  // open Files. The Env works normally afterwards (faults are cleared; the
  // model stays). `seed` drives kTornTail and Names::kRandomPrefix.
  Status SimulatePowerLoss(PowerLossMode mode = PowerLossMode::kDropUnsynced,
                           uint64_t seed = 0);

  // Sync points (successful Sync, DataSync, SyncDir) seen so far.
  uint64_t sync_points() const;
  // Calls failed by injection so far.
  uint64_t injected_failures() const;
  bool crashed() const;

  // Env interface.
  Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                         OpenMode mode) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Result<FileStat> Stat(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kvb

#endif  // KVB_CORE_TESTING_FAULT_ENV_H_
