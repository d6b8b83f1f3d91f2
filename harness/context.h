// The `context` block of a results file: everything about the machine, build
// and invocation that a reader needs to judge or reproduce the numbers
// (results/SCHEMA.md lists the fields). Thread safety: call from one thread.
#ifndef KVB_HARNESS_CONTEXT_H_
#define KVB_HARNESS_CONTEXT_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "results/schema.h"  // kResultsSchemaVersion, stamped by CaptureContext

namespace kvb {

struct ContextInputs {
  std::string data_dir;
  std::vector<std::string> argv;
  std::string cache_state = "warm";
  uint64_t seed = 0;
};

// Machine, build, library versions, git revision, load average now
// ("load_avg_start").
nlohmann::json CaptureContext(const ContextInputs& in);
// Versions of every reference library this build links ("rocksdb": "7.8.3",
// ...).
std::map<std::string, std::string> LibraryVersions();
// Every reference library this build links, as loaded in this process:
// [{name, version, path, assertions, sync_points}], where `path` is the shared
// object the loader chose, `assertions` whether it imports __assert_fail and
// `sync_points` whether it defines RocksDB's SyncPoint class
// (harness/loaded_library.h). If detection fails: path, assertions and
// sync_points null and an `error` text.
nlohmann::json LinkedLibraries();
// Records the load average at the end of the run ("load_avg_end").
void FinishContext(nlohmann::json* context);

}  // namespace kvb

#endif  // KVB_HARNESS_CONTEXT_H_
