// Reading and writing results files. There is one reader (every consumer
// sees the same checks, results/schema.h) and one writer: a file is written
// whole or not at all, and is durable once the call returns (temp file, fsync,
// rename, fsync of the directory: core/env.h Env::WriteFileAtomically), so a
// crash or a full disk never leaves a torn results.json behind a reader.
// Thread safety: plain functions; two writers of one path race (last wins).
#ifndef KVB_RESULTS_FILE_H_
#define KVB_RESULTS_FILE_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/result.h"
#include "core/status.h"

namespace kvb {

// Reads and validates one results file. NotFound: unreadable;
// InvalidArgument: a directory, not a JSON object, or not a kvbench results
// file; NotSupported: a newer schema. Messages start with `path`.
[[nodiscard]] Result<nlohmann::json> ReadResultsFile(const std::string& path);

// Replaces `path` atomically and durably with `text` (through `env`; tests
// pass a fault-injecting one). IOError (one line, naming the path and the
// failing call) on failure; `path` is then unchanged.
[[nodiscard]] Status WriteTextFile(const std::string& path,
                                   std::string_view text,
                                   Env* env = Env::Default());
// WriteTextFile of j.dump(indent) plus a newline (indent -1: one line).
[[nodiscard]] Status WriteJsonFile(const std::string& path,
                                   const nlohmann::json& j, int indent = 2);

}  // namespace kvb

#endif  // KVB_RESULTS_FILE_H_
