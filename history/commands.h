// `kvbench history ...`: the results history (history/README.md). The CLI
// (harness/cli.cc) passes the arguments after `history` unchanged; writes
// results to `out`, one-line errors ("kvbench history: error: ...") to `err`,
// never throws, and returns the exit code: 0 ok, 2 bad input or a refused
// database file.
//   history add [--db PATH] [--machine-class NAME] RESULTS...
//   history runs [--db PATH]
//   history show BENCH [--db PATH] [SERIES FLAGS]
//   history regressions [--db PATH] [SERIES FLAGS] [--threshold P]
//                       [--alpha A] [--min-points K] [--noise-factor F]
//   history html FILE [--db PATH] [SERIES FLAGS] [step flags as above]
// SERIES FLAGS: --metric wall|cpu, --group commit|run,
//               --ignore-engine-options.
// PATH defaults to kvbench-out/history.sqlite. RESULTS are results files or
// folders (every results file in a folder).
#ifndef KVB_HISTORY_COMMANDS_H_
#define KVB_HISTORY_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "report/commands.h"

namespace kvb::history {

int RunHistoryCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err);

// report::RunCompareCommand with --against-history N served by the history
// at --db (default kDefaultDbPath): BaseFromHistory (history/store.h).
int RunCompareCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err);
// The report::HistoryBaselineFn of RunCompareCommand.
[[nodiscard]] Result<report::HistoryBaseline> BaselineForCompare(
    const std::string& db, size_t n, const nlohmann::json& next,
    bool ignore_engine_options);

}  // namespace kvb::history

#endif  // KVB_HISTORY_COMMANDS_H_
