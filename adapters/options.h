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
// The common `durability` option (default none).
Result<Durability> GetDurabilityOption(const OptionMap& options,
                                       Durability fallback = Durability::kNone);

}  // namespace kvb

#endif  // KVB_ADAPTERS_OPTIONS_H_
