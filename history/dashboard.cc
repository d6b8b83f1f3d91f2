#include "history/dashboard.h"

#include <algorithm>
#include <set>

#include "core/stats.h"
#include "report/page.h"

namespace kvb::history {
namespace {

using json = nlohmann::json;
using report::HtmlEscape;
using report::PageSpec;
using report::RenderPage;

constexpr const char* kScript = R"JS(
var D=KVB.data;
KVB.table('series-table',[
  {title:'benchmark',key:'name'},{title:'machine class',key:'machine_class'},
  {title:'points',key:'points',numeric:true},{title:'last median',key:'last',numeric:true,format:KVB.fmt},
  {title:'change points',key:'steps',numeric:true}],
  D.series.map(function(s){return {name:s.name,machine_class:s.machine_class,points:s.labels.length,last:s.medians[s.medians.length-1],steps:s.steps.length}}),'series-sortable');
KVB.table('steps-table',[
  {title:'benchmark',key:'name'},{title:'at',key:'at'},{title:'before',key:'before',numeric:true,format:KVB.fmt},
  {title:'after',key:'after',numeric:true,format:KVB.fmt},{title:'change %',key:'change',numeric:true,format:function(v){return (v>0?'+':'')+v.toFixed(1)+' %'}},
  {title:'p',key:'p',numeric:true,format:function(v){return v.toExponential(1)}},{title:'verdict',key:'verdict'}],
  D.steps,'steps-sortable');
D.series.forEach(function(s,i){
  var col=KVB.colour(s.engine),cps={};s.steps.forEach(function(c){cps[c.index]=c});
  KVB.chart('series-'+i,{type:'line',data:{labels:s.labels,datasets:[
    {label:s.name+' (median '+D.metric+')',data:s.medians,borderColor:col,backgroundColor:col,
     pointRadius:s.medians.map(function(_,k){return cps[k]?7:3}),
     pointBackgroundColor:s.medians.map(function(_,k){return cps[k]?'#cc0000':col})},
    {label:'min',data:s.mins,borderColor:col+'55',borderDash:[4,4],pointRadius:0,fill:false},
    {label:'max',data:s.maxs,borderColor:col+'55',borderDash:[4,4],pointRadius:0,fill:'-1',backgroundColor:col+'18'}]},
    options:{plugins:{title:{display:true,text:s.name+' \u2014 '+s.machine_class},
      tooltip:{callbacks:{afterLabel:function(ctx){var c=cps[ctx.dataIndex];return c&&ctx.datasetIndex===0?'change point: '+(c.change_pct>0?'+':'')+c.change_pct.toFixed(1)+' %, p='+c.p.toExponential(1):''}}}},
      scales:{y:{title:{display:true,text:D.metric}}}}});
});
)JS";

json SeriesJson(const SeriesWithSteps& s, size_t i) {
  json labels = json::array(), med = json::array(), mins = json::array(),
       maxs = json::array();
  for (const SeriesPoint& p : s.series->points) {
    labels.push_back(p.label.substr(0, 12));
    med.push_back(Median(p.values));
    mins.push_back(*std::min_element(p.values.begin(), p.values.end()));
    maxs.push_back(*std::max_element(p.values.begin(), p.values.end()));
  }
  json steps = json::array();
  for (const ChangePoint& c : s.steps)
    steps.push_back(json{{"index", c.index},
                         {"change_pct", c.change_pct},
                         {"p", c.p}});
  return json{{"id", i},
              {"name", s.series->name},
              {"machine_class", s.series->machine_class},
              {"params", s.series->param_set},
              {"engine", EngineOfName(s.series->name)},
              {"labels", labels},
              {"medians", med},
              {"mins", mins},
              {"maxs", maxs},
              {"steps", steps}};
}

}  // namespace

std::string EngineOfName(const std::string& name) {
  size_t a = name.find('/');
  if (a == std::string::npos) return "";
  size_t b = name.find('/', a + 1);
  std::string spec = name.substr(a + 1, b == std::string::npos ? b : b - a - 1);
  return spec.substr(0, spec.find(':'));
}

std::string DashboardHtml(const std::vector<SeriesWithSteps>& series,
                          const std::string& db_path,
                          const std::string& metric_name) {
  PageSpec page;
  page.title = "kvbench history: " + db_path;
  json data{{"metric", metric_name}};
  json all = json::array(), steps = json::array();
  std::set<std::string> engines;
  std::string charts;
  for (size_t i = 0; i < series.size(); ++i) {
    all.push_back(SeriesJson(series[i], i));
    engines.insert(EngineOfName(series[i].series->name));
    charts += "<div class=\"chart\" id=\"series-" + std::to_string(i) +
              "\"></div>\n";
    for (const ChangePoint& c : series[i].steps)
      steps.push_back(json{
          {"name", series[i].series->name},
          {"at", series[i].series->points[c.index].label.substr(0, 12)},
          {"before", c.before},
          {"after", c.after},
          {"change", c.change_pct},
          {"p", c.p},
          {"verdict", c.change_pct < 0 ? "regression" : "improvement"}});
  }
  data["series"] = all;
  data["steps"] = steps;
  data["engines"] = json(engines);
  page.data = data;
  page.body =
      "<p class=\"note\">Each chart: one benchmark on one machine class with "
      "one parameter set; the line is the median " +
      HtmlEscape(metric_name) +
      " of each point's repetitions, the band their range; red points are "
      "change points (history/README.md, \"Finding regressions\").</p>\n"
      "<h2 id=\"steps\">Change points</h2><div id=\"steps-table\"></div>\n"
      "<h2 id=\"series\">Series</h2><div id=\"series-table\"></div>\n"
      "<h2 id=\"charts\">Charts</h2>\n" +
      charts;
  page.script = kScript;
  page.required_ids = {"steps-table", "series-table", "series-sortable",
                       "steps-sortable"};
  return RenderPage(page);
}

}  // namespace kvb::history
