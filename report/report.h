// The Markdown report of `kvbench report DIR`: environment, caveats, a "which
// engine for which workload" section derived from the numbers, and per workload
// the engines ranked by median throughput with a 95 % interval, latency
// percentiles, space, memory, reopen time and correctness. Plots are drawn by
// plots/kvb_plots.py (matplotlib) and linked when present. Thread safety: plain
// functions; RunPlots spawns a child process.
#ifndef KVB_REPORT_REPORT_H_
#define KVB_REPORT_REPORT_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "report/model.h"

namespace kvb::report {

struct PlotOutcome {
  bool attempted = false;
  bool ok = false;
  std::string message;  // why plots were skipped, or the script's complaint
  std::vector<std::string>
      files;  // relative to the report directory (plots/xxx.png)
};

// One group of comparable points: same machine, workload, key count and thread
// count.
struct Group {
  std::string machine, workload, title;
  int threads = 1;
  std::vector<const Point*>
      ranked;  // live points by descending median throughput
  std::vector<const Point*> dead;  // skipped or failed to produce figures
};
std::vector<Group> MakeGroups(const Dataset& ds);

// Caveats derived from the contexts and the data (assertion builds, rotational
// disk, loaded machine, too few repetitions, failed verification), one sentence
// each.
std::vector<std::string> Caveats(const Dataset& ds);

// The recommendation lines of one group ("Best throughput: ...").
std::vector<std::string> Recommendations(const Group& g, double alpha = 0.05);

void WriteReport(std::ostream& out, const Dataset& ds,
                 const PlotOutcome& plots);

// Finds the plot script: $KVB_PLOTS_DIR/kvb_plots.py, else the source tree's
// plots/ folder (baked in at compile time). Empty when neither exists.
std::string PlotScriptPath();
// Runs `python3 kvb_plots.py --out OUT_DIR/plots FILES...` ($KVB_PYTHON,
// default /usr/bin/python3). Never fails hard: a missing interpreter or
// matplotlib gives ok = false with a message; the report is written either way.
PlotOutcome RunPlots(const std::vector<std::string>& files,
                     const std::string& out_dir);

}  // namespace kvb::report

#endif  // KVB_REPORT_REPORT_H_
