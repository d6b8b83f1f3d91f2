// The history database's schema, its version and its migrations
// (history/README.md, "Schema"). OpenHistory is the only way the rest of
// history/ gets a database handle, so every command makes the same checks:
//   - a file that does not start with SQLite's header (a results file, a
//     text file, an empty file) is refused: "not an SQLite database";
//   - an SQLite file that fails `PRAGMA quick_check` is refused: "damaged";
//   - an SQLite file without kvbench's `schema_version` table that holds any
//     table is refused: "not a kvbench history";
//   - a schema newer than kSchemaVersion is refused (NotSupported);
//   - an older one is migrated in one transaction (all steps or none).
// A refused file is never written. A missing file is created only when
// `create` is true (history add); readers get NotFound.
// Thread safety: plain functions.
#ifndef KVB_HISTORY_SCHEMA_H_
#define KVB_HISTORY_SCHEMA_H_

#include <memory>
#include <string>

#include "core/result.h"
#include "history/sqlite.h"

namespace kvb::history {

// 1: runs and entries. 2: entries gain durability_class,
// durability_settings, engine_options and engine_state, runs the results
// file's schema_version (results schema 2 added per-entry durability and
// engine_options; history/README.md, "Schema").
inline constexpr int kSchemaVersion = 2;
inline constexpr const char* kDefaultDbPath = "kvbench-out/history.sqlite";

struct OpenOptions {
  bool create = false;  // create a missing file (and its parent folders)
  // Testing only: migrate up to this version instead of kSchemaVersion.
  int target_version = kSchemaVersion;
};

[[nodiscard]] Result<std::unique_ptr<Db>> OpenHistory(const std::string& path,
                                                      const OpenOptions& o);
// The version recorded in an open history.
[[nodiscard]] Result<int> SchemaVersionOf(Db* db);

}  // namespace kvb::history

#endif  // KVB_HISTORY_SCHEMA_H_
