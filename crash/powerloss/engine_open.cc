#include "crash/powerloss/engine_open.h"

#include "adapters/registry.h"
#include "crash/powerloss/toy_store.h"

namespace kvb::powerloss {

Result<std::unique_ptr<Adapter>> OpenEngine(const std::string& spec,
                                            const std::string& dir) {
  std::unique_ptr<Adapter> adapter;
  if (IsToySpec(spec)) {
    Result<ToyMode> mode = ParseToySpec(spec);
    if (!mode.ok()) return mode.status();
    adapter = std::make_unique<ToyAdapter>(*mode);
  } else {
    Result<std::unique_ptr<Adapter>> made = CreateAdapter(spec);
    if (!made.ok()) return made.status();
    adapter = std::move(*made);
  }
  Status s = adapter->Open(dir);
  if (!s.ok()) return s;
  return adapter;
}

Status CheckEngineSpec(const std::string& spec) {
  if (IsToySpec(spec)) return ParseToySpec(spec).status();
  Result<std::unique_ptr<Adapter>> made = CreateAdapter(spec);
  if (!made.ok()) return made.status();
  if (!(*made)->capabilities().persistent) {
    return Status::FailedPrecondition("not persistent: nothing to power-cut");
  }
  return Status::OK();
}

Result<std::string> WithSyncDurability(const std::string& spec) {
  if (IsToySpec(spec)) return spec;
  Result<AdapterSpec> parsed = ParseAdapterSpec(spec);
  if (!parsed.ok()) return parsed.status();
  parsed->options.emplace("durability", "sync");
  return parsed->ToString();
}

}  // namespace kvb::powerloss
