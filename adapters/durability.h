// kvb::DurabilityTable — how one adapter provides each durability class
// (core/durability.h), or why it refuses it.
//
// Each adapter states, as a table (in its AdapterInfo), the exact engine
// settings it uses for each class, or why it refuses the class; the registry
// refuses a refused class with InvalidArgument before anything is opened, and
// the harness records the class and the settings on every result.
// `kvbench list --durability` prints every table.
#ifndef KVB_ADAPTERS_DURABILITY_H_
#define KVB_ADAPTERS_DURABILITY_H_

#include <array>
#include <string_view>

#include "core/durability.h"
#include "core/status.h"

namespace kvb {
// One row of an adapter's table: how it provides `level`. Exactly one of
// `settings` (the engine settings used, one line) and `refused` (why not) is
// non-empty. In `settings`, "MS" stands for the class's period.
struct DurabilityWay {
  Durability level;
  std::string_view settings;
  std::string_view refused;
};
// Rows in the order memory, process, periodic, sync.
using DurabilityTable = std::array<DurabilityWay, 4>;

// The row of `level` in `table`.
const DurabilityWay& WayOf(const DurabilityTable& table, Durability level);
// OK, or InvalidArgument "adapter 'NAME' refuses durability=CLASS: WHY".
Status CheckProvides(const DurabilityTable& table, std::string_view adapter,
                     const DurabilityClass& c);

}  // namespace kvb

#endif  // KVB_ADAPTERS_DURABILITY_H_
