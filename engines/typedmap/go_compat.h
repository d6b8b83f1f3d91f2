// kvb::typedmap::go — C++ mirrors of Go structs that read and write the JSON of
// Go's encoding/json, so a typed map opens a go-persist file written by Go and
// go-persist reads back what typedmap writes.
//
// One concept: KVB_GO_STRUCT declares, at namespace scope of the type, which
// members are the JSON fields of a Go struct, each with its Go `json:"..."`
// tag copied verbatim. The declared type then works as a TypedMap<T> value
// (through nlohmann's to_json/from_json, which the macro defines) and as a
// field of other declared structs.
//
//   // type Account struct {
//   //   ID       int64     `json:"id"`
//   //   Email    string    `json:"email,omitempty"`
//   //   Tags     []string  `json:"tags"`
//   //   Avatar   []byte    `json:"avatar,omitempty"`
//   //   Created  time.Time `json:"created"`
//   //   Nickname *string   `json:"nickname"`
//   // }
//   struct Account {
//     int64_t id = 0;
//     std::string email;
//     std::vector<std::string> tags;
//     std::vector<uint8_t> avatar;
//     kvb::typedmap::go::Time created;
//     std::optional<std::string> nickname;
//   };
//   KVB_GO_STRUCT(Account, KVB_GO_FIELD(id, "id"),
//                 KVB_GO_FIELD(email, "email,omitempty"),
//                 KVB_GO_FIELD(tags, "tags"),
//                 KVB_GO_FIELD(avatar, "avatar,omitempty"),
//                 KVB_GO_FIELD(created, "created"),
//                 KVB_GO_FIELD(nickname, "nickname"))
//
// Go type -> C++ member type, and the JSON each side writes and accepts:
//   bool                 bool               true/false
//   int*, uint*          any integral type  an integer literal that fits (1.5,
//                                           1e3, "1" and overflow refused)
//   float32, float64     float, double      any number (NaN/±Inf refused)
//   string               std::string        a string
//   []byte               std::vector<uint8_t>  standard base64 (RFC 4648,
//                                           padded) text
//   []T                  std::vector<T>     an array
//   map[string]T         std::map / std::unordered_map<std::string, T>
//   *T                   std::optional<T>   null <-> nullopt
//   time.Time            go::Time           RFC 3339 with nanoseconds (below)
//   struct               a KVB_GO_STRUCT type  an object
//   anything else        a type nlohmann can convert, converted by nlohmann
//
// Reading (as encoding/json does):
//   - `null` gives the member's default: an empty container or string, 0,
//     false, nullopt, a default struct, the zero go::Time;
//   - an absent field leaves the member's default (so omitempty fields read
//     back as empty); fields the struct does not declare are ignored;
//   - a key matches a field by exact name, else case-insensitively (ASCII
//     letters only; Go also folds a few non-ASCII letters);
//   - any other mismatch (a string where a number is declared, an integer out
//     of the member's range, a non-object for a struct, bad base64 or time
//     text) throws go::DecodeError naming the field path, which ValueCodec
//     turns into InvalidArgument: a schema error, never Corruption.
// Writing:
//   - an empty std::vector (including []byte) or map is written as `null`,
//     which is how Go writes a nil slice or map, the zero value of a Go
//     struct's field; Go reads it back as nil (len 0). When [] versus null
//     matters, declare std::optional<std::vector<T>> (or of a map):
//     nullopt <-> null, an engaged empty container <-> [] or {};
//   - `omitempty` omits false, 0, an empty string/vector/map and nullopt, as
//     Go does; structs and go::Time are never omitted (Go never omits them);
//   - object keys come out sorted (nlohmann's order), not in Go's declaration
//     order, and <, >, & are not escaped as \u003c..: Go reads both the same.
// Tags: "name" or "name,omitempty"; an empty name, "-" or any other option is
// a compile-time error (declare only the fields that are written).
// Not supported: embedded (anonymous) Go structs, whose fields Go promotes into
// the parent object (declare them as members of the mirror instead), map keys
// other than strings, interface{} fields (use nlohmann::json), the ",string"
// option. A map's top-level value that is not a declared struct goes through
// ValueCodec's default (nlohmann), which refuses a top-level `null` for a
// scalar where Go would read 0.
//
// Thread safety: everything here is stateless.
#ifndef KVB_ENGINES_TYPEDMAP_GO_COMPAT_H_
#define KVB_ENGINES_TYPEDMAP_GO_COMPAT_H_

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "engines/typedmap/value_codec.h"

namespace kvb::typedmap::go {

// Go's time.Time as JSON carries it: an instant with nanosecond precision and
// the UTC offset it was written with. The default value is Go's zero time,
// 0001-01-01T00:00:00Z. Years 0000-9999 only (Go refuses to marshal others).
// Two Times are == when both the instant and the offset are equal (Go's ==);
// compare ToSysTime() for the instant alone.
struct Time {
  // 0001-01-01T00:00:00Z in seconds since 1970-01-01T00:00:00Z.
  static constexpr int64_t kZeroUnixSeconds = -62135596800;
  int64_t unix_seconds = kZeroUnixSeconds;  // the instant, in UTC
  uint32_t nanos = 0;                       // [0, 999999999]
  int32_t offset_minutes = 0;  // east of UTC; written "Z" when 0, else ±hh:mm

  // `t` must lie within years 1678-2262 (the range of sys_time<nanoseconds>).
  static Time FromSysTime(std::chrono::sys_time<std::chrono::nanoseconds> t,
                          int32_t offset_minutes = 0);
  std::chrono::sys_time<std::chrono::nanoseconds> ToSysTime() const;
  bool IsZero() const { return unix_seconds == kZeroUnixSeconds && nanos == 0; }
  friend bool operator==(const Time&, const Time&) = default;
};

// Parses RFC 3339 as Go's time.Time.UnmarshalJSON does:
// "YYYY-MM-DDTHH:MM:SS[.fraction]" then "Z" or "±hh:mm"; a fraction of 1-9
// digits. False for anything else (including an invalid calendar date).
bool ParseRfc3339(std::string_view text, Time* t);
// Go's RFC3339Nano: the fraction without trailing zeros (none if zero), "Z" for
// offset 0. False if the year (in local time) is outside 0000-9999.
bool FormatRfc3339(const Time& t, std::string* out);

// What a declared struct's from_json throws for JSON that does not fit it.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace internal {

// One declared field: the member and its parsed Go tag.
template <typename C, typename M>
struct Field {
  M C::*member;
  std::string_view name;
  bool omitempty;
};

// Parses a Go json tag at compile time; a bad tag makes the build fail.
template <typename C, typename M>
consteval Field<C, M> MakeField(M C::*member, std::string_view tag) {
  size_t comma = tag.find(',');
  std::string_view name = tag.substr(0, comma);
  bool omitempty = false;
  if (comma != std::string_view::npos) {
    if (tag.substr(comma + 1) != "omitempty") {
      throw "KVB_GO_FIELD: the only supported tag option is omitempty";
    }
    omitempty = true;
  }
  if (name.empty() || name == "-") {
    throw "KVB_GO_FIELD: the tag needs the JSON name (list only written fields)";
  }
  return Field<C, M>{member, name, omitempty};
}

template <typename T>
concept GoStruct = requires(const T* p) {
  KvbGoFields(p);
};

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsVector : std::false_type {};
template <typename T, typename A>
struct IsVector<std::vector<T, A>> : std::true_type {};
template <typename T>
struct IsStringMap : std::false_type {};
template <typename V, typename C, typename A>
struct IsStringMap<std::map<std::string, V, C, A>> : std::true_type {};
template <typename V, typename H, typename E, typename A>
struct IsStringMap<std::unordered_map<std::string, V, H, E, A>>
    : std::true_type {};

template <typename T>
constexpr bool kIsByteVector = std::is_same_v<T, std::vector<uint8_t>>;
template <typename T>
constexpr bool kIsNumber = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

[[noreturn]] void Fail(std::string_view path, std::string_view what,
                       const nlohmann::json& j);
std::string Join(std::string_view path, std::string_view name);
// The member of object `j` for field `name`: exact, else ASCII
// case-insensitive; null if absent.
const nlohmann::json* FindField(const nlohmann::json& j, std::string_view name);
void EncodeBytes(const std::vector<uint8_t>& v, nlohmann::json* j);
void DecodeBytes(const nlohmann::json& j, std::string_view path,
                 std::vector<uint8_t>* out);
void EncodeTime(const Time& t, nlohmann::json* j);
void DecodeTime(const nlohmann::json& j, std::string_view path, Time* out);

// Go's omitempty test.
template <typename T>
bool IsEmpty(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return !v;
  } else if constexpr (std::is_arithmetic_v<T>) {
    return v == T{};
  } else if constexpr (IsOptional<T>::value) {
    return !v.has_value();
  } else if constexpr (std::is_same_v<T, std::string> || IsVector<T>::value ||
                       IsStringMap<T>::value) {
    return v.empty();
  } else {
    return false;  // structs, Time, other types: Go never omits them
  }
}

template <typename T>
void Encode(const T& v, nlohmann::json* j, bool nil_if_empty = true);
template <typename T>
void Decode(const nlohmann::json& j, std::string_view path, T* out);

template <typename T>
void EncodeStruct(const T& v, nlohmann::json* j) {
  *j = nlohmann::json::object();
  std::apply(
      [&](const auto&... f) {
        auto one = [&](const auto& field) {
          const auto& m = v.*(field.member);
          if (field.omitempty && IsEmpty(m)) return;
          Encode(m, &(*j)[std::string(field.name)]);
        };
        (one(f), ...);
      },
      KvbGoFields(&v));
}

template <typename T>
void DecodeStruct(const nlohmann::json& j, std::string_view path, T* out) {
  if (!j.is_object()) Fail(path, "an object", j);
  *out = T{};
  std::apply(
      [&](const auto&... f) {
        auto one = [&](const auto& field) {
          const nlohmann::json* v = FindField(j, field.name);
          if (v != nullptr)
            Decode(*v, Join(path, field.name), &(out->*(field.member)));
        };
        (one(f), ...);
      },
      KvbGoFields(out));
}

template <typename T>
void DecodeNumber(const nlohmann::json& j, std::string_view path, T* out) {
  if constexpr (std::is_integral_v<T>) {
    if (j.is_number_unsigned()) {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        Fail(path, "an integer in range", j);
      *out = static_cast<T>(u);
    } else if (j.is_number_integer()) {
      int64_t i = j.get<int64_t>();
      if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          (i > 0 && static_cast<uint64_t>(i) >
                        static_cast<uint64_t>(std::numeric_limits<T>::max())))
        Fail(path, "an integer in range", j);
      *out = static_cast<T>(i);
    } else {
      Fail(path, "an integer", j);
    }
  } else {
    if (!j.is_number()) Fail(path, "a number", j);
    double d = j.get<double>();
    if (std::fabs(d) > static_cast<double>(std::numeric_limits<T>::max()))
      Fail(path, "a number in range", j);
    *out = static_cast<T>(d);
  }
}

template <typename T>
void Encode(const T& v, nlohmann::json* j, bool nil_if_empty) {
  if constexpr (GoStruct<T>) {
    EncodeStruct(v, j);
  } else if constexpr (std::is_same_v<T, Time>) {
    EncodeTime(v, j);
  } else if constexpr (IsOptional<T>::value) {
    // Engaged: the container is not nil, even when empty.
    if (v.has_value()) Encode(*v, j, /*nil_if_empty=*/false);
  } else if constexpr (kIsByteVector<T>) {
    if (!(nil_if_empty && v.empty())) EncodeBytes(v, j);
  } else if constexpr (IsVector<T>::value) {
    if (nil_if_empty && v.empty()) return;
    *j = nlohmann::json::array();
    for (const auto& e : v) Encode(e, &j->emplace_back());
  } else if constexpr (IsStringMap<T>::value) {
    if (nil_if_empty && v.empty()) return;
    *j = nlohmann::json::object();
    for (const auto& [k, e] : v) Encode(e, &(*j)[k]);
  } else {
    *j = v;  // scalars and types with their own nlohmann conversion
  }
}

template <typename T>
void Decode(const nlohmann::json& j, std::string_view path, T* out) {
  if (j.is_null()) {
    *out = T{};
  } else if constexpr (GoStruct<T>) {
    DecodeStruct(j, path, out);
  } else if constexpr (std::is_same_v<T, Time>) {
    DecodeTime(j, path, out);
  } else if constexpr (IsOptional<T>::value) {
    Decode(j, path, &out->emplace());
  } else if constexpr (kIsByteVector<T>) {
    DecodeBytes(j, path, out);
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) Fail(path, "an array", j);
    out->clear();
    for (size_t i = 0; i < j.size(); i++)
      Decode(j[i], Join(path, std::to_string(i)), &out->emplace_back());
  } else if constexpr (IsStringMap<T>::value) {
    if (!j.is_object()) Fail(path, "an object", j);
    out->clear();
    for (const auto& [k, e] : j.items()) Decode(e, Join(path, k), &(*out)[k]);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) Fail(path, "a boolean", j);
    *out = j.get<bool>();
  } else if constexpr (kIsNumber<T>) {
    DecodeNumber(j, path, out);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) Fail(path, "a string", j);
    *out = j.get_ref<const std::string&>();
  } else {
    try {
      j.get_to(*out);
    } catch (const nlohmann::json::exception& e) {
      throw DecodeError(std::string(path) + ": " + e.what());
    }
  }
}

}  // namespace internal
}  // namespace kvb::typedmap::go

// Declares the Go JSON fields of `Type` (see the file comment). Use at the
// namespace scope of Type, after its definition, with one KVB_GO_FIELD per
// field.
#define KVB_GO_STRUCT(Type, ...)                                             \
  [[maybe_unused]] inline const auto& KvbGoFields(const Type*) {             \
    using KvbGoSelf = Type;                                                  \
    static constexpr auto kFields = std::make_tuple(__VA_ARGS__);            \
    return kFields;                                                          \
  }                                                                          \
  [[maybe_unused]] inline void to_json(nlohmann::json& j, const Type& v) {   \
    ::kvb::typedmap::go::internal::Encode(v, &j);                            \
  }                                                                          \
  [[maybe_unused]] inline void from_json(const nlohmann::json& j, Type& v) { \
    ::kvb::typedmap::go::internal::Decode(j, "", &v);                        \
  }

// One field of KVB_GO_STRUCT: the C++ member and its Go json tag, verbatim
// ("name" or "name,omitempty").
#define KVB_GO_FIELD(member, tag) \
  ::kvb::typedmap::go::internal::MakeField(&KvbGoSelf::member, tag)

#endif  // KVB_ENGINES_TYPEDMAP_GO_COMPAT_H_
