// The gate's verdicts in the forms CI systems read (report/README.md, "CI
// outputs"): Markdown for a pull-request comment or a job summary
// ($GITHUB_STEP_SUMMARY), and JUnit XML, one test case per judged benchmark,
// so a regression lists as a failed test. Neither changes the exit code.
// Thread safety: pure functions.
#ifndef KVB_REPORT_GATE_OUTPUT_H_
#define KVB_REPORT_GATE_OUTPUT_H_

#include <string>
#include <vector>

#include "report/compare.h"

namespace kvb::report {

// What BASE was, for the header ("results/baselines/ci-gate.json", or the
// runs of the history that --against-history used, one line each).
struct BaselineNote {
  std::string base;
  std::vector<std::string> runs;
};

std::string ComparisonMarkdown(const Comparison& c, const BaselineNote& b);
// JUnit XML: testsuite "kvbench-gate"; per row a testcase (classname: the
// workload, name: the benchmark) failing on a regression or a correctness
// failure, skipped with too few repetitions; missing benchmarks fail; not
// comparable ones are errors; a context that blocks the gate is one error
// case.
std::string ComparisonJUnit(const Comparison& c, const BaselineNote& b);

}  // namespace kvb::report

#endif  // KVB_REPORT_GATE_OUTPUT_H_
