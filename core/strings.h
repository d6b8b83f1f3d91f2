// Splitting lists and parsing numbers from text (command lines, suites, engine
// options, workload parameters), in one place so every caller refuses the same
// bad input with the same one-line message.
//
// Every parser takes the whole text (no leading or trailing spaces, no trailing
// garbage) and a `what` naming the input for the message, e.g. "--ops" or
// "keys". Failures are InvalidArgument whose message() reads, for example:
//   --ops: expected a non-negative integer, got '-5'
//   --threads: 0 is out of range [1, 4096]
//   --target-rate: 1e-300 is out of range [0.001, 1e+10]
// so a caller can print message() as is. Thread safety: plain functions.
#ifndef KVB_CORE_STRINGS_H_
#define KVB_CORE_STRINGS_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace kvb {

// Splits `text` at every `sep`. Empty items are dropped, so "a,,b," gives
// {"a", "b"} and "" gives {}.
[[nodiscard]] std::vector<std::string> SplitList(std::string_view text,
                                                 char sep = ',');

// Splits `text` at its first `sep` into *head and *tail; false (outputs
// untouched) when `sep` does not occur.
[[nodiscard]] bool SplitOnce(std::string_view text, char sep,
                             std::string_view* head, std::string_view* tail);

// A decimal integer in [min, max]. A sign is refused ("-5" is not a count,
// "+5" is not spelled so anywhere), as are values that do not fit 64 bits.
[[nodiscard]] Result<uint64_t> ParseUint(
    std::string_view text, std::string_view what, uint64_t min = 0,
    uint64_t max = std::numeric_limits<uint64_t>::max());

// A finite decimal number (strtod syntax: "0.5", "1e3") in [min, max].
// NaN, infinities, hexadecimal and out-of-range values are refused, so the
// result can be scaled and converted to an integer by a caller who chose
// `max` for that.
[[nodiscard]] Result<double> ParseDouble(
    std::string_view text, std::string_view what, double min = 0,
    double max = std::numeric_limits<double>::max());

// Appends `c` as a URL-style escape: '%' and two upper-case hex digits ("%2F").
// Used where keys become file names.
void AppendPercentEscape(unsigned char c, std::string* out);

}  // namespace kvb

#endif  // KVB_CORE_STRINGS_H_
