// The history dashboard of `kvbench history html FILE`: per series (one
// benchmark, machine class and parameter set) a chart of the point medians
// across commits (or runs) with the repetitions' range, change points marked
// in red, and sortable tables of series and change points
// (history/README.md, "HTML pages"). Thread safety: plain functions.
#ifndef KVB_HISTORY_DASHBOARD_H_
#define KVB_HISTORY_DASHBOARD_H_

#include <string>
#include <vector>

#include "history/changepoints.h"
#include "history/store.h"

namespace kvb::history {

struct SeriesWithSteps {
  const Series* series;
  std::vector<ChangePoint> steps;
};

std::string DashboardHtml(const std::vector<SeriesWithSteps>& series,
                          const std::string& db_path,
                          const std::string& metric_name);

// The engine of a benchmark name "<workload>/<engine spec>/...".
std::string EngineOfName(const std::string& name);

}  // namespace kvb::history

#endif  // KVB_HISTORY_DASHBOARD_H_
