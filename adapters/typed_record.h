// Struct values for the typed-struct workload: UserRecord's JSON form and the
// optional interface of adapters that store it natively.
//
// A byte-oriented adapter stores a UserRecord as the JSON text EncodeRecordJson
// writes, and the harness pays EncodeRecordJson on every write and
// DecodeRecordJson on every read, as an application on top of a byte store
// would. An adapter whose engine keeps typed values (typedmap, the go-persist
// design) implements TypedRecordAccess and returns it from
// Adapter::typed_records(): the harness then hands it UserRecord objects and
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

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "workloads/user_record.h"

namespace kvb {

// nlohmann conversions (found by argument-dependent lookup, so typed engines
// that store any nlohmann-convertible type store UserRecord).
void to_json(nlohmann::json& j, const UserRecord& r);
void from_json(const nlohmann::json& j, UserRecord& r);

// Replaces *out with the compact JSON text of `r`.
Status EncodeRecordJson(const UserRecord& r, std::string* out);
// Parses `json` into *r (replacing it). Corruption on bad input.
Status DecodeRecordJson(std::string_view json, UserRecord* r);

// Native struct storage of an adapter. Keys are the adapter's byte keys;
// records live in their own namespace (a key written with PutRecord is not
// visible to Get, and the reverse). Durability and threading as the adapter's
// Put/Get.
class TypedRecordAccess {
 public:
  virtual ~TypedRecordAccess() = default;
  // Inserts or overwrites the record of `key`.
  virtual Status PutRecord(std::string_view key, const UserRecord& r) = 0;
  // Copies the record of `key` into *r, or returns NotFound.
  virtual Status GetRecord(std::string_view key, UserRecord* r) = 0;
  // Removes the record of `key`; OK whether or not it existed.
  virtual Status DeleteRecord(std::string_view key) = 0;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_TYPED_RECORD_H_
