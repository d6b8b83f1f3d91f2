// Lookups into an adapter's durability table.
#include "adapters/durability.h"

#include <string>

namespace kvb {

const DurabilityWay& WayOf(const DurabilityTable& table, Durability level) {
  for (const DurabilityWay& way : table) {
    if (way.level == level) return way;
  }
  return table[static_cast<size_t>(level)];  // tables list every level
}

Status CheckProvides(const DurabilityTable& table, std::string_view adapter,
                     const DurabilityClass& c) {
  const DurabilityWay& way = WayOf(table, c.level);
  if (way.refused.empty()) return Status::OK();
  return Status::InvalidArgument("adapter '" + std::string(adapter) +
                                 "' refuses durability=" + c.ToString() +
                                 ": " + std::string(way.refused));
}

}  // namespace kvb
