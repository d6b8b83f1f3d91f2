// kvb::crash_ledger — which engine settings `kvbench crash` has checked on
// this build, so a results entry can say whether its durability class is
// verified or only claimed.
//
// Every `kvbench crash` run appends one JSON line per engine it ran to the
// ledger: {build, engine, options, durability, model, trials, failed_trials,
// violations, date}. `build` identifies the executable (a hash of
// /proc/self/exe, which links our engines statically, plus the versions of the
// reference libraries it loads), so a rebuild starts with nothing checked.
// `options` are the resolved adapter options (every default filled in, the
// durability class included): an entry is checked only by crash runs of
// exactly its settings. `kvbench run` looks each entry up and records the sum
// of the matching runs (results/SCHEMA.md, `crash_checked`).
//
// The ledger is KVB_CRASH_LEDGER if set, else $XDG_CACHE_HOME/kvbench/
// crash-ledger.jsonl, else $HOME/.cache/kvbench/crash-ledger.jsonl. Lines that
// do not parse are skipped (and counted), so one torn append loses one record.
// Thread safety: call from one thread.
#ifndef KVB_HARNESS_CRASH_LEDGER_H_
#define KVB_HARNESS_CRASH_LEDGER_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "crash/crash.h"
#include "harness/runner.h"

namespace kvb::crash_ledger {

// The ledger's path ("" when neither variable nor HOME is set).
std::string DefaultPath();
// This executable's build identity (computed once).
const std::string& BuildIdentity();

// Appends one line per engine of `report` that ran trials. Creates the
// ledger's directory.
[[nodiscard]] Status Append(const std::string& path, const CrashReport& report);

struct Ledger {
  std::vector<nlohmann::json> records;  // this build's, in file order
  uint64_t unreadable_lines = 0;
};
// This build's records; an absent file is an empty ledger.
[[nodiscard]] Result<Ledger> Load(const std::string& path);

// What this build's records say of an engine opened with `options`
// (resolved): runs, trials, failed trials and violations summed over the
// matching records; checked false when none match.
RepResult::CrashCheck CheckFor(const Ledger& ledger, const std::string& engine,
                               const std::map<std::string, std::string>& options);

}  // namespace kvb::crash_ledger

#endif  // KVB_HARNESS_CRASH_LEDGER_H_
