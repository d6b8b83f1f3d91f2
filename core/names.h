// kvb::NameTable — the names of an enum's values, written as data.
//
// Many enums here have a printed name (status codes, distributions, durability
// words, verdicts). A switch per enum repeats the same shape; a table states
// the mapping once and gives both directions:
//
//   constexpr NameTable<Durability, 3> kDurabilityNames{{{
//       {Durability::kMemory, "memory"},
//       {Durability::kProcess, "process"},
//       {Durability::kSync, "sync"},
//   }}};
//   kDurabilityNames.Name(Durability::kSync)   -> "sync"
//   kDurabilityNames.Find("process")           -> Durability::kProcess
//   kDurabilityNames.List()                    -> "memory, process, sync"
//
// Contract: each value and each name appears once (checked by the users'
// tests, not at compile time); Name() of a value not in the table returns
// `unknown`; Find() of a name not in the table returns std::nullopt.
#ifndef KVB_CORE_NAMES_H_
#define KVB_CORE_NAMES_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kvb {

template <typename Enum, size_t N>
struct NameTable {
  std::array<std::pair<Enum, std::string_view>, N> entries;

  constexpr std::string_view Name(Enum value,
                                  std::string_view unknown = "?") const {
    for (const auto& [v, name] : entries) {
      if (v == value) return name;
    }
    return unknown;
  }

  constexpr std::optional<Enum> Find(std::string_view name) const {
    for (const auto& [v, n] : entries) {
      if (n == name) return v;
    }
    return std::nullopt;
  }

  // "a, b, c": every name in table order, for error messages and help.
  std::string List(std::string_view separator = ", ") const {
    std::string out;
    for (const auto& entry : entries) {
      if (!out.empty()) out += separator;
      out += entry.second;
    }
    return out;
  }
};

}  // namespace kvb

#endif  // KVB_CORE_NAMES_H_
