// Option-value parsing shared by every adapter (ours and the reference
// databases').
//
// Each adapter's factory receives an OptionMap already checked against its
// OptionSpec list and filled with defaults (registry.cc), so a lookup of a
// declared option always finds a value. These helpers turn the string into a
// typed value or a one-line InvalidArgument such as
//   "option cache_mb: expected an integer, got 'x'".
// Thread safety: pure functions.
#ifndef KVB_ADAPTERS_OPTIONS_H_
#define KVB_ADAPTERS_OPTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "adapters/adapter.h"
#include "adapters/registry.h"
#include "core/result.h"

namespace kvb {

// Raw parsers: `name` is only used in the error message.
// Integers: optional sign, decimal digits only, in [min, max].
Result<int64_t> ParseIntOption(std::string_view name, std::string_view text,
                               int64_t min = INT64_MIN,
                               int64_t max = INT64_MAX);
// Sizes: a non-negative integer with an optional binary suffix k, m, g (KiB,
// MiB, GiB), for example "64k" = 65536. Result in bytes.
Result<uint64_t> ParseSizeOption(std::string_view name, std::string_view text);
// Booleans: 1/0, true/false, yes/no, on/off (case-sensitive lower case).
Result<bool> ParseBoolOption(std::string_view name, std::string_view text);
// Finite decimal numbers ("0.5", "1e-3").
Result<double> ParseDoubleOption(std::string_view name, std::string_view text);

// Map lookups: the value of `name` in `options`, or `fallback` when absent (the
// registry fills defaults, so the fallback matters only to adapters built
// directly, e.g. in tests).
Result<int64_t> GetIntOption(const OptionMap& options, std::string_view name,
                             int64_t fallback, int64_t min = INT64_MIN,
                             int64_t max = INT64_MAX);
Result<uint64_t> GetSizeOption(const OptionMap& options, std::string_view name,
                               uint64_t fallback);
Result<bool> GetBoolOption(const OptionMap& options, std::string_view name,
                           bool fallback);
Result<double> GetDoubleOption(const OptionMap& options, std::string_view name,
                               double fallback);
std::string GetStringOption(const OptionMap& options, std::string_view name,
                            std::string_view fallback);
// The common `durability` option (adapters/durability.h; default process).
Result<DurabilityClass> GetDurabilityOption(const OptionMap& options,
                                            DurabilityClass fallback = {});

// Typed reads into a config field, for an adapter's Parse function: each
// stores the value of `name` in *out, leaves *out alone when the option is
// absent (its initializer is then the default), and returns the parser's
// one-line InvalidArgument otherwise.
Status ReadOption(const OptionMap& options, std::string_view name, bool* out);
Status ReadOption(const OptionMap& options, std::string_view name, double* out);
Status ReadOption(const OptionMap& options, std::string_view name,
                  std::string* out);
// `durability` (the name is fixed).
Status ReadDurability(const OptionMap& options, DurabilityClass* out);
// Integers of any width, checked against [min, max] (which must fit T).
template <typename T>
requires std::is_integral_v<T> Status ReadOption(const OptionMap& options,
                                                 std::string_view name, T* out,
                                                 int64_t min, int64_t max) {
  auto it = options.find(std::string(name));
  if (it == options.end()) return Status::OK();
  KVB_ASSIGN_OR_RETURN(int64_t v, ParseIntOption(name, it->second, min, max));
  *out = static_cast<T>(v);
  return Status::OK();
}

}  // namespace kvb

#endif  // KVB_ADAPTERS_OPTIONS_H_
