// The page kit shared by `kvbench report --html` and `kvbench history html`:
// one self-contained HTML file (no network at view time) holding its data as
// embedded JSON, Debian's Chart.js inlined when installed (libjs-chart.js),
// sortable tables, stable engine colours, and a self-test the browser test
// runs (report/README.md, "HTML pages").
// Thread safety: plain functions.
#ifndef KVB_REPORT_PAGE_H_
#define KVB_REPORT_PAGE_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kvb::report {

std::string HtmlEscape(std::string_view s);

// The colour of an engine (the name before ':'), the same on every chart and
// page: a fixed table for the built-in engines and adapters, else a palette
// entry chosen by the name's hash.
std::string EngineColour(std::string_view engine);

// Chart.js from $KVB_CHARTJS, else /usr/share/javascript/chart.js/
// chart.min.js; "" when neither is readable (the page then says charts are
// unavailable and keeps its tables).
std::string ChartJsSource();

struct PageSpec {
  std::string title;
  std::string body;  // HTML: sections, empty <div class="chart" id=...>
  // Embedded as the page's data (window.KVB.data); "colours" is added: every
  // engine in `engines` with its EngineColour.
  nlohmann::json data;
  std::string script;  // the page's own JS, run after the kit's
  // Ids the self-test requires (it also requires every .chart to hold a
  // drawn chart when Chart.js is inlined, and a sortable table to sort).
  std::vector<std::string> required_ids;
};

// The whole file.
std::string RenderPage(const PageSpec& spec);

}  // namespace kvb::report

#endif  // KVB_REPORT_PAGE_H_
