#include "crash/powerloss/engine_open.h"

#include "adapters/registry.h"
#include "crash/powerloss/toy_store.h"

namespace kvb::powerloss {

Result<std::unique_ptr<Adapter>> OpenEngine(const std::string& spec,
                                            const std::string& dir) {
  if (!IsToySpec(spec)) return OpenAdapter(spec, dir);
  Result<ToyMode> mode = ParseToySpec(spec);
  if (!mode.ok()) return mode.status();
  auto toy = std::make_unique<ToyAdapter>(*mode);
  Status s = toy->Open(dir);
  if (!s.ok()) return s;
  return std::unique_ptr<Adapter>(std::move(toy));
}

Status CheckEngineSpec(const std::string& spec) {
  if (IsToySpec(spec)) return ParseToySpec(spec).status();
  Result<Capabilities> caps = CapabilitiesOf(spec);
  if (!caps.ok()) return caps.status();
  if (!caps->persistent) {
    return Status::FailedPrecondition("not persistent: nothing to power-cut");
  }
  return Status::OK();
}

Result<std::string> WithSyncDurability(const std::string& spec) {
  if (IsToySpec(spec)) return spec;
  Result<AdapterSpec> parsed = ParseAdapterSpec(spec);
  if (!parsed.ok()) return parsed.status();
  // A baseline that keeps nothing refuses sync; CheckEngineSpec says why.
  const AdapterInfo* info = FindAdapter(parsed->name);
  if (info != nullptr && info->capabilities.persistent)
    parsed->options.emplace("durability", "sync");
  return parsed->ToString();
}

}  // namespace kvb::powerloss
