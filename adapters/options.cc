#include "adapters/options.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace kvb {
namespace {

Status Expected(std::string_view name, std::string_view what,
                std::string_view text) {
  return Status::InvalidArgument("option " + std::string(name) + ": expected " +
                                 std::string(what) + ", got '" +
                                 std::string(text) + "'");
}

// Parses all of `digits` as a decimal number; false on anything else.
template <typename T>
bool ParseDigits(std::string_view digits, T* v) {
  auto [ptr, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), *v);
  return !digits.empty() && ec == std::errc() &&
         ptr == digits.data() + digits.size();
}

}  // namespace

Result<int64_t> ParseIntOption(std::string_view name, std::string_view text,
                               int64_t min, int64_t max) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t v = 0;
  if (!ParseDigits(digits, &v)) return Expected(name, "an integer", text);
  if (v < min || v > max) {
    return Status::InvalidArgument("option " + std::string(name) + ": " +
                                   std::string(text) + " is out of range [" +
                                   std::to_string(min) + ", " +
                                   std::to_string(max) + "]");
  }
  return v;
}

Result<uint64_t> ParseSizeOption(std::string_view name, std::string_view text) {
  std::string_view digits = text;
  unsigned shift = 0;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
    if (shift != 0) digits.remove_suffix(1);
  }
  uint64_t v = 0;
  if (!ParseDigits(digits, &v))
    return Expected(name, "a size such as 4096, 64k or 1g", text);
  if (shift != 0 && v > (std::numeric_limits<uint64_t>::max() >> shift)) {
    return Status::InvalidArgument("option " + std::string(name) + ": " +
                                   std::string(text) + " is too large");
  }
  return v << shift;
}

Result<bool> ParseBoolOption(std::string_view name, std::string_view text) {
  if (text == "1" || text == "true" || text == "yes" || text == "on")
    return true;
  if (text == "0" || text == "false" || text == "no" || text == "off")
    return false;
  return Expected(name, "a boolean (1/0, true/false, yes/no, on/off)", text);
}

Result<double> ParseDoubleOption(std::string_view name, std::string_view text) {
  // strtod needs a terminated string; from_chars<double> is not in g++ 12's
  // libstdc++ for all targets, so go through std::string.
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || errno == ERANGE ||
      !std::isfinite(v)) {
    return Expected(name, "a number", text);
  }
  return v;
}

Result<int64_t> GetIntOption(const OptionMap& options, std::string_view name,
                             int64_t fallback, int64_t min, int64_t max) {
  auto it = options.find(std::string(name));
  if (it == options.end()) return fallback;
  return ParseIntOption(name, it->second, min, max);
}

Result<uint64_t> GetSizeOption(const OptionMap& options, std::string_view name,
                               uint64_t fallback) {
  auto it = options.find(std::string(name));
  if (it == options.end()) return fallback;
  return ParseSizeOption(name, it->second);
}

Result<bool> GetBoolOption(const OptionMap& options, std::string_view name,
                           bool fallback) {
  auto it = options.find(std::string(name));
  if (it == options.end()) return fallback;
  return ParseBoolOption(name, it->second);
}

Result<double> GetDoubleOption(const OptionMap& options, std::string_view name,
                               double fallback) {
  auto it = options.find(std::string(name));
  if (it == options.end()) return fallback;
  return ParseDoubleOption(name, it->second);
}

std::string GetStringOption(const OptionMap& options, std::string_view name,
                            std::string_view fallback) {
  auto it = options.find(std::string(name));
  return it == options.end() ? std::string(fallback) : it->second;
}

Result<DurabilityClass> GetDurabilityOption(const OptionMap& options,
                                            DurabilityClass fallback) {
  auto it = options.find("durability");
  if (it == options.end()) return fallback;
  return ParseDurabilityClass(it->second);
}

Status ReadOption(const OptionMap& options, std::string_view name, bool* out) {
  KVB_ASSIGN_OR_RETURN(*out, GetBoolOption(options, name, *out));
  return Status::OK();
}

Status ReadOption(const OptionMap& options, std::string_view name,
                  double* out) {
  KVB_ASSIGN_OR_RETURN(*out, GetDoubleOption(options, name, *out));
  return Status::OK();
}

Status ReadOption(const OptionMap& options, std::string_view name,
                  std::string* out) {
  *out = GetStringOption(options, name, *out);
  return Status::OK();
}

Status ReadDurability(const OptionMap& options, DurabilityClass* out) {
  KVB_ASSIGN_OR_RETURN(*out, GetDurabilityOption(options, *out));
  return Status::OK();
}

}  // namespace kvb
