#include "history/schema.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <vector>

namespace kvb::history {
namespace {

namespace fs = std::filesystem;

// Migration i takes the schema from version i to i + 1 (index 0 creates it).
constexpr std::array<std::string_view, kSchemaVersion> kMigrations = {
    // -> 1
    "CREATE TABLE schema_version (kind TEXT NOT NULL, version INTEGER NOT "
    "NULL);"
    "INSERT INTO schema_version VALUES ('kvbench-history', 1);"
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  digest TEXT NOT NULL UNIQUE,"  // XXH3 of the results file's JSON
    "  source TEXT NOT NULL,"         // the path it was added from
    "  run_date TEXT NOT NULL,"       // context.date
    "  git_revision TEXT NOT NULL,"
    "  git_date TEXT NOT NULL,"  // committer date of the revision, or ''
    "  machine_class TEXT NOT NULL,"
    "  host TEXT NOT NULL,"
    "  build_type TEXT NOT NULL,"
    "  compiler TEXT NOT NULL,"
    "  compiler_flags TEXT NOT NULL,"
    "  library_versions TEXT NOT NULL,"  // JSON object
    "  suite TEXT NOT NULL,"
    "  context TEXT NOT NULL,"  // JSON: the whole context block
    "  config TEXT NOT NULL,"   // JSON: the whole config block
    "  added_at TEXT NOT NULL);"
    "CREATE TABLE entries ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  machine TEXT NOT NULL,"  // machine key inside the file ('' = context)
    "  machine_class TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  series_name TEXT NOT NULL,"  // name with the engine's options removed
    "  repetition_index INTEGER NOT NULL,"
    "  engine TEXT NOT NULL, engine_spec TEXT NOT NULL,"
    "  workload TEXT NOT NULL, threads INTEGER NOT NULL,"
    "  param_set TEXT NOT NULL,"  // JSON: the comparability fields
    "  ops_per_s REAL, cpu_ops_per_s REAL, p99_ns REAL,"
    "  bytes_on_disk REAL, instructions_per_op REAL,"
    "  entry TEXT NOT NULL,"  // JSON: the whole benchmark entry
    "  UNIQUE (run_id, machine, name, param_set, repetition_index));"
    "CREATE INDEX entries_series ON entries (machine_class, name, "
    "param_set);",
    // -> 2: results schema 2's per-entry durability {class, settings} and
    // engine_options (series and baselines never mix different ones), and
    // the engine's state after the run.
    "ALTER TABLE entries ADD COLUMN durability_class TEXT NOT NULL DEFAULT "
    "'';"
    "ALTER TABLE entries ADD COLUMN durability_settings TEXT NOT NULL "
    "DEFAULT '';"
    "ALTER TABLE entries ADD COLUMN engine_options TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE entries ADD COLUMN engine_state TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN results_schema INTEGER NOT NULL DEFAULT 1;"
    "UPDATE schema_version SET version = 2;",
};

// "" when the file is (or may become) an SQLite database, else why not.
std::string CheckHeader(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "cannot read the file";
  char head[16] = {};
  f.read(head, sizeof head);
  if (f.gcount() == 0) return "an empty file, not an SQLite database";
  if (f.gcount() < 16 || std::string_view(head, 16) !=
                             std::string_view("SQLite format 3\0", 16))
    return "not an SQLite database";
  return "";
}

// One line: SQLite's integrity reports hold one problem per line.
std::string OneLine(std::string s) {
  for (size_t at = 0; (at = s.find('\n', at)) != std::string::npos;)
    s.replace(at, 1, "; ");
  return s;
}

Status Refuse(const std::string& path, const std::string& why) {
  return Status::InvalidArgument(OneLine(path + ": " + why) +
                                 "; left unchanged (give another --db)");
}

Result<std::vector<std::string>> Tables(Db* db) {
  Result<std::unique_ptr<Stmt>> s = db->Prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  if (!s.ok()) return s.status();
  std::vector<std::string> out;
  for (;;) {
    Result<bool> row = (*s)->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back((*s)->Text(0));
  }
}

Status QuickCheck(Db* db) {
  Result<std::unique_ptr<Stmt>> s = db->Prepare("PRAGMA quick_check");
  if (!s.ok()) return s.status();
  Result<bool> row = (*s)->Step();
  if (!row.ok()) return row.status();
  if (!*row || (*s)->Text(0) == "ok") return Status::OK();
  // The first problem, and how many more (quick_check reports one per row,
  // a row may hold several lines).
  std::string first = (*s)->Text(0);
  size_t more = static_cast<size_t>(std::count(first.begin(), first.end(), '\n'));
  first.resize(std::min(first.find('\n'), first.size()));
  for (;;) {
    Result<bool> next = (*s)->Step();
    if (!next.ok() || !*next) break;
    ++more;
  }
  if (more > 0) first += " (and " + std::to_string(more) + " more problems)";
  return Status::Corruption(first);
}

Status Migrate(Db* db, int from, int to) {
  if (Status s = db->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  for (int v = from; v < to; ++v) {
    Status s = db->Exec(kMigrations[static_cast<size_t>(v)]);
    if (!s.ok()) {
      (void)db->Exec("ROLLBACK");
      return Status::IOError("migration to schema " + std::to_string(v + 1) +
                             " failed: " + std::string(s.message()));
    }
  }
  return db->Exec("COMMIT");
}

// Checks an opened file and brings its schema to `target`.
Status Prepare(Db* db, const std::string& path, int target) {
  if (Status s = QuickCheck(db); !s.ok())
    return Refuse(path, "damaged SQLite database (" +
                            std::string(s.message()) + ")");
  Result<std::vector<std::string>> tables = Tables(db);
  if (!tables.ok()) return Refuse(path, std::string(tables.status().message()));
  bool ours = false;
  std::string list;
  for (const std::string& t : *tables) {
    ours = ours || t == "schema_version";
    list += (list.empty() ? "" : ", ") + t;
  }
  if (!ours && !tables->empty())
    return Refuse(path, "an SQLite database that is not a kvbench history "
                        "(tables: " + list + ")");
  int version = 0;
  if (ours) {
    Result<int> v = SchemaVersionOf(db);
    if (!v.ok()) return Refuse(path, std::string(v.status().message()));
    version = *v;
  }
  if (version > kSchemaVersion)
    return Status::NotSupported(
        path + ": history schema " + std::to_string(version) +
        " is newer than this kvbench's " + std::to_string(kSchemaVersion) +
        "; left unchanged");
  if (version >= target) return Status::OK();
  return Migrate(db, version, target);
}

}  // namespace

Result<int> SchemaVersionOf(Db* db) {
  Result<std::unique_ptr<Stmt>> s =
      db->Prepare("SELECT kind, version FROM schema_version");
  if (!s.ok()) return s.status();
  Result<bool> row = (*s)->Step();
  if (!row.ok()) return row.status();
  if (!*row || (*s)->Text(0) != "kvbench-history")
    return Status::InvalidArgument(
        "schema_version table without a kvbench-history row");
  return static_cast<int>((*s)->Int(1));
}

Result<std::unique_ptr<Db>> OpenHistory(const std::string& path,
                                        const OpenOptions& o) {
  std::error_code ec;
  bool exists = fs::exists(path, ec);
  if (exists && fs::is_directory(path, ec))
    return Refuse(path, "a directory, not a history file");
  if (exists) {
    std::string why = CheckHeader(path);
    if (!why.empty()) return Refuse(path, why);
  } else if (!o.create) {
    return Status::NotFound(path + ": no history yet (kvbench history add "
                                   "RESULTS... creates it)");
  } else if (fs::path parent = fs::path(path).parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
  }
  Result<std::unique_ptr<Db>> db = Db::Open(path, !exists);
  if (!db.ok()) return db.status();
  if (Status s = Prepare(db->get(), path,
                         std::min(o.target_version, kSchemaVersion));
      !s.ok())
    return s;
  return db;
}

}  // namespace kvb::history
