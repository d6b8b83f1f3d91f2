// A thin RAII layer over the SQLite C API (Debian's libsqlite3): one open
// database handle and prepared statements, every failure a one-line Status
// naming the file. No SQL is built from values: values are bound.
// Thread safety: one Db per thread (SQLite's default serialized mode would
// allow more; nothing here needs it).
#ifndef KVB_HISTORY_SQLITE_H_
#define KVB_HISTORY_SQLITE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kvb::history {

class Stmt;

class Db {
 public:
  // Opens `path` read-write; `create`: the file may be created (callers check
  // beforehand that an existing file is theirs, history/schema.h).
  [[nodiscard]] static Result<std::unique_ptr<Db>> Open(const std::string& path,
                                                        bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results.
  [[nodiscard]] Status Exec(std::string_view sql);
  [[nodiscard]] Result<std::unique_ptr<Stmt>> Prepare(std::string_view sql);
  int64_t LastInsertId() const;
  const std::string& path() const { return path_; }
  // "PATH: <sqlite message>" for the last failure.
  std::string Error(std::string_view what) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  friend class Stmt;
};

// A prepared statement. Bind indexes are 1-based (SQLite's). Step returns
// true while a row is available, false when done.
class Stmt {
 public:
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  void Bind(int i, std::string_view text);
  void Bind(int i, double v);
  void BindInt(int i, int64_t v);
  void BindNull(int i);
  [[nodiscard]] Result<bool> Step();
  // Step until done (statements without rows).
  [[nodiscard]] Status Run();
  void Reset();  // for re-use with new bindings

  std::string Text(int col) const;  // "" for NULL
  double Double(int col) const;
  int64_t Int(int col) const;
  bool IsNull(int col) const;

 private:
  Stmt(Db* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Db* db_;
  sqlite3_stmt* s_;
  friend class Db;
};

}  // namespace kvb::history

#endif  // KVB_HISTORY_SQLITE_H_
