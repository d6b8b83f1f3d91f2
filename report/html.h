// The HTML report of `kvbench report --html FILE`: one self-contained file
// (report/page.h's page kit: Chart.js inlined from Debian's libjs-chart.js
// when installed) with the recommendation section, the environment and
// caveats, one sortable table of every point, and charts: throughput by
// engine and workload, latency percentiles up to p99.99, bytes on disk,
// thread scaling and throughput over time, each engine in its one colour
// (EngineColour) on every chart and page. The same numbers as
// report.md (report/report.h): groups, caveats and recommendations are the
// Markdown report's. Thread safety: pure functions.
#ifndef KVB_REPORT_HTML_H_
#define KVB_REPORT_HTML_H_

#include <string>

#include "report/model.h"

namespace kvb::report {

std::string ReportHtml(const Dataset& ds);

}  // namespace kvb::report

#endif  // KVB_REPORT_HTML_H_
