#include "core/strings.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kvb {
namespace {

std::string Quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Status Expected(std::string_view what, const char* kind,
                std::string_view text) {
  return Status::InvalidArgument(std::string(what) + ": expected " + kind +
                                 ", got " + Quoted(text));
}

Status OutOfRange(std::string_view what, std::string_view text,
                  const std::string& lo, const std::string& hi) {
  return Status::InvalidArgument(std::string(what) + ": " + std::string(text) +
                                 " is out of range [" + lo + ", " + hi + "]");
}

}  // namespace

std::vector<std::string> SplitList(std::string_view text, char sep) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t at = text.find(sep);
    std::string_view item = text.substr(0, at);
    if (!item.empty()) out.emplace_back(item);
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return out;
}

bool SplitOnce(std::string_view text, char sep, std::string_view* head,
               std::string_view* tail) {
  size_t at = text.find(sep);
  if (at == std::string_view::npos) return false;
  *head = text.substr(0, at);
  *tail = text.substr(at + 1);
  return true;
}

Result<uint64_t> ParseUint(std::string_view text, std::string_view what,
                           uint64_t min, uint64_t max) {
  const char* kind = min > 0 ? "a positive integer" : "a non-negative integer";
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) {
    return OutOfRange(what, text, std::to_string(min), std::to_string(max));
  }
  // from_chars takes no sign, spaces or base prefix: anything left is garbage.
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Expected(what, kind, text);
  }
  if (v < min || v > max) {
    return OutOfRange(what, text, std::to_string(min), std::to_string(max));
  }
  return v;
}

Result<double> ParseDouble(std::string_view text, std::string_view what,
                           double min, double max) {
  const char* kind = min >= 0 ? "a non-negative number" : "a number";
  // strtod skips leading spaces and reads "0x1p3", "inf" and "nan": refuse
  // those spellings before asking it.
  bool plain = !text.empty() &&
               text.find_first_not_of("0123456789.eE+-") == std::string::npos;
  if (!plain) return Expected(what, kind, text);
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return Expected(what, kind, text);
  if (min >= 0 && copy[0] == '-' && v != 0) return Expected(what, kind, text);
  // ERANGE: overflow to HUGE_VAL or underflow towards 0; both are out of any
  // range a caller can name, except an underflow when 0 is allowed, which we
  // refuse too: "1e-400" is not what the user meant by 0.
  if (errno == ERANGE || !std::isfinite(v) || v < min || v > max) {
    return OutOfRange(what, text, FormatNumber(min), FormatNumber(max));
  }
  return v;
}

void AppendPercentEscape(unsigned char c, std::string* out) {
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  out->push_back('%');
  out->push_back(kHexDigits[c >> 4]);
  out->push_back(kHexDigits[c & 0xf]);
}

}  // namespace kvb
