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
// Durability (kSqliteDurability below; PRAGMA synchronous, in WAL mode):
//   memory       refused: every commit write(2)s its WAL frames.
//   process      OFF: SQLite never fsyncs; each commit is in the OS's hands.
//                Sync() fsyncs the WAL, the database file and the directory
//                while holding the write mutex, which captures exactly the
//                committed state.
//   periodic:MS  OFF plus that Sync() every MS ms from a background thread.
//                (SQLite's own NORMAL has no time bound, so it is not used.)
//   sync         FULL: every commit fsyncs the WAL.
// Close() does Sync(), switches every connection to synchronous=FULL so the
// final checkpoint is fsynced, then closes them all.
//
// Options:
//   cache_mb = 64              page cache per connection in MiB. SQLite's
//                              cache is per connection and there is one
//                              connection per thread, so T threads hold up
//                              to T x cache_mb (Stats: cache_mb_total). A
//                              shared cache (SQLITE_OPEN_SHAREDCACHE) is
//                              discouraged by SQLite and serialises readers,
//                              so it is not used; size cache_mb per thread.
//   mmap_mb = 0                memory-mapped I/O in MiB; 0 = read() calls.
//   busy_timeout_ms = 5000     wait for another process's lock.
//   page_size = 4096           page size of a new database.
//
// Capabilities: persistent; ordered (BLOBs compare with memcmp: byte order);
// native atomic WriteBatch (one transaction); no directory lock: SQLite is
// multi-process by design, so a second open (in this process or another)
// succeeds and shares the file through SQLite's own locks. Limits: values
// under SQLITE_MAX_LENGTH (1e9 bytes); larger ones fail with InvalidArgument
// ("string or blob too big"). A file that is not a database is Corruption.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <mutex>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "adapters/per_thread.h"
#include "adapters/periodic_sync.h"

namespace kvb {
namespace {

constexpr char kFileName[] = "kv.sqlite";

Status FromSqlite(int rc, sqlite3* db, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
    return Status::OK();
  std::string msg = "sqlite " + std::string(what) + ": " +
                    (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(msg);
    case SQLITE_FULL:
      return Status::NoSpace(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
      return Status::InvalidArgument(msg);
    default:
      return Status::IOError(msg);
  }
}

// A zero-length blob must be bound with a non-null pointer, or SQLite stores
// NULL.
int BindBlob(sqlite3_stmt* stmt, int index, std::string_view data) {
  const char* p = data.data() != nullptr ? data.data() : "";
  return sqlite3_bind_blob64(stmt, index, p, data.size(), SQLITE_STATIC);
}

std::string_view ColumnBlob(sqlite3_stmt* stmt, int col) {
  const void* p = sqlite3_column_blob(stmt, col);
  int n = sqlite3_column_bytes(stmt,
                               col);  // after column_blob, as SQLite documents
  return p == nullptr ? std::string_view()
                      : std::string_view(static_cast<const char*>(p), n);
}

Status FsyncPath(const std::string& path, bool missing_ok) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (missing_ok && errno == ENOENT) return Status::OK();
    return Status::FromErrno(errno, "sqlite sync: open " + path);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno(err, "sqlite sync: fsync " + path);
  return Status::OK();
}

// Resets a statement when the scope ends, so it never holds a read snapshot or
// a stale bind.
struct StmtReset {
  sqlite3_stmt* stmt;
  ~StmtReset() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

struct SqliteConfig {
  uint64_t cache_mb = 64;
  uint64_t mmap_mb = 0;
  int busy_timeout_ms = 5000;
  int page_size = 4096;
  DurabilityClass durability;

  static Result<SqliteConfig> Parse(const OptionMap& o) {
    SqliteConfig c;
    KVB_RETURN_IF_ERROR(ReadOption(o, "cache_mb", &c.cache_mb, 0, 1 << 20));
    KVB_RETURN_IF_ERROR(ReadOption(o, "mmap_mb", &c.mmap_mb, 0, 1 << 30));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "busy_timeout_ms", &c.busy_timeout_ms, 0, INT_MAX));
    KVB_RETURN_IF_ERROR(ReadOption(o, "page_size", &c.page_size, 512, 65536));
    KVB_RETURN_IF_ERROR(ReadDurability(o, &c.durability));
    if ((c.page_size & (c.page_size - 1)) != 0) {
      return Status::InvalidArgument(
          "option page_size: expected a power of two, got " +
          std::to_string(c.page_size));
    }
    return c;
  }
};

constexpr Capabilities kSqliteCaps{
    .ordered = true,
    .batch = true,
    .atomic_batch = true,
    .max_value_size = 1'000'000'000 - 1};  // SQLITE_MAX_LENGTH, less the key

struct Conn {
  sqlite3* db = nullptr;
  sqlite3_stmt* put = nullptr;
  sqlite3_stmt* get = nullptr;
  sqlite3_stmt* has = nullptr;
  sqlite3_stmt* del = nullptr;
  sqlite3_stmt* scan = nullptr;
  ~Conn() {
    for (sqlite3_stmt* s : {put, get, has, del, scan})
      sqlite3_finalize(s);  // null is a no-op
    sqlite3_close_v2(db);
  }
  Status Exec(const char* sql) {
    return FromSqlite(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db,
                      sql);
  }
  Status Prepare(const char* sql, sqlite3_stmt** stmt) {
    return FromSqlite(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                         stmt, nullptr),
                      db, sql);
  }
};

// A new connection to `path`, configured and with its statements prepared.
Result<std::unique_ptr<Conn>> Connect(const SqliteConfig& config,
                                      const std::string& path) {
  auto conn = std::make_unique<Conn>();
  int rc = sqlite3_open_v2(
      path.c_str(), &conn->db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) return FromSqlite(rc, conn->db, "open " + path);
  sqlite3_extended_result_codes(conn->db, 1);
  sqlite3_busy_timeout(conn->db, config.busy_timeout_ms);
  const char* sync =
      config.durability.level == Durability::kSync ? "FULL" : "OFF";
  std::string pragmas =
      "PRAGMA page_size=" + std::to_string(config.page_size) +
      "; PRAGMA journal_mode=WAL; PRAGMA synchronous=" + sync +
      "; PRAGMA cache_size=-" + std::to_string(config.cache_mb * 1024) +
      "; PRAGMA mmap_size=" + std::to_string(config.mmap_mb << 20) + ";";
  KVB_RETURN_IF_ERROR(conn->Exec(pragmas.c_str()));
  // Idempotent; a file that is not a database fails here (or above) with
  // SQLITE_NOTADB.
  KVB_RETURN_IF_ERROR(
      conn->Exec("CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB) "
                 "WITHOUT ROWID"));
  KVB_RETURN_IF_ERROR(conn->Prepare(
      "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)", &conn->put));
  KVB_RETURN_IF_ERROR(
      conn->Prepare("SELECT v FROM kv WHERE k = ?1", &conn->get));
  KVB_RETURN_IF_ERROR(
      conn->Prepare("SELECT 1 FROM kv WHERE k = ?1", &conn->has));
  KVB_RETURN_IF_ERROR(conn->Prepare("DELETE FROM kv WHERE k = ?1", &conn->del));
  KVB_RETURN_IF_ERROR(conn->Prepare(
      "SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k LIMIT ?2", &conn->scan));
  return conn;
}

class SqliteAdapter final : public adapters_internal::BuiltinAdapter {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const SqliteConfig& c,
                                               const std::string& dir) {
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    std::string path = dir + "/" + kFileName;
    // The first connection creates the schema before any other thread can
    // connect, and checks the file right here; it is closed again:
    // per-thread connections are made on first use.
    KVB_RETURN_IF_ERROR(Connect(c, path).status());
    return std::unique_ptr<Adapter>(new SqliteAdapter(c, dir, path));
  }
  ~SqliteAdapter() override { Close().IgnoreError(); }

  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override {
    KVB_ASSIGN_OR_RETURN(Conn * c, conns_.Local());
    StmtReset reset{c->get};
    int rc = BindBlob(c->get, 1, key);
    if (rc == SQLITE_OK) rc = sqlite3_step(c->get);
    if (rc == SQLITE_DONE) return Status::NotFound();
    if (rc != SQLITE_ROW) return FromSqlite(rc, c->db, "get");
    value->assign(ColumnBlob(c->get, 0));  // owned copy, before the reset
    return Status::OK();
  }
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override {
    KVB_ASSIGN_OR_RETURN(Conn * c, conns_.Local());
    StmtReset reset{c->has};
    int rc = BindBlob(c->has, 1, key);
    if (rc == SQLITE_OK) rc = sqlite3_step(c->has);
    *found = rc == SQLITE_ROW;
    return FromSqlite(rc, c->db, "has");
  }
  Status WriteBatch(std::span<const KeyValue> pairs) override;
  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override;
  Status Sync() override;
  // Folds the WAL into the database (a TRUNCATE checkpoint, which leaves
  // the WAL empty), then Sync().
  Status Settle() override;
  std::map<std::string, double> StateFigures() override {
    struct stat st;
    const double wal =
        ::stat((path_ + "-wal").c_str(), &st) == 0 ? st.st_size : 0;
    return {{"wal-bytes", wal}};
  }
  std::map<std::string, double> Stats() override {
    double n = static_cast<double>(conns_.size());
    return {{"connections", n},
            {"cache_mb_total", n * static_cast<double>(cache_mb_)},
            {"periodic_syncs", static_cast<double>(syncer_.syncs())}};
  }

 private:
  SqliteAdapter(const SqliteConfig& c, const std::string& dir, std::string path)
      : BuiltinAdapter("sqlite", kSqliteCaps, dir),
        path_(std::move(path)),
        cache_mb_(c.cache_mb) {
    conns_.Reset([c, p = path_] { return Connect(c, p); });
    syncer_.StartIfPeriodic(c.durability, [this] { return Sync(); });
  }

  const std::string path_;  // <dir>/kv.sqlite
  const uint64_t cache_mb_;
  bool closed_ = false;
  std::mutex write_mu_;
  PerThread<Conn> conns_;
  PeriodicSync syncer_;  // durability=periodic:MS only
};

Status SqliteAdapter::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  syncer_.Stop();
  Status s = Sync();
  // The last connection to close checkpoints the WAL into the database and
  // deletes the WAL; with synchronous=FULL that checkpoint fsyncs the database
  // before the WAL goes.
  conns_.ForEach(
      [](Conn& c) { c.Exec("PRAGMA synchronous=FULL").IgnoreError(); });
  conns_.Clear();
  if (s.ok()) s = FsyncPath(dir_, false);  // the WAL's removal
  return s;
}

Status SqliteAdapter::Put(std::string_view key, std::string_view value) {
  KVB_ASSIGN_OR_RETURN(Conn * c, conns_.Local());
  std::lock_guard writer(write_mu_);
  StmtReset reset{c->put};
  int rc = BindBlob(c->put, 1, key);
  if (rc == SQLITE_OK) rc = BindBlob(c->put, 2, value);
  if (rc == SQLITE_OK) rc = sqlite3_step(c->put);
  return FromSqlite(rc, c->db, "put");
}

Status SqliteAdapter::Delete(std::string_view key) {
  KVB_ASSIGN_OR_RETURN(Conn * c, conns_.Local());
  std::lock_guard writer(write_mu_);
  StmtReset reset{c->del};
  int rc = BindBlob(c->del, 1, key);
  if (rc == SQLITE_OK) rc = sqlite3_step(c->del);
  return FromSqlite(rc, c->db, "delete");
}

Status SqliteAdapter::WriteBatch(std::span<const KeyValue> pairs) {
  KVB_ASSIGN_OR_RETURN(Conn * c, conns_.Local());
  std::lock_guard writer(write_mu_);
  KVB_RETURN_IF_ERROR(c->Exec("BEGIN IMMEDIATE"));
  for (const KeyValue& kv : pairs) {
    StmtReset reset{c->put};
    int rc = BindBlob(c->put, 1, kv.key);
    if (rc == SQLITE_OK) rc = BindBlob(c->put, 2, kv.value);
    if (rc == SQLITE_OK) rc = sqlite3_step(c->put);
    if (rc != SQLITE_DONE) {
      Status s = FromSqlite(rc, c->db, "write batch");
      c->Exec("ROLLBACK").IgnoreError();  // the batch is all or nothing
      return s;
    }
  }
  Status s = c->Exec("COMMIT");
  if (!s.ok()) c->Exec("ROLLBACK").IgnoreError();
  return s;
}

Status SqliteAdapter::Scan(std::string_view start, size_t limit,
                           const ScanCallback& cb) {
  KVB_ASSIGN_OR_RETURN(Conn * c, conns_.Local());
  StmtReset reset{c->scan};
  int rc = BindBlob(c->scan, 1, start);
  sqlite3_int64 n = limit > static_cast<size_t>(LLONG_MAX)
                        ? LLONG_MAX
                        : static_cast<sqlite3_int64>(limit);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(c->scan, 2, n);
  while (rc == SQLITE_OK || rc == SQLITE_ROW) {
    rc = sqlite3_step(c->scan);
    if (rc != SQLITE_ROW) break;
    if (!cb(ColumnBlob(c->scan, 0), ColumnBlob(c->scan, 1)))
      return Status::OK();
  }
  return FromSqlite(rc, c->db, "scan");
}

Status SqliteAdapter::Sync() {
  // Every commit has already written its WAL frames (and any checkpoint its
  // pages) to the OS, and in this process commits and checkpoints happen only
  // under write_mu_. So with the lock held, fsyncing both files captures
  // exactly the committed state, whatever `synchronous` is.
  std::lock_guard writer(write_mu_);
  KVB_RETURN_IF_ERROR(FsyncPath(path_ + "-wal", true));
  KVB_RETURN_IF_ERROR(FsyncPath(path_, false));
  return FsyncPath(dir_, false);
}

Status SqliteAdapter::Settle() {
  {
    KVB_ASSIGN_OR_RETURN(Conn * c, conns_.Local());
    std::lock_guard writer(write_mu_);
    int log_frames = 0, checkpointed = 0;
    int rc = sqlite3_wal_checkpoint_v2(c->db, nullptr,
                                       SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                       &checkpointed);
    if (rc != SQLITE_OK) return FromSqlite(rc, c->db, "settle: wal_checkpoint");
  }
  return Sync();
}

constexpr DurabilityTable kSqliteDurability{{
    {Durability::kMemory, "",
     "every commit write(2)s its WAL frames: nothing weaker than process"},
    {Durability::kProcess,
     "journal_mode=WAL, synchronous=OFF; Sync() fsyncs WAL, database, dir",
     ""},
    {Durability::kPeriodic,
     "journal_mode=WAL, synchronous=OFF plus that Sync() every MS ms from a "
     "background thread",
     ""},
    {Durability::kSync, "journal_mode=WAL, synchronous=FULL", ""},
}};

}  // namespace

namespace adapters_internal {

void AddSqliteAdapter(std::vector<AdapterInfo>* out) {
  Register<SqliteConfig>(
      out,
      {"sqlite",
       "SQLite WITHOUT ROWID table in WAL mode (reference; Debian libsqlite3)",
       kSqliteCaps,
       {
           {"cache_mb", "64", "page cache per connection in MiB"},
           {"mmap_mb", "0", "memory-mapped I/O size in MiB (0 = off)"},
           {"busy_timeout_ms", "5000", "wait for another process's lock"},
           {"page_size", "4096", "page size of a new database"},
       },
       kSqliteDurability},
      &SqliteConfig::Parse, &SqliteAdapter::Open);
}

}  // namespace adapters_internal
}  // namespace kvb
