// outputs_test: the forms of the report and the gate that other programs
// read: `report --html` (one self-contained page holding every point), and
// `compare --markdown` / `--junit` of a gate run with one regression (exit
// code unchanged).
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "core/testing/test_util.h"
#include "report/commands.h"
#include "report/compare.h"
#include "report/fixtures.h"
#include "report/html.h"
#include "report/model.h"
#include "report/page.h"

namespace kvb::report {
namespace {

using json = nlohmann::json;
using testing::FixturePoint;
using testing::MakeResults;
using testing::WriteJson;

FixturePoint Pt(const std::string& engine, std::vector<double> ops,
                const std::string& workload = "read-heavy") {
  FixturePoint p;
  p.engine = engine;
  p.workload = workload;
  p.ops_per_s = std::move(ops);
  return p;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The page's embedded data (window.KVB.data).
json PageData(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"kvb-data\">";
  size_t a = html.find(open);
  REQUIRE(a != std::string::npos);
  a += open.size();
  size_t b = html.find("</script>", a);
  REQUIRE(b != std::string::npos);
  std::string text = html.substr(a, b - a);
  for (size_t at = 0; (at = text.find("<\\/", at)) != std::string::npos;)
    text.replace(at, 3, "</");
  return json::parse(text);
}

// Nothing a browser would fetch: no external script, style, image or font.
void CheckSelfContained(const std::string& html) {
  for (const char* fetch : {"src=\"http", "src='http", "href=\"http", "<link",
                            "@import", "url(http", "<script src", "<img",
                            "<iframe"})
    CHECK(html.find(fetch) == std::string::npos);
}

TEST_CASE("report --html writes one self-contained page with every point",
          "[html]") {
  kvb::testing::TempDir dir("kvb-report-html");
  REQUIRE(WriteJson(dir.Sub("results.json"),
                    MakeResults({Pt("lmdb", {100, 101, 99}),
                                 Pt("linhash", {300, 310, 290}),
                                 Pt("lmdb", {50, 51, 49}, "write-heavy"),
                                 Pt("linhash", {80, 82, 78}, "write-heavy")})));
  std::ostringstream out, err;
  const std::string page = dir.Sub("report.html");
  REQUIRE(RunReportCommand({dir.path(), "--no-plots", "--html", page}, out,
                           err) == 0);
  INFO(err.str());
  CHECK(out.str().find("html: " + page) != std::string::npos);
  std::string html = ReadAll(page);
  REQUIRE(!html.empty());
  CheckSelfContained(html);
  for (const char* id :
       {"id=\"recommendations\"", "id=\"results-table\"", "id=\"environment\"",
        "id=\"caveats\"", "id=\"chart-throughput\"", "id=\"chart-bytes\""})
    CHECK(html.find(id) != std::string::npos);
  json data = PageData(html);
  REQUIRE(data["points"].size() == 4);
  std::set<std::pair<std::string, std::string>> rows;
  for (const json& p : data["points"])
    rows.insert({p["engine_spec"].get<std::string>(),
                 p["group"].get<std::string>().substr(0, 10)});
  CHECK(rows.count({"lmdb", "read-heavy"}) == 1);
  CHECK(rows.count({"linhash", "write-heav"}) == 1);
  // Colours: one per engine, the same on every page.
  CHECK(data["colours"]["lmdb"] == EngineColour("lmdb"));
  CHECK(data["colours"]["linhash"] == EngineColour("linhash:x=1"));
  CHECK(EngineColour("lmdb") != EngineColour("linhash"));
  // With Chart.js installed it is inlined, never referenced.
  if (!ChartJsSource().empty())
    CHECK(html.find("Chart.js (MIT), from Debian") != std::string::npos);
}

TEST_CASE("report --html: a missing file name is a one-line error", "[html]") {
  std::ostringstream out, err;
  CHECK(RunReportCommand({"x", "--html"}, out, err) == 2);
  const std::string e = err.str();
  CHECK(std::count(e.begin(), e.end(), '\n') == 1);
}

TEST_CASE("page kit: script-breaking text in the data is escaped", "[html]") {
  PageSpec spec{.title = "t <&>",
                .body = "",
                .data = json{{"name", "</script><b>"}},
                .script = "",
                .required_ids = {}};
  std::string html = RenderPage(spec);
  CHECK(html.find("<title>t &lt;&amp;&gt;</title>") != std::string::npos);
  CHECK(html.find("</script><b>") == std::string::npos);
  CHECK(PageData(html)["name"] == "</script><b>");
}

TEST_CASE("compare --markdown and --junit list the one regression",
          "[gate][ci]") {
  kvb::testing::TempDir dir("kvb-report-ci");
  const std::vector<double> base = {100, 102, 98, 101, 99};
  REQUIRE(WriteJson(dir.Sub("base.json"),
                    MakeResults({Pt("lmdb", base), Pt("linhash", base)})));
  REQUIRE(WriteJson(
      dir.Sub("new.json"),
      MakeResults({Pt("lmdb", {70, 71, 69, 72, 68}),  // -30 %
                   Pt("linhash", {101, 99, 100, 103, 97})})));
  std::ostringstream out, err;
  int rc = RunCompareCommand(
      {dir.Sub("base.json"), dir.Sub("new.json"), "--gate", "--threshold",
       "10", "--markdown", dir.Sub("gate.md"), "--junit", dir.Sub("gate.xml")},
      out, err);
  INFO(out.str() + err.str());
  CHECK(rc == kExitRegression);  // unchanged by the extra outputs
  std::string md = ReadAll(dir.Sub("gate.md"));
  CHECK(md.find("### kvbench gate: FAIL: regression (exit 1)") !=
        std::string::npos);
  CHECK(md.find("| benchmark | base | new |") != std::string::npos);
  size_t reg = md.find("**REGRESSION**");
  REQUIRE(reg != std::string::npos);
  CHECK(md.find("**REGRESSION**", reg + 1) == std::string::npos);
  CHECK(md.rfind("lmdb", reg) != std::string::npos);

  std::string xml = ReadAll(dir.Sub("gate.xml"));
  CHECK(xml.rfind("<?xml", 0) == 0);
  CHECK(xml.find("<testsuite name=\"kvbench-gate\"") != std::string::npos);
  CHECK(xml.find("tests=\"2\"") != std::string::npos);
  CHECK(xml.find("failures=\"1\"") != std::string::npos);
  size_t fail = xml.find("<failure");
  REQUIRE(fail != std::string::npos);
  CHECK(xml.find("<failure", fail + 1) == std::string::npos);
  size_t lmdb_case = xml.rfind("<testcase", fail);
  REQUIRE(lmdb_case != std::string::npos);
  CHECK(xml.substr(lmdb_case, fail - lmdb_case).find("lmdb") !=
        std::string::npos);

  // --markdown - puts the Markdown on stdout instead of the table.
  std::ostringstream md_out, md_err;
  CHECK(RunCompareCommand({dir.Sub("base.json"), dir.Sub("new.json"), "--gate",
                           "--threshold", "10", "--markdown", "-"},
                          md_out, md_err) == kExitRegression);
  CHECK(md_out.str().rfind("### kvbench gate:", 0) == 0);
}

TEST_CASE("compare --against-history without a history source is refused",
          "[gate][ci]") {
  std::ostringstream out, err;
  CHECK(RunCompareCommand({"--against-history", "3", "new.json"}, out, err) ==
        2);
  CHECK(err.str().find("needs a results history") != std::string::npos);
}

}  // namespace
}  // namespace kvb::report
