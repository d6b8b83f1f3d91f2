// kvb::Env — the one seam through which engines touch the file system
// (LevelDB's Env idea).
//
// Engines never call open(2), pwrite(2), fsync(2) or rename(2) directly; they
// call an Env. Three implementations exist:
//   Env::Default()     POSIX, the real file system (core/env_posix.cc);
//   NewMemEnv()        an in-memory file system, fast and hermetic for tests;
//   FaultInjectionEnv  (core/testing/fault_env.h, tests only) wraps another Env; fails chosen
//                      calls, tears writes, and simulates power loss by
//                      dropping every byte and directory entry that was not
//                      made durable.
//
// Durability model (what every Env, and every engine's crash test, assumes):
//   - File::Append/WriteAt data is durable only after File::Sync or
//     File::DataSync returns OK.
//   - A new name (create, rename target) or a removed name in a directory is
//     durable only after SyncDir(that directory) returns OK.
//   - RenameFile is atomic: after a crash the target holds either the old or
//     the new file.
//
// Paths are plain strings ("/a/b/c"); "dir" arguments name directories. Env
// methods and File methods are thread-safe unless a method says otherwise:
// ReadAt may be called from many threads at once on one File; Append, WriteAt
// and Truncate on one File need external serialisation.
//
// Symbolic links are never followed through an Env's last path component
// (intermediate components are the caller's business): OpenFile and LockFile
// refuse a symlink, Stat describes the link itself (FileStat::is_symlink),
// CreateDir refuses an existing symlink, and RemoveAll neither descends into
// nor deletes through one. So an engine confined to its directory cannot be
// made to read, write, empty or delete anything outside it by a planted link.
// Each refusal is InvalidArgument naming the path and saying "symbolic link".
// The in-memory Env has no symlinks.
#ifndef KVB_CORE_ENV_H_
#define KVB_CORE_ENV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace kvb {

// How OpenFile treats an existing or missing file.
enum class OpenMode : uint8_t {
  kReadOnly,   // must exist; writes fail with FailedPrecondition
  kReadWrite,  // must exist
  kCreate,     // read-write; created (empty) if missing, kept if present
  kCreateNew,  // read-write; InvalidArgument("exists") if the file exists
  kTruncate,   // read-write; created if missing, emptied if present
};

// A read-only view of part of a file (mmap). The bytes stay valid and
// unchanging while the region lives, as long as the file is only appended to or
// the region's range is not rewritten; the owner must not rewrite or truncate a
// mapped range.
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  virtual const char* data() const = 0;
  virtual size_t size() const = 0;
};

// An open file. Closed on destruction (errors then are lost: call Close() to
// see them).
class File {
 public:
  virtual ~File() = default;

  // Reads up to `n` bytes at `offset` into `scratch` (the caller owns it; at
  // least n bytes). *bytes_read gets the count; it is less than n only at end
  // of file. Thread-safe.
  virtual Status ReadAt(uint64_t offset, size_t n, char* scratch,
                        size_t* bytes_read) const = 0;
  // Appends at the current end of file.
  virtual Status Append(std::string_view data) = 0;
  // Writes at `offset`, extending the file (with zeros in any gap) if needed.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  // fsync: data and metadata durable.
  virtual Status Sync() = 0;
  // fdatasync: data durable (and the size, if it changed).
  virtual Status DataSync() = 0;
  virtual Result<uint64_t> Size() const = 0;
  // Closes the handle; later calls fail with FailedPrecondition. Idempotent.
  virtual Status Close() = 0;
  // Maps [offset, offset + length) read-only. NotSupported where the Env cannot
  // map (the in-memory and fault-injecting Envs); engines then fall back to
  // ReadAt.
  virtual Result<std::unique_ptr<MappedRegion>> Map(uint64_t offset,
                                                    size_t length) const {
    return Status::NotSupported("mmap not supported by this Env");
  }
  // Hints that the file's cached pages may be dropped (posix_fadvise DONTNEED).
  // Best effort.
  virtual Status DropCache() { return Status::OK(); }
};

// Held while a database is open; released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

struct FileStat {
  bool is_dir = false;      // a real directory (never a symlink to one)
  bool is_symlink = false;  // the entry itself is a symbolic link (lstat)
  uint64_t size = 0;        // apparent size in bytes
  // st_blocks * 512 (equals size for the in-memory Env).
  uint64_t allocated_bytes = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX Env. Never null; lives for the whole process; do not delete.
  static Env* Default();

  // InvalidArgument if `path` is a symbolic link or not a regular file.
  virtual Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                                 OpenMode mode) = 0;
  // Atomically replaces `to` with `from` (rename(2)). Durable after SyncDir of
  // both parents.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Removes a file. NotFound if missing.
  virtual Status RemoveFile(const std::string& path) = 0;
  // Creates a directory; OK if it already exists as a directory;
  // InvalidArgument if a file or a symbolic link is there. Parents must exist (see CreateDirs).
  // Safe against a concurrent RemoveDir of the same path (retried; Busy if it
  // keeps vanishing).
  virtual Status CreateDir(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDir(const std::string& path) = 0;
  // Names of the entries of a directory, without "." and "..", in no particular
  // order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Describes the entry itself, never a symlink's target (lstat). NotFound if
  // missing.
  virtual Result<FileStat> Stat(const std::string& path) = 0;
  // Makes the directory's entries (creates, renames, removes) durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive lock on `path` (created if missing; InvalidArgument if
  // it is a symbolic link). Busy if another
  // process or another open handle in this process holds it. Released when the
  // FileLock is destroyed.
  virtual Result<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) = 0;

  // Helpers built on the methods above (implemented once in env.cc).
  bool FileExists(const std::string& path);
  // mkdir -p. `path` itself must not be a symbolic link (InvalidArgument);
  // its ancestors may be (they are the caller's own path, e.g. a linked /data).
  Status CreateDirs(const std::string& path);
  // CreateDirs, then syncs the parent of every directory it created (outermost
  // first), so the new chain survives a power loss: without this, files synced
  // inside a new directory can vanish with it. Existing directories are not
  // synced. An error from a sync is returned as is (the caller decides whether
  // it is sticky).
  Status CreateDirsDurably(const std::string& path);
  // Removes a directory tree; OK if missing. A symbolic link anywhere in the
  // tree (or `path` itself) stops the removal with InvalidArgument naming it:
  // nothing is removed through it, and entries already visited stay removed.
  Status RemoveAll(const std::string& path);
  Result<std::string> ReadFileToString(const std::string& path);
  // Writes `data` to path + ".tmp", syncs it, renames it over `path`, syncs the
  // directory.
  Status WriteFileAtomically(const std::string& path, std::string_view data);
};

// An empty in-memory file system. Thread-safe. Map() is NotSupported.
std::unique_ptr<Env> NewMemEnv();

// Path helpers.
std::string JoinPath(std::string_view dir, std::string_view name);
std::string DirName(std::string_view path);
std::string BaseName(std::string_view path);

}  // namespace kvb

#endif  // KVB_CORE_ENV_H_
