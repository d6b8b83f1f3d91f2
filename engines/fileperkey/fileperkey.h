// kvb::fileperkey::Store — the diskv design: one plain file per key.
//
// A store is a base directory. Each key's value is the whole content of one
// file at a path computed from the key by a Transform (transform.h), so the
// data stays readable, copyable and backed up with ordinary tools. There is no
// log and no on-disk index. Optional layers sit on top: a byte-bounded LRU read
// cache (lru_cache.h), an in-memory ordered key index (key_index.h), and
// compression as standard gzip/zlib/zstd frames (codec.h). FORMAT.md describes
// the directory layout byte by byte.
//
// Differences from diskv (all deliberate, see README.md):
//   - Every write is atomic: the value goes to a fresh temp file in
//     BASE/.fpk-tmp, which is renamed over the key's file. A reader that
//     opened the old file keeps reading the old value whole; a crash leaves
//     the old or the new value, never a mix.
//   - Every entry point validates the key through the transform (no path can
//     leave the base directory, name a reserved file, or turn into another
//     key's directory).
//   - Writers take a per-key striped lock only around the rename (never while
//     reading the caller's stream or writing data); readers take no store lock
//     at all.
//   - A lock file (BASE/.fpk-lock) keeps a second Store (in this or another
//     process) out.
//   - No operation follows a symbolic link below the base (FORMAT.md, 6).
//
// Durability (see Options::sync and WriteOptions::sync):
//   sync on   Write returns after the temp file was fsynced, renamed, and the
//             key's directory (and any directory it had to create, with its
//             parent) fsynced: the value survives a power loss.
//   sync off  the value is visible at once but may be lost in a power loss
//             (the old value then remains); Store::Sync() makes every earlier
//             write durable. Overwriting an existing key fdatasyncs the temp
//             file before the rename even here (as ext4's auto_da_alloc
//             does), so a power loss leaves the old or the new value, never an
//             empty file. A NEW key's name can reach the disk before its
//             data (a later directory fsync makes it durable): with the value
//             checksum (the default for new stores) that key then reads as
//             Corruption, never as a wrong or empty value; in a plain store
//             (checksum none, diskv's files) it can read as empty.
// Open creates missing directories (base, temp dir) durably: each new
// directory's parent is fsynced (Env::CreateDirsDurably).
// A failed fsync (of a file or a directory, in any call) is sticky: the kernel
// may already have dropped the unsynced pages, so a retry that "succeeds"
// proves nothing. That call and every later Write, WriteStream, Erase,
// EraseAll, Import and Sync return the first failure's Status (same code,
// with context) until the store is reopened; reads keep working. A Sync
// whose fdatasync of a value file fails still syncs the other files and
// rewrites that one from what reads back (a fresh temp file, fdatasynced,
// renamed over the key; checked first where the format can), then syncs the
// directories: otherwise any later directory fsync (a reopened store's)
// would make the key's name durable over data the kernel dropped. It still
// returns the error.
//
// Integrity (Options::checksum, FORMAT.md 2): compressed values are standard
// frames with their own checksum; uncompressed values of a new store end in
// an 8-byte CRC-32C trailer, so damage is Corruption on read and a problem in
// `kvbench inspect`. Stores without a trailer (a version-1 .fpk-meta, an
// adopted plain tree, checksum none) are read and written as plain files,
// exactly as diskv's.
//
// Thread safety: every method of an open Store is thread-safe. Values returned
// are owned copies (or streams owning their file); later writes never change
// them.
#ifndef KVB_ENGINES_FILEPERKEY_FILEPERKEY_H_
#define KVB_ENGINES_FILEPERKEY_FILEPERKEY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "core/status.h"
#include "engines/fileperkey/codec.h"
#include "engines/fileperkey/compression.h"
#include "engines/fileperkey/key_index.h"
#include "engines/fileperkey/lru_cache.h"
#include "engines/fileperkey/ordered_index.h"
#include "engines/fileperkey/stream.h"
#include "engines/fileperkey/transform.h"

namespace kvb::fileperkey {

// Names of the store's own entries directly under the base directory.
inline constexpr std::string_view kLockFileName = ".fpk-lock";
inline constexpr std::string_view kMetaFileName = ".fpk-meta";
inline constexpr std::string_view kTempDirName = ".fpk-tmp";

// Whether uncompressed values carry a CRC-32C trailer (value_checksum.h,
// FORMAT.md 2.1). Which one a store uses is fixed at creation and recorded in
// .fpk-meta: a trailer cannot be told from value bytes.
enum class ValueChecksum : uint8_t {
  // A new, empty store: kCrc32c if uncompressed, kNone if compressed (frames
  // carry their own checksum). An existing store: whatever it records (kNone
  // for a version-1 .fpk-meta or an adopted tree without one).
  kDefault,
  // Every uncompressed value file is the value + an 8-byte trailer; damage is
  // Corruption. InvalidArgument with compression, or for an existing store
  // that records kNone.
  kCrc32c,
  // Plain files, the value byte for byte (diskv). InvalidArgument for an
  // existing store that records kCrc32c.
  kNone,
};

// "default", "crc32c", "none".
std::string_view ValueChecksumName(ValueChecksum c);
// Accepts the names above and on (= crc32c), off (= none), auto (= default);
// InvalidArgument otherwise.
Result<ValueChecksum> ParseValueChecksum(std::string_view name);

struct Options {
  // File system; null = Env::Default(). Must outlive the store.
  Env* env = nullptr;
  // Key -> path. Default: flat, plain (the key is the file name).
  Transform transform;
  // Where temp files are written before the rename. Empty = BASE/.fpk-tmp
  // (cleaned of leftovers at Open). A user directory must be on the same file
  // system as the base directory (rename fails with an IOError otherwise) and
  // is never cleaned by the store.
  std::string temp_dir;
  // Read cache size in bytes (keys + values); 0 = no cache.
  uint64_t cache_bytes = 0;
  // Keep an ordered in-memory index of keys (built by walking the tree, see
  // index_in_background).
  bool index = false;
  // Index order; null = byte order.
  KeyLess index_less;
  // The index implementation (diskv's Index option); null = KeyIndex.
  IndexFactory index_factory;
  // true: Open returns at once and a background thread walks the tree into the
  // index (see Store::WaitForIndex); false: Open walks it before returning.
  bool index_in_background = true;
  // Compression of values written from now on. Reads detect the codec per file.
  Codec compression = Codec::kNone;
  int compression_level = 0;  // 0 = codec default
  // A compression implementation (diskv's Compression option, e.g.
  // ZlibDictCompression); when set it is used instead of compression /
  // compression_level, for writes and reads.
  std::shared_ptr<const Compression> compressor;
  // Per-file checksum of uncompressed values (see ValueChecksum). Store::
  // value_checksum() tells what an open store uses.
  ValueChecksum checksum = ValueChecksum::kDefault;
  // fsync every write (file and directory). Per-call override:
  // WriteOptions::sync.
  bool sync = false;
  // Permission bits for value files and directories the store creates; the
  // process umask is applied. 0 = the Env's default (0644 / 0755 with the
  // umask, for the POSIX Env). Only honoured with the POSIX Env
  // (Env::Default()).
  uint32_t file_mode = 0;
  uint32_t dir_mode = 0;
  // Take BASE/.fpk-lock (Busy if another store holds it).
  bool lock = true;
  // Accept a non-empty base directory without a .fpk-meta file (an existing
  // tree of plain files, as diskv would). false: such a directory is refused
  // with Corruption.
  bool adopt_existing = true;
};

struct WriteOptions {
  // fsync this write even if Options::sync is off.
  bool sync = false;
};

struct ReadOptions {
  // Bypass the cache for this call (diskv's ReadStream `direct`): the value is
  // read from its file, is not cached, and any cached copy of the key is
  // dropped, so later reads see the file as it is now (e.g. after it was
  // changed behind the store's back). No effect when the cache is off.
  bool direct = false;
};

struct StoreStats {
  LruCache::Stats cache;  // zero when the cache is off
  uint64_t index_keys = 0;
  bool index_building = false;  // the background walk is still running
  uint64_t writes = 0;
  uint64_t rename_retries =
      0;  // a directory vanished under a write (concurrent erase)
};

class Store {
 public:
  // Opens (creating the base directory if missing) a store. Errors:
  // InvalidArgument for bad options or a base path that is a file; Busy if
  // another store holds the lock; Corruption for an unreadable .fpk-meta or
  // (adopt_existing = false) a foreign non-empty directory; InvalidArgument if
  // .fpk-meta records a different built-in transform or encoding.
  static Result<std::unique_ptr<Store>> Open(const std::string& base_dir,
                                             Options options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Stores `value` under `key` atomically (replacing any old value).
  // InvalidArgument for a bad key or one that collides with another key's
  // directory.
  Status Write(std::string_view key, std::string_view value,
               const WriteOptions& wo = {});
  // Like Write, reading the value from `src` in chunks; `src` is read before
  // any lock is taken. An error from `src` aborts the write and leaves the old
  // value.
  Status WriteStream(std::string_view key, ValueReader* src,
                     const WriteOptions& wo = {});

  // Replaces *value with the value of `key`. NotFound if absent;
  // InvalidArgument for a bad key; Corruption for a damaged compressed value,
  // and (checksummed store) for a value file whose trailer is missing or does
  // not match: a flipped byte, a truncated or a zero-length file. Only
  // verified values enter the cache. A cache hit builds no path and makes no
  // system call.
  Status Read(std::string_view key, std::string* value,
              const ReadOptions& ro = {});
  // A stream over the value; it owns its open file (closed when destroyed, read
  // to the end or not) and sees the value as of the open, whatever later writes
  // do. Large values are never held whole in memory: the cache tee stops as
  // soon as the value exceeds the cache's item limit. Damage is Corruption from
  // ReadStream (a checksummed file shorter than its trailer) or from the Read
  // that reaches it: in a checksummed store the read that would return the
  // last bytes returns Corruption instead, so a stream read to its end
  // (*got == 0) yielded exactly the stored value. The cache is filled only by
  // a stream read to its verified end (never with ro.direct). A cache hit
  // streams the cached bytes (shared, not copied).
  Result<std::unique_ptr<ValueReader>> ReadStream(std::string_view key,
                                                  const ReadOptions& ro = {});
  // *found = whether `key` has a value. InvalidArgument for a bad key.
  Status Has(std::string_view key, bool* found);

  // Removes `key`, then any directories left empty (never the base directory).
  // NotFound if absent.
  Status Erase(std::string_view key);
  // Removes every key (and anything else under the base directory except the
  // store's lock, metadata and temp directory), the cache and the index.
  Status EraseAll();
  // Makes the file at `src_path` (outside the base directory) the value of
  // `key`. move: the file is renamed into place (copied then removed if it is
  // on another file system, or if compression is on, because the stored file
  // must be a compressed frame); otherwise it is copied. The index and cache
  // are updated either way.
  Status Import(const std::string& src_path, std::string_view key, bool move,
                const WriteOptions& wo = {});

  // Calls `fn` for each key starting with `prefix` ("" = all), in
  // directory-walk order (byte order of path names, not of keys), until it
  // returns false. Keys written or erased during the walk may or may not be
  // seen. Files that are not the store's (no key maps to them) are skipped.
  // Errors of the walk are returned (a directory vanishing is not an error).
  Status ForEachKey(std::string_view prefix,
                    const std::function<bool(const std::string&)>& fn);
  // Index queries (FailedPrecondition when the index is off): exactly min(n,
  // available) keys strictly after `after` ("" = from the first) / at or after
  // `start`, in index order. While the background build runs they wait for it
  // (WaitForIndex), and return its error if it failed.
  //
  // During the build every other operation works at once and is correct:
  // reads, Has and ForEachKey use the files, not the index; writes, erases
  // and imports update the index, and the walk never re-adds a key that
  // changed after it started (nor anything after an EraseAll).
  Result<std::vector<std::string>> IndexKeysAfter(std::string_view after,
                                                  size_t n) const;
  Result<std::vector<std::string>> IndexKeysFrom(std::string_view start,
                                                 size_t n) const;
  // Blocks until the index holds every key (returns at once when it is built,
  // or was built synchronously). OK; FailedPrecondition when the index is off;
  // or the walk's error (e.g. an unreadable directory), which every index query
  // then returns too: reopen the store to retry.
  Status WaitForIndex() const;

  // Makes every write and erase acknowledged so far durable (a no-op when
  // everything was written with sync). After any failed fsync it returns that
  // error forever (see the file comment), never OK.
  Status Sync();

  // The file of `key` (absolute path); InvalidArgument for a bad key.
  Result<std::string> PathOf(std::string_view key) const;
  const std::string& base_dir() const { return base_; }
  const Options& options() const { return options_; }
  // kCrc32c or kNone: what this store's value files use (resolved at Open).
  ValueChecksum value_checksum() const {
    return value_crc_ ? ValueChecksum::kCrc32c : ValueChecksum::kNone;
  }
  StoreStats stats() const;

 private:
  Store(std::string base, Options options);

  Status Init();
  // Corruption when the base directory holds files but no .fpk-meta (unless
  // adopt_existing): someone else's data, which we never touch.
  // InvalidArgument when such a tree would be adopted with checksum kCrc32c.
  Status RefuseForeignDirectory();
  Status CheckMeta();
  // Whether a store being created (no .fpk-meta yet) gets the trailer: not for
  // an adopted tree of plain files, nor with compression or checksum kNone.
  Result<bool> ChecksumForNewMeta();
  // A reader of the value in `file` (of `size` bytes): decompressing or
  // verifying the trailer as the store's format says.
  std::unique_ptr<ValueReader> ValueStream(std::unique_ptr<File> file,
                                           uint64_t size) const;
  Status CleanTempDir();
  // InvalidArgument naming the first symbolic link in the tree, if any.
  Status RefuseSymlinks();
  // Starts the index walk (on a thread, or here when not in background).
  Status StartIndexBuild();
  // The walk: inserts each key found unless a mutation touched it since the
  // build began; publishes the result and wakes WaitForIndex.
  Status RunIndexBuild();
  // A mutation's index update (present = written, else erased); during the
  // build it also marks the key so the walk leaves it alone.
  void NoteIndex(std::string_view key, bool present);
  Status KeyPath(std::string_view key, std::string* path) const;
  std::mutex& StripeFor(std::string_view key) const;

  Status CreateTemp(std::string* tmp_path, std::unique_ptr<File>* file);
  Status WriteBody(File* file, ValueReader* src);
  Status Publish(std::string_view key, const std::string& tmp,
                 const std::string& target, bool sync);
  Status MakeParentDirs(const std::string& target, bool sync);
  Status SyncAncestors(const std::string& target);
  Status ExplainOpenError(const Status& s, const std::string& path);
  void ApplyMode(const std::string& path, bool dir) const;
  void NoteUnsynced(const std::string& path, bool is_dir);
  Status ReadFileValue(const std::string& path, std::string* value) const;
  void PruneEmptyDirs(const std::string& path);
  Status SyncEverything();
  // fdatasyncs `paths` in parallel; each file whose fdatasync fails is
  // rewritten (RewriteDropped). OK when every file ended durable.
  Status SyncFiles(const std::vector<std::string>& paths);
  // After a failed fdatasync of the key file `path`: copies it into a fresh
  // temp file, fdatasyncs that and renames it over `path`.
  Status RewriteDropped(const std::string& path);
  // Reads the value file at `path` to its end through ValueStream: OK, or
  // Corruption where the format detects damage.
  Status VerifyValueFile(const std::string& path) const;
  // Records the first failed fsync (`s` not OK) and returns `s`.
  Status NoteSyncResult(Status s);
  // OK, or the sticky error of an earlier failed fsync.
  Status CheckSyncHealth() const;

  const std::string base_;
  const Options options_;
  Env* const env_;
  std::string temp_dir_;
  // What compresses values (Options::compressor, or the built-in codec);
  // null = uncompressed.
  std::shared_ptr<const Compression> codec_;
  bool value_crc_ = false;   // value files end in a CRC-32C trailer
  size_t max_rel_path_ = 0;  // longest relative path a key may map to
  uint32_t umask_ = 022;

  std::unique_ptr<FileLock> lock_;
  std::shared_ptr<LruCache> cache_;  // shared with cache-filling streams
  std::unique_ptr<OrderedIndex> index_;

  // The background index build. build_mu_ orders the walk's inserts against
  // mutations (NoteIndex) and guards the members below it.
  mutable std::mutex build_mu_;
  mutable std::condition_variable build_cv_;
  std::atomic<bool> building_{false};
  std::atomic<bool> stop_build_{false};  // the destructor wants the walk gone
  bool build_abandoned_ = false;         // EraseAll ran: the walk adds nothing
  Status build_status_;
  std::unordered_set<std::string> build_touched_;
  std::thread build_thread_;

  static constexpr size_t kStripes = 256;
  std::unique_ptr<std::mutex[]> stripes_;
  // Shared by every rename/unlink, exclusive for EraseAll.
  std::shared_mutex erase_all_mu_;

  std::atomic<uint64_t> temp_counter_{0};
  uint64_t temp_nonce_ = 0;
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> rename_retries_{0};

  // Paths written or removed without sync, for Sync(). Bounded: past
  // kMaxUnsynced entries Sync() falls back to syncing the whole tree.
  static constexpr size_t kMaxUnsynced = 1 << 18;
  std::mutex unsynced_mu_;
  std::unordered_set<std::string> unsynced_files_;
  std::unordered_set<std::string> unsynced_dirs_;
  bool unsynced_overflow_ = false;
  std::atomic<bool> has_unsynced_dirs_{false};

  // The first failed fsync; once set, never cleared (see the file comment).
  std::atomic<bool> sync_failed_{false};
  mutable std::mutex sync_error_mu_;
  Status sync_error_;
};

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_FILEPERKEY_H_
