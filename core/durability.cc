// Durability classes: names and parsing.
#include "core/durability.h"

#include <charconv>
#include <optional>

#include "core/names.h"

namespace kvb {

constexpr NameTable<Durability, 4> kDurabilityNames{{{
    {Durability::kMemory, "memory"},
    {Durability::kProcess, "process"},
    {Durability::kPeriodic, "periodic"},
    {Durability::kSync, "sync"},
}}};

constexpr uint64_t kMaxPeriodMs = 86'400'000;  // one day

std::string_view DurabilityName(Durability d) {
  return kDurabilityNames.Name(d, "unknown");
}

std::string DurabilityClass::ToString() const {
  std::string out(DurabilityName(level));
  if (level == Durability::kPeriodic) out += ":" + std::to_string(period_ms);
  return out;
}

namespace {

Status BadClass(std::string_view text, std::string_view why) {
  return Status::InvalidArgument(
      "option durability: " + std::string(why) + " (got '" +
      std::string(text) + "'; expected memory, process, periodic:MS or sync)");
}

Result<uint64_t> ParsePeriod(std::string_view text, std::string_view digits) {
  uint64_t ms = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), ms);
  if (digits.empty() || ec != std::errc() ||
      end != digits.data() + digits.size() || ms == 0 || ms > kMaxPeriodMs) {
    return BadClass(text, "periodic needs a period of 1..86400000 ms");
  }
  return ms;
}

}  // namespace

Result<DurabilityClass> ParseDurabilityClass(std::string_view text) {
  if (text == "none" || text == "async") {
    return BadClass(text,
                    "'none' and 'async' were retired: they meant different "
                    "guarantees on different engines");
  }
  std::string_view name = text.substr(0, text.find(':'));
  std::optional<Durability> level = kDurabilityNames.Find(name);
  if (!level) return BadClass(text, "unknown class");
  DurabilityClass c{*level, 0};
  bool has_arg = name.size() < text.size();
  if (*level == Durability::kPeriodic) {
    if (!has_arg) return BadClass(text, "periodic needs a period: periodic:MS");
    KVB_ASSIGN_OR_RETURN(c.period_ms,
                         ParsePeriod(text, text.substr(name.size() + 1)));
  } else if (has_arg) {
    return BadClass(text, "only periodic takes an argument");
  }
  return c;
}

}  // namespace kvb
