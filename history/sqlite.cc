#include "history/sqlite.h"

#include <sqlite3.h>

namespace kvb::history {

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = path + ": " +
                      (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_close(raw);
    return Status::IOError(msg);
  }
  sqlite3_busy_timeout(raw, 5000);  // two `history add` at once: wait, not fail
  return std::unique_ptr<Db>(new Db(raw, path));
}

Db::~Db() { sqlite3_close(db_); }

std::string Db::Error(std::string_view what) const {
  return path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_);
}

Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* msg = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &msg) == SQLITE_OK)
    return Status::OK();
  std::string text = path_ + ": " + (msg ? msg : "error");
  sqlite3_free(msg);
  return Status::IOError(text);
}

Result<std::unique_ptr<Stmt>> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s,
                         nullptr) != SQLITE_OK) {
    return Status::IOError(Error("prepare"));
  }
  return std::unique_ptr<Stmt>(new Stmt(this, s));
}

int64_t Db::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

Stmt::~Stmt() { sqlite3_finalize(s_); }

void Stmt::Bind(int i, std::string_view text) {
  sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
}
void Stmt::Bind(int i, double v) { sqlite3_bind_double(s_, i, v); }
void Stmt::BindInt(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
void Stmt::BindNull(int i) { sqlite3_bind_null(s_, i); }

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Status::IOError(db_->Error("step"));
}

Status Stmt::Run() {
  for (;;) {
    Result<bool> r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::OK();
  }
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(s_, col);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(s_, col)))
           : std::string();
}
double Stmt::Double(int col) const { return sqlite3_column_double(s_, col); }
int64_t Stmt::Int(int col) const { return sqlite3_column_int64(s_, col); }
bool Stmt::IsNull(int col) const {
  return sqlite3_column_type(s_, col) == SQLITE_NULL;
}

}  // namespace kvb::history
