// `kvbench inspect linhash DIR`: an offline check of a database, read-only and
// lock-free.
#include <ostream>

#include "engines/linhash/db_impl.h"

namespace kvb::linhash {

Status Inspect(const std::string& dir, bool dump_keys, std::ostream& out,
               Env* env) {
  Options o;
  o.env = env;
  o.read_only = true;
  o.create_if_missing = false;
  o.checkpoint_interval_ms = 0;
  out << "linhash database " << dir << "\n";
  auto db = DB::Open(dir, o);
  if (!db.ok()) {
    out << "  open failed: " << db.status().ToString() << "\n";
    out << "  verdict: " << db.status().ToString() << "\n";
    return db.status();
  }
  for (const std::string& note : (*db)->impl_->recovery_notes()) {
    out << "  " << note << "\n";
  }
  const Stats s = (*db)->GetStats();
  const Metrics m = (*db)->GetMetrics();
  out << "  keys: " << s.keys << "\n"
      << "  index: level " << s.level << ", split " << s.split << ", "
      << s.primary_buckets << " primary + " << s.overflow_buckets
      << " overflow buckets (" << s.free_overflow_buckets << " free), "
      << s.index_bytes << " bytes\n"
      << "  log: " << s.segments << " segments, " << s.log_bytes << " bytes, "
      << s.dead_bytes << " dead\n"
      << "  open: replayed " << m.replayed_records
      << " records after the checkpoint"
      << (m.full_rebuilds > 0
              ? " (checkpoint unusable: index rebuilt from the log)"
              : "")
      << "\n";
  Status result;
  Env* e = env != nullptr ? env : Env::Default();
  if (m.full_rebuilds > 0 && e->FileExists(JoinPath(dir, kIndexName))) {
    result = Status::Corruption("linhash: the checkpoint failed its checks");
  }
  Status v = (*db)->impl_->VerifyAll(out, dump_keys);
  if (result.ok()) result = v;
  out << "  verdict: " << (result.ok() ? "OK" : result.ToString()) << "\n";
  (*db)->Close().IgnoreError();
  return result;
}

}  // namespace kvb::linhash
