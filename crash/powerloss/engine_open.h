// kvb::powerloss::OpenEngine — the one place the power-loss tool makes and
// opens an adapter (so a change of the registry's API touches only this file).
#ifndef KVB_CRASH_POWERLOSS_ENGINE_OPEN_H_
#define KVB_CRASH_POWERLOSS_ENGINE_OPEN_H_

#include <memory>
#include <string>

#include "adapters/adapter.h"
#include "core/result.h"

namespace kvb::powerloss {

// Makes the adapter of `spec` (a registry spec, or "toy:mode=..." for the
// toy stores of toy_store.h) and opens it on `dir`. Errors: the registry's
// (unknown name/option, not built) or the Open's.
Result<std::unique_ptr<Adapter>> OpenEngine(const std::string& spec,
                                            const std::string& dir);

// Checks `spec` without opening anything: the registry's errors
// (InvalidArgument, NotSupported when not built), or FailedPrecondition for an
// adapter that keeps nothing on disk (capabilities().persistent == false).
Status CheckEngineSpec(const std::string& spec);

// `spec` with durability=sync added unless it sets durability itself (toy
// specs are returned unchanged). InvalidArgument on a malformed spec.
Result<std::string> WithSyncDurability(const std::string& spec);

}  // namespace kvb::powerloss

#endif  // KVB_CRASH_POWERLOSS_ENGINE_OPEN_H_
