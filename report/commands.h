// Entry points of the report-side subcommands, for the kvbench CLI to call
// (harness/cli.cc). Each takes the arguments after the subcommand name, writes
// results to `out` and one-line errors ("kvbench <cmd>: error: ...") to `err`,
// never throws, and returns the process exit code:
//   report DIR|FILE... [--no-plots] [--html FILE]
//                                              0 ok, 2 bad input; --html also
//                                              writes the self-contained page
//                                              (report/html.h)
//   compare BASE NEW [--gate] [--threshold P] [--alpha A] [--json FILE]
//           [--allow-incomparable] [--ignore-engine-options] [--metric both|wall|cpu]
//           [--paired] [--markdown FILE|-] [--junit FILE]
//   compare --against-history N [--db PATH] NEW [same flags]
//                                              BASE = what the caller's
//                                              HistoryBaselineFn returns (the
//                                              kvbench CLI: history/commands.h,
//                                              the last N matching runs of the
//                                              history); the runs used are
//                                              printed first.
//                                              --markdown/--junit: the verdicts for
//                                              CI (report/gate_output.h); "-" sends
//                                              the Markdown to stdout instead of
//                                              the table. Exit codes as without.
//                                              without --gate: 0, or 2 on bad input;
//                                              with --gate: the kExit* codes of
//                                              report/compare.h
//   merge [--slim] OUT IN1 IN2 ...             0 ok, 2 bad input; --slim keeps only
//                                              what compare needs (a committed
//                                              baseline of a few tens of KB)
//   ab BIN_A BIN_B [--rounds N] --out DIR [--gate] [--threshold P] [--alpha A]
//      -- RUN FLAGS                            like compare; 2 when a run cannot
//                                              be started
// BASE, NEW and report inputs may be results files or directories holding them.
// All results files of a directory are pooled (shards, or repeated runs of one
// configuration): report the A.json and B.json of an `ab` folder one at a time,
// not the folder.
#ifndef KVB_REPORT_COMMANDS_H_
#define KVB_REPORT_COMMANDS_H_

#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"

namespace kvb::report {

int RunReportCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);
// The baseline of compare --against-history N, from a results history that
// report/ does not know (history/ depends on report/, not the reverse).
struct HistoryBaseline {
  nlohmann::json results;         // a results document of the baseline entries
  std::string description;        // "the last 5 matching runs of PATH"
  std::vector<std::string> runs;  // the runs used, one line each, newest first
};
// `db`: the --db value, "" when not given; `next`: NEW's results document;
// the last: --ignore-engine-options was given.
using HistoryBaselineFn = std::function<Result<HistoryBaseline>(
    const std::string& db, size_t n, const nlohmann::json& next,
    bool ignore_engine_options)>;

// Without a HistoryBaselineFn, --against-history is refused (exit 2).
int RunCompareCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err);
int RunCompareCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err, const HistoryBaselineFn& history);
int RunMergeCommand(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err);
int RunAbCommand(const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err);

// Joins results files into one keyed by machine: context.machines {key:
// context}, every benchmark entry tagged with "machine", repetition_index
// renumbered per machine and name (so repeated runs pool as repetitions), input
// aggregates dropped (they would be stale). With slim, entries keep only the
// fields compare and report read (no phases, series, params, engine stats;
// latency percentiles p50/p99/p99.9 and counts).
Result<nlohmann::json> MergeResults(const std::vector<nlohmann::json>& inputs,
                                    bool slim = false);

}  // namespace kvb::report

#endif  // KVB_REPORT_COMMANDS_H_
