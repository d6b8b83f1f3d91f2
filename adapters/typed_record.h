// kvb::TypedRecord — the struct value the adapter layer stores, its JSON form,
// and the optional interface of adapters that store it natively.
//
// The adapter layer defines this shape itself (a small user record, as in
// go-persist's headline benchmark) and names no workload type: a caller with
// records of its own fills a TypedRecord (the harness's typed-struct workload
// generates them directly in this type, see workloads/user_record.h).
//
// A byte-oriented adapter stores a TypedRecord as the JSON text
// EncodeRecordJson writes, and the harness pays EncodeRecordJson on every
// write and DecodeRecordJson on every read, as an application on top of a byte
// store would. An adapter whose engine keeps typed values (typedmap, the
// go-persist design) implements TypedRecordAccess and returns it from
// Adapter::typed_records(): the harness then hands it TypedRecord objects and
// never encodes or decodes (the engine may still encode for its own log).
//
// JSON shape (compact, keys in byte order, what nlohmann writes):
//   {"active":true,"age":34,"email":"olivia.smith.12@example.com","id":12,
//    "name":"Olivia Smith","score":712.35,"version":3}
// Errors: DecodeRecordJson returns Corruption for text that is not such an
// object (missing field, wrong type, not JSON); no exception escapes.
// Thread safety: the functions are pure; TypedRecordAccess follows its
// adapter's capabilities().thread_safe.
#ifndef KVB_ADAPTERS_TYPED_RECORD_H_
#define KVB_ADAPTERS_TYPED_RECORD_H_

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace kvb {

struct TypedRecord {
  uint64_t id = 0;
  uint32_t version = 0;
  std::string name;
  std::string email;
  int32_t age = 0;
  double score = 0;
  bool active = false;

  friend bool operator==(const TypedRecord&, const TypedRecord&) = default;
};

// nlohmann conversions (found by argument-dependent lookup, so typed engines
// that store any nlohmann-convertible type store TypedRecord).
void to_json(nlohmann::json& j, const TypedRecord& r);
void from_json(const nlohmann::json& j, TypedRecord& r);

// Replaces *out with the compact JSON text of `r`.
Status EncodeRecordJson(const TypedRecord& r, std::string* out);
// Parses `json` into *r (replacing it). Corruption on bad input.
Status DecodeRecordJson(std::string_view json, TypedRecord* r);

// Native struct storage of an adapter. Keys are the adapter's byte keys;
// records live in their own namespace (a key written with PutRecord is not
// visible to Get, and the reverse). Durability and threading as the adapter's
// Put/Get.
class TypedRecordAccess {
 public:
  virtual ~TypedRecordAccess() = default;
  // Inserts or overwrites the record of `key`.
  virtual Status PutRecord(std::string_view key, const TypedRecord& r) = 0;
  // Copies the record of `key` into *r, or returns NotFound.
  virtual Status GetRecord(std::string_view key, TypedRecord* r) = 0;
  // Removes the record of `key`; OK whether or not it existed.
  virtual Status DeleteRecord(std::string_view key) = 0;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_TYPED_RECORD_H_
