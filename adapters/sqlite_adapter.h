// kvb::SqliteAdapter — SQLite 3 (Debian libsqlite3-dev 3.40) behind the
// adapter interface.
//
// Schema: one file <dir>/kv.sqlite in WAL journal mode, holding
//   CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID
// (a clustered B-tree on the key, the closest SQLite gets to a KV store).
//
// Threads: one connection per thread (kvb::PerThread; SQLITE_OPEN_NOMUTEX,
// since a connection never crosses threads), each with its own prepared
// statements. WAL lets readers run alongside the writer. Writes from this
// process are serialized by an adapter mutex rather than by SQLite's
// busy-retry loop, whose sleeps would dominate a multi-writer benchmark;
// busy_timeout still covers other processes. All connections are closed at
// Close; a thread that exits hands its connection back for reuse. The Scan
// callback must not call back into the adapter.
//
// Durability (PRAGMA synchronous, in WAL mode):
//   none   OFF: SQLite never fsyncs. Sync() fsyncs the WAL, the database file
//          and the directory while holding the write mutex, which captures
//          exactly the committed state.
//   async  NORMAL: commits are not fsynced, checkpoints are (SQLite's advice
//          for WAL); a power loss can lose the commits since the last
//          checkpoint (~1000 pages by default).
//   sync   FULL: every commit fsyncs the WAL.
// Close() does Sync(), switches every connection to synchronous=FULL so the
// final checkpoint is fsynced, then closes them all.
//
// Options:
//   cache_mb = 64              page cache per connection in MiB.
//   mmap_mb = 0                memory-mapped I/O in MiB; 0 = read() calls.
//   busy_timeout_ms = 5000     wait for another process's lock.
//   page_size = 4096           page size of a new database.
//
// Capabilities: persistent; ordered (BLOBs compare with memcmp: byte order);
// native atomic WriteBatch (one transaction); no directory lock: SQLite is
// multi-process by design, so a second Open (in this process or another)
// succeeds and shares the file through SQLite's own locks. Limits: values
// under SQLITE_MAX_LENGTH (1e9 bytes); larger ones fail with InvalidArgument
// ("string or blob too big"). A file that is not a database is Corruption.
#ifndef KVB_ADAPTERS_SQLITE_ADAPTER_H_
#define KVB_ADAPTERS_SQLITE_ADAPTER_H_

#include <mutex>

#include "adapters/adapter.h"
#include "adapters/per_thread.h"
#include "adapters/registry.h"

namespace kvb {

struct SqliteConfig {
  uint64_t cache_mb = 64;
  uint64_t mmap_mb = 0;
  int busy_timeout_ms = 5000;
  int page_size = 4096;
  Durability durability = Durability::kNone;

  static Result<SqliteConfig> FromOptions(const OptionMap& options);
};

class SqliteAdapter final : public Adapter {
 public:
  explicit SqliteAdapter(SqliteConfig config);
  ~SqliteAdapter() override;
  static Capabilities Caps();

  std::string_view name() const override { return "sqlite"; }
  Capabilities capabilities() const override { return Caps(); }
  Status Open(const std::string& dir) override;
  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status WriteBatch(std::span<const KeyValue> pairs) override;
  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override;
  Status Sync() override;
  std::map<std::string, double> Stats() override;

 private:
  struct Conn;
  Result<std::unique_ptr<Conn>> Connect() const;
  Result<Conn*> Local();

  const SqliteConfig config_;
  std::string path_;  // <dir>/kv.sqlite; empty when closed
  std::mutex write_mu_;
  PerThread<Conn> conns_;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_SQLITE_ADAPTER_H_
