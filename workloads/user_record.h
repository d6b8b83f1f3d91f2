// UserRecord — the small user struct of the typed-struct workload (go-persist's
// headline benchmark stores a struct per key), and RecordCodec, which derives
// every record from (seed, key id, version) so any read can be checked field by
// field, like the self-verifying byte values of value_codec.h.
//
// The record is plain data: this library knows nothing of how an engine stores
// it. RecordCodec fills and checks any struct with UserRecord's fields (id,
// version, name, email, age, score, active; operator==), so the harness runs
// it on the record type the adapter layer stores (kvb::TypedRecord,
// adapters/typed_record.h) without a copy, and this library needs no adapter
// header.
//
// Derivation: `id` is the key id; `version` the write's version (1 at load);
// `name` and `email` depend on (seed, id) only (a user keeps their name);
// `age`, `score` and `active` on (seed, id, version), so every write changes
// them. `score` is a multiple of 1/100 below 10^5 and survives a JSON round
// trip exactly. A read is classified as
//   ok          every field equals the record of (id, its version);
//   wrong_key   a record whose id is another key's;
//   corrupt     any other field differs (a torn, stale-mixed or damaged
//               record), or the version is 0.
// The version tracker then judges the version (stale, unknown), as for bytes.
// Thread safety: RecordCodec is immutable; call it from any thread.
#ifndef KVB_WORKLOADS_USER_RECORD_H_
#define KVB_WORKLOADS_USER_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "workloads/value_codec.h"

namespace kvb {

struct UserRecord {
  uint64_t id = 0;
  uint32_t version = 0;
  std::string name;
  std::string email;
  int32_t age = 0;
  double score = 0;
  bool active = false;

  friend bool operator==(const UserRecord&, const UserRecord&) = default;
};

class RecordCodec {
 public:
  explicit RecordCodec(uint64_t seed) : seed_(seed) {}

  // Fills *out with the record of (id, version); reuses its strings' capacity.
  // `Record` is UserRecord or any struct with the same fields.
  template <typename Record>
  void Make(uint64_t id, uint32_t version, Record* out) const {
    const Derived d = Derive(id, version);
    out->id = id;
    out->version = version;
    SpellName(d, &out->name);
    SpellEmail(id, d, &out->email);
    out->age = d.age;
    out->score = d.score;
    out->active = d.active;
  }
  // Checks `r` as a read of key `id` (see the file comment). On kOk sets
  // *version. `scratch` is working space (reuse it to avoid allocation).
  template <typename Record>
  VerifyResult Verify(uint64_t id, const Record& r, uint32_t* version,
                      Record* scratch) const {
    if (r.id != id) return VerifyResult::kWrongKey;
    if (r.version == 0) return VerifyResult::kCorrupt;
    Make(id, r.version, scratch);
    if (!(r == *scratch)) return VerifyResult::kCorrupt;
    *version = r.version;
    return VerifyResult::kOk;
  }

 private:
  // Every field of (id, version) but the key-derived strings' bytes.
  struct Derived {
    std::string_view first, last;
    int32_t age;
    double score;
    bool active;
  };
  Derived Derive(uint64_t id, uint32_t version) const;
  static void SpellName(const Derived& d, std::string* out);
  static void SpellEmail(uint64_t id, const Derived& d, std::string* out);

  uint64_t seed_;
};

}  // namespace kvb

#endif  // KVB_WORKLOADS_USER_RECORD_H_
