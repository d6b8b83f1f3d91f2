// typedmap open/replay on an arbitrary log file. The input is the whole log;
// the store has a std::string map "s", a Bytes map "b" and an int map "n"
// (other names stay orphans). Open is tried strictly, then with recover = true.
// Properties: no crash; when Open succeeds, Range visits exactly Size() keys, a
// Set and a Delete work, and the log reopens after Close with the same keys
// plus the new one (what one open accepted, the next must accept too).
#include <cstdint>
#include <map>
#include <string>

#include "core/env.h"
#include "engines/typedmap/typedmap.h"
#include "fuzz/fuzz_util.h"

namespace kvb::typedmap {
namespace {

constexpr const char* kPath = "/db/log";

struct Opened {
  std::unique_ptr<Store> store;
  TypedMap<std::string>* s = nullptr;
  TypedMap<Bytes>* b = nullptr;
  TypedMap<int>* n = nullptr;
};

Status OpenStore(Env* env, bool recover, Opened* out) {
  Options o;
  o.env = env;
  o.background_flush = false;
  o.recover = recover;
  out->store = std::make_unique<Store>(o);
  KVB_ASSIGN_OR_RETURN(out->s, out->store->Map<std::string>("s"));
  KVB_ASSIGN_OR_RETURN(out->b, out->store->Map<Bytes>("b"));
  KVB_ASSIGN_OR_RETURN(out->n, out->store->Map<int>("n"));
  return out->store->Open(kPath);
}

std::map<std::string, std::string> Contents(const Opened& db) {
  std::map<std::string, std::string> out;
  size_t visited = 0;
  db.s->Range([&](std::string_view k, const std::string& v) {
        out["s:" + std::string(k)] = v;
        ++visited;
        return true;
      })
      .IgnoreError();
  db.b->Range([&](std::string_view k, const Bytes& v) {
        out["b:" + std::string(k)] = v.data;
        ++visited;
        return true;
      })
      .IgnoreError();
  db.n->Range([&](std::string_view k, int v) {
        out["n:" + std::string(k)] = std::to_string(v);
        ++visited;
        return true;
      })
      .IgnoreError();
  KVB_FUZZ_CHECK(visited == db.s->Size() + db.b->Size() + db.n->Size());
  return out;
}

}  // namespace
}  // namespace kvb::typedmap

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvb;
  using namespace kvb::typedmap;
  std::unique_ptr<Env> env = NewMemEnv();
  fuzz::MustWriteFile(
      env.get(), kPath,
      std::string_view(reinterpret_cast<const char*>(data), size));
  Opened db;
  Status s = OpenStore(env.get(), false, &db);
  if (!s.ok()) {
    db = Opened();
    s = OpenStore(env.get(), true, &db);
  }
  if (!s.ok()) return 0;
  std::map<std::string, std::string> before = Contents(db);
  s = db.s->Set("fuzz-key", "fuzz-value");
  if (!s.ok()) fuzz::Fail("Set after a successful Open", s);
  before["s:fuzz-key"] = "fuzz-value";
  std::string v;
  db.s->Get("fuzz-key", &v).IgnoreError();
  s = db.store->Close();
  if (!s.ok()) fuzz::Fail("Close after a successful Open", s);
  db = Opened();
  s = OpenStore(env.get(), false, &db);
  if (!s.ok()) fuzz::Fail("reopen of a log this store just wrote", s);
  if (Contents(db) != before) fuzz::Fail("reopen changed the contents");
  db.store->Close().IgnoreError();
  return 0;
}
