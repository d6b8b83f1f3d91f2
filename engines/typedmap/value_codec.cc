#include "engines/typedmap/value_codec.h"

#include <cstdint>
#include <cstring>

namespace kvb::typedmap {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseHex4(const char* p, uint32_t* v) {
  uint32_t r = 0;
  for (int i = 0; i < 4; i++) {
    int h = HexValue(p[i]);
    if (h < 0) return false;
    r = (r << 4) | static_cast<uint32_t>(h);
  }
  *v = r;
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// JSON's two-character escapes: the byte, and the letter after the backslash.
// '/' is only ever read escaped, never written so.
constexpr std::pair<char, char> kShortEscapes[] = {
    {'"', '"'},  {'\\', '\\'}, {'/', '/'},  {'\b', 'b'},
    {'\f', 'f'}, {'\n', 'n'},  {'\r', 'r'}, {'\t', 't'},
};

char UnescapeShort(char letter) {
  for (const auto& [raw, l] : kShortEscapes)
    if (l == letter) return raw;
  return 0;
}

char ShortEscapeFor(char raw) {
  if (raw == '/') return 0;
  for (const auto& [r, letter] : kShortEscapes)
    if (r == raw) return letter;
  return 0;
}

// Decodes the escape starting at p[0] == '\\'; advances *p past it. \uXXXX
// pairs of surrogates are joined; a lone surrogate is malformed (as nlohmann
// and RFC 8259 say).
bool DecodeEscape(const char** p, const char* end, std::string* out) {
  const char* s = *p + 1;
  if (s >= end) return false;
  char c = *s++;
  if (c != 'u') {
    const char raw = UnescapeShort(c);
    if (raw == 0) return false;
    out->push_back(raw);
    *p = s;
    return true;
  }
  uint32_t cp;
  if (end - s < 4 || !ParseHex4(s, &cp)) return false;
  s += 4;
  if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    uint32_t lo;
    if (end - s < 6 || s[0] != '\\' || s[1] != 'u' || !ParseHex4(s + 2, &lo) ||
        lo < 0xDC00 || lo > 0xDFFF) {
      return false;
    }
    s += 6;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
  }
  AppendUtf8(cp, out);
  *p = s;
  return true;
}

// Returns the first byte in [p, end) that is '"', '\\' or below 0x20, or end.
// Eight bytes at a time (SWAR): string values are mostly plain text.
const char* SkipPlain(const char* p, const char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ull,
                     kHigh = 0x8080808080808080ull;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    // Bytes < 0x20 (only for bytes < 0x80, hence & ~w), '"' and '\\'.
    uint64_t special = ((w - kOnes * 0x20) & ~w & kHigh) |
                       has_zero(w ^ (kOnes * '"')) |
                       has_zero(w ^ (kOnes * '\\'));
    if (special != 0) break;
    p += 8;
  }
  while (p < end && static_cast<unsigned char>(*p) >= 0x20 && *p != '"' &&
         *p != '\\')
    p++;
  return p;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    // ASCII fast path, eight bytes at a time: most values are plain text.
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      p++;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; i++) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  size_t run = 0;  // start of the current run of bytes copied verbatim
  for (size_t i = 0; i < s.size(); i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    out->push_back('\\');
    if (const char letter = ShortEscapeFor(static_cast<char>(c))) {
      out->push_back(letter);
    } else {
      out->append("u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

bool DecodeJsonString(std::string_view json, std::string* out) {
  json = TrimBlanks(json);
  if (json.size() < 2 || json.front() != '"' || json.back() != '"')
    return false;
  const char* p = json.data() + 1;
  const char* end = json.data() + json.size() - 1;
  out->clear();
  out->reserve(json.size() - 2);
  while (p < end) {
    // Copy the run up to the next byte that needs attention.
    const char* q = SkipPlain(p, end);
    out->append(p, q - p);
    p = q;
    if (p == end) break;
    if (*p != '\\')
      return false;  // raw control character or an unescaped quote
    if (!DecodeEscape(&p, end, out)) return false;
  }
  // Raw bytes were copied unchecked above; JSON text must be UTF-8.
  return IsValidUtf8(*out);
}

void AppendBase64(std::string_view bytes, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  out->reserve(out->size() + (n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out->push_back(kAlphabet[v >> 18]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
    out->push_back(kAlphabet[v & 63]);
  }
  if (i < n) {
    uint32_t v = p[i] << 16;
    if (i + 1 < n) v |= p[i + 1] << 8;
    out->push_back(kAlphabet[v >> 18]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=');
    out->push_back('=');
  }
}

bool DecodeBase64(std::string_view text, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return false;
  out->clear();
  out->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (int j = 0; j < 4; j++) {
      int d = j >= 4 - pad ? 0 : value(text[i + j]);
      if (d < 0) return false;
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out->push_back(static_cast<char>(v >> 16));
    if (pad < 2) out->push_back(static_cast<char>((v >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(v & 0xFF));
  }
  return true;
}

namespace {

// Depth-first search for a NaN/±Inf; `where` collects the JSON pointer.
bool FindNonFinite(const nlohmann::json& j, std::string* where) {
  if (j.is_number_float()) return !std::isfinite(j.get<double>());
  if (!j.is_structured()) return false;
  size_t index = 0;
  for (auto it = j.begin(); it != j.end(); ++it, ++index) {
    const size_t mark = where->size();
    where->append("/").append(j.is_object() ? it.key() : std::to_string(index));
    if (FindNonFinite(*it, where)) return true;
    where->resize(mark);
  }
  return false;
}

}  // namespace

Status CheckFinite(const nlohmann::json& j) {
  std::string where;
  if (!FindNonFinite(j, &where)) return Status::OK();
  return Status::InvalidArgument(
      "cannot encode value as JSON: non-finite number (NaN or Inf) at '" +
      where + "'; JSON has no such numbers");
}

Status ValueCodec<std::string>::Encode(const std::string& value,
                                       std::string* out) {
  if (!IsValidUtf8(value)) {
    return Status::InvalidArgument(
        "string value is not valid UTF-8 (JSON cannot carry it; use "
        "typedmap::Bytes)");
  }
  AppendJsonString(value, out);
  return Status::OK();
}

Status NotJson(std::string_view text) {
  if (text.size() > 40) text = text.substr(0, 40);
  return Status::Corruption("value is not JSON: '" + std::string(text) + "'");
}

namespace {

// The error for `json` that is not the JSON string or bytes a codec expects:
// InvalidArgument (a schema error) if it is other JSON, Corruption if it is
// not JSON at all.
Status NotOfShape(std::string_view json, std::string_view expected) {
  if (!nlohmann::json::accept(json.begin(), json.end())) return NotJson(json);
  return Status::InvalidArgument("value does not fit its type: expected " +
                                 std::string(expected));
}

}  // namespace

Status ValueCodec<std::string>::Decode(std::string_view json,
                                       std::string* out) {
  if (DecodeJsonString(json, out)) return Status::OK();
  return NotOfShape(json, "a JSON string");
}

Status ValueCodec<Bytes>::Encode(const Bytes& value, std::string* out) {
  if (IsValidUtf8(value.data)) {
    AppendJsonString(value.data, out);
  } else {
    out->append("{\"b64\":\"");
    AppendBase64(value.data, out);
    out->append("\"}");
  }
  return Status::OK();
}

Status ValueCodec<Bytes>::Decode(std::string_view json, Bytes* out) {
  json = TrimBlanks(json);
  if (!json.empty() && json.front() == '"') {
    if (DecodeJsonString(json, &out->data)) return Status::OK();
    return NotOfShape(json, "a JSON string");
  }
  // The exact shape Encode writes; other spellings of the same object go
  // through nlohmann.
  constexpr std::string_view kOpen = "{\"b64\":\"", kClose = "\"}";
  if (json.size() >= kOpen.size() + kClose.size() && json.starts_with(kOpen) &&
      json.ends_with(kClose) &&
      DecodeBase64(
          json.substr(kOpen.size(), json.size() - kOpen.size() - kClose.size()),
          &out->data)) {
    return Status::OK();
  }
  try {
    auto j = nlohmann::json::parse(json.begin(), json.end());
    if (j.is_object() && j.size() == 1 && j.contains("b64") &&
        j["b64"].is_string() &&
        DecodeBase64(j["b64"].get_ref<const std::string&>(), &out->data)) {
      return Status::OK();
    }
  } catch (const std::exception&) {
  }
  return NotOfShape(json, "a JSON string or {\"b64\":...}");
}

}  // namespace kvb::typedmap
