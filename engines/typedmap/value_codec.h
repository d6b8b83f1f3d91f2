// kvb::typedmap value codecs — how a typed value becomes one line of JSON text
// and back.
//
// A TypedMap<T> stores native T objects in memory and writes each value to the
// log as compact JSON (never containing a raw LF, so one value is one line).
// The conversion is the trait ValueCodec<T>:
//   - the primary template uses nlohmann::json's to_json/from_json, so every
//     type nlohmann can convert works: numbers, bool, std::vector, std::map,
//     and any struct with NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE / _INTRUSIVE or
//     hand-written to_json/from_json;
//   - std::string has a hand-written fast path (replay of string maps never
//     builds a nlohmann::json tree); the text it accepts and writes is plain
//     JSON, identical in meaning;
//   - Bytes (below) holds arbitrary bytes losslessly: valid UTF-8 is written
//     as a JSON string, anything else as {"b64":"<base64>"}.
// Users may specialise ValueCodec<MyType> for their own types; Encode must
// append JSON text without raw control characters, Decode must accept what
// Encode wrote.
//
// Errors: Encode returns InvalidArgument for a value JSON cannot carry (a
// std::string that is not valid UTF-8, a NaN or ±Inf anywhere in the value,
// a to_json that throws). JSON has no non-finite numbers: nlohmann would write
// `null`, which no longer decodes as the value's type, so a log holding one
// could not be reopened (issue 14, defect 6). Decode returns Corruption for
// text that is not JSON at all (possible damage) and InvalidArgument for JSON
// that does not fit the type (a schema error: the text is intact, the C++ type
// does not match it; the Store never cuts such a record, see
// Options::on_schema_error). No exception escapes a codec.
// Thread safety: codecs are stateless; call them from any thread.
#ifndef KVB_ENGINES_TYPEDMAP_VALUE_CODEC_H_
#define KVB_ENGINES_TYPEDMAP_VALUE_CODEC_H_

#include <cmath>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/status.h"

namespace kvb::typedmap {

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates, at most
// U+10FFFF).
bool IsValidUtf8(std::string_view s);
// Appends `utf8` as a JSON string literal (quotes included). Escapes '"', '\\'
// and every byte below 0x20. REQUIRES: IsValidUtf8(utf8).
void AppendJsonString(std::string_view utf8, std::string* out);
// Decodes one JSON string literal (surrounding blanks allowed) into UTF-8
// bytes, replacing *out. Returns false if `json` is not exactly one well-formed
// JSON string.
bool DecodeJsonString(std::string_view json, std::string* out);
// InvalidArgument naming the first NaN or ±Inf number inside `j` (by its JSON
// pointer, "" for the root), OK if there is none.
Status CheckFinite(const nlohmann::json& j);
// Corruption("value is not JSON: ...") for text that is not one JSON value.
Status NotJson(std::string_view text);
// Standard base64 (RFC 4648, with padding).
void AppendBase64(std::string_view bytes, std::string* out);
bool DecodeBase64(std::string_view text, std::string* out);

// Arbitrary bytes as a value (binary-safe), see the file comment for the JSON
// shapes.
struct Bytes {
  std::string data;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

template <typename T>
struct ValueCodec {
  static Status Encode(const T& value, std::string* out) {
    try {
      nlohmann::json j = value;
      KVB_RETURN_IF_ERROR(CheckFinite(j));
      out->append(j.dump());
      return Status::OK();
    } catch (const std::exception& e) {
      return Status::InvalidArgument(
          std::string("cannot encode value as JSON: ") + e.what());
    }
  }
  static Status Decode(std::string_view json, T* out) {
    try {
      nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(),
                                               nullptr, /*exceptions=*/false);
      if (j.is_discarded()) return NotJson(json);
      // nlohmann converts a JSON number to an arithmetic T with static_cast,
      // which is undefined behaviour for a floating value outside T's range
      // (found by fuzz/typedmap_log_fuzz): refuse those instead.
      if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
        if (j.is_number_float() && !FloatFits(j.get<double>())) {
          return Status::InvalidArgument(
              "value does not fit its type: " + j.dump() + " is out of range");
        }
      }
      j.get_to(*out);
      return Status::OK();
    } catch (const std::exception& e) {
      return Status::InvalidArgument(
          std::string("value does not fit its type: ") + e.what());
    }
  }

 private:
  // Whether static_cast<T>(d) is defined: d (truncated, for an integral T) is
  // within T's range. NaN never fits an integral T.
  static bool FloatFits(double d) {
    if constexpr (std::is_integral_v<T>) {
      // The bounds are powers of two (or zero), so exact as doubles.
      const double lo = static_cast<double>(std::numeric_limits<T>::min());
      const double hi_exclusive =
          2.0 * static_cast<double>(std::numeric_limits<T>::max() / 2 + 1);
      return d > lo - 1.0 && d < hi_exclusive;
    } else {
      return !std::isfinite(d) ||
             std::fabs(d) <= static_cast<double>(std::numeric_limits<T>::max());
    }
  }
};

template <>
struct ValueCodec<std::string> {
  static Status Encode(const std::string& value, std::string* out);
  static Status Decode(std::string_view json, std::string* out);
};

template <>
struct ValueCodec<Bytes> {
  static Status Encode(const Bytes& value, std::string* out);
  static Status Decode(std::string_view json, Bytes* out);
};

}  // namespace kvb::typedmap

#endif  // KVB_ENGINES_TYPEDMAP_VALUE_CODEC_H_
