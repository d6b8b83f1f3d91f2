#include "report/html.h"

#include <algorithm>
#include <set>

#include "core/stats.h"
#include "report/page.h"
#include "report/report.h"

namespace kvb::report {
namespace {

using json = nlohmann::json;


constexpr const char* kScript = R"JS(
var D=KVB.data,opt=function(title,ylab,log){return {plugins:{title:{display:true,text:title}},
  scales:{y:{type:log?'logarithmic':'linear',title:{display:true,text:ylab}}}}};
KVB.table('results-table',[
  {title:'workload',key:'group'},{title:'engine',key:'engine_spec'},
  {title:'median ops/s',key:'ops',numeric:true,format:KVB.fmt},
  {title:'reps',key:'reps',numeric:true},{title:'op',key:'op'},
  {title:'p50',key:'p50',numeric:true,format:KVB.ns},{title:'p99',key:'p99',numeric:true,format:KVB.ns},
  {title:'p99.9',key:'p999',numeric:true,format:KVB.ns},{title:'p99.99',key:'p9999',numeric:true,format:KVB.ns},
  {title:'bytes on disk',key:'bytes',numeric:true,format:KVB.bytes},{title:'space amp',key:'amp',numeric:true,format:function(v){return v?v.toFixed(2):''}},
  {title:'peak RSS',key:'rss',numeric:true,format:KVB.bytes},{title:'status',key:'status'}],D.points,'results-sortable');
function bars(id,title,ylab,key,log){var groups=D.groups,ds=D.engines.map(function(e){
  return {label:e,backgroundColor:KVB.colour(e),data:groups.map(function(g){var p=D.points.find(function(p){return p.group===g&&p.engine_spec===e});return p&&p[key]>0?p[key]:null})}});
  if(!ds.some(function(d){return d.data.some(function(v){return v!==null})}))return KVB.empty(id,title+': no engine here has a figure above zero.');
  KVB.chart(id,{type:'bar',data:{labels:groups,datasets:ds},options:opt(title,ylab,log)})}
bars('chart-throughput','Throughput by engine and workload (median of the repetitions)','ops/s','ops',false);
bars('chart-bytes','Bytes on disk after the final close','bytes','bytes',true);
D.groups.forEach(function(g,i){var ds=D.points.filter(function(p){return p.group===g&&p.p50>0}).map(function(p){
  return {label:p.engine_spec,borderColor:KVB.colour(p.engine),backgroundColor:KVB.colour(p.engine),data:[p.p50,p.p99,p.p999,p.p9999]}});
  KVB.chart('chart-latency-'+i,{type:'line',data:{labels:['p50','p99','p99.9','p99.99'],datasets:ds},options:opt('Latency percentiles: '+g+' ('+(D.points.find(function(p){return p.group===g})||{}).op+')','ns (log)',true)})});
D.scaling.forEach(function(s,i){KVB.chart('chart-scaling-'+i,{type:'line',data:{labels:s.threads,datasets:s.engines.map(function(e){
  return {label:e.engine_spec,borderColor:KVB.colour(e.engine),backgroundColor:KVB.colour(e.engine),data:e.ops}})},options:opt('Thread scaling: '+s.title,'ops/s',false)})});
if(D.series.length){var n=Math.max.apply(null,D.series.map(function(s){return s.ops.length})),labels=[];for(var k=1;k<=n;k++)labels.push(k+' s');
  KVB.chart('chart-time',{type:'line',data:{labels:labels,datasets:D.series.map(function(s){return {label:s.name,borderColor:KVB.colour(s.engine),backgroundColor:KVB.colour(s.engine),data:s.ops,pointRadius:1}})},options:opt('Throughput over time (the median repetition, per second)','ops/s',false)})}
)JS";

double MedianOr(const std::vector<double>& v) {
  return v.empty() ? 0 : Median(v);
}

std::string PointStatus(const Point& p) {
  if (p.skipped) return "skipped: " + p.skip_reason;
  if (p.failed())
    return std::to_string(p.mismatches) + " mismatches, " +
           std::to_string(p.missing) + " missing, " +
           std::to_string(p.errors) + " errors";
  if (!p.verified) return "ok (unverified)";
  return p.persistent ? "ok" : "ok (not persistent)";
}

json PointJson(const Point& p, const std::string& group) {
  std::string op = p.MainOp();
  json j{{"group", group},
         {"name", p.name},
         {"engine", p.engine},
         {"engine_spec", p.engine_spec},
         {"threads", p.threads},
         {"ops", MedianOr(p.ops_per_s)},
         {"reps", p.ops_per_s.size()},
         {"op", op},
         {"bytes", MedianOr(p.bytes_on_disk)},
         {"amp", MedianOr(p.space_amp)},
         {"rss", MedianOr(p.peak_rss)},
         {"status", PointStatus(p)}};
  auto it = p.latency.find(op);
  if (it != p.latency.end()) {
    j["p50"] = MedianOr(it->second.p50);
    j["p99"] = MedianOr(it->second.p99);
    j["p999"] = MedianOr(it->second.p999);
    j["p9999"] = MedianOr(it->second.p9999);
  }
  return j;
}

// Workload + keys on one machine, over thread counts, when there are several.
json Scaling(const Dataset& ds) {
  std::map<std::string, std::map<std::string, std::map<int, double>>> by;
  std::map<std::string, std::string> engine_of;
  for (const Point& p : ds.points) {
    if (p.ops_per_s.empty()) continue;
    auto keys = p.params.find("keys");
    std::string title = p.machine + " " + p.workload + " keys:" +
                        (keys == p.params.end() ? "?" : keys->second);
    by[title][p.engine_spec][p.threads] = Median(p.ops_per_s);
    engine_of[p.engine_spec] = p.engine;
  }
  json out = json::array();
  for (const auto& [title, engines] : by) {
    std::set<int> threads;
    for (const auto& [e, t] : engines)
      for (const auto& [n, v] : t) threads.insert(n);
    if (threads.size() < 2) continue;
    json es = json::array();
    for (const auto& [e, t] : engines) {
      json ops = json::array();
      for (int n : threads) ops.push_back(t.count(n) ? json(t.at(n)) : json());
      es.push_back(json{{"engine", engine_of[e]}, {"engine_spec", e}, {"ops", ops}});
    }
    out.push_back(json{{"title", title}, {"threads", json(threads)}, {"engines", es}});
  }
  return out;
}

std::string EnvironmentHtml(const Dataset& ds) {
  static const char* kFields[] = {
      "host_name", "date",     "cpu_model",  "num_cpus",        "memory_bytes",
      "kernel",    "file_system", "device",  "rotational",      "compiler",
      "build_type", "compiler_flags", "library_versions", "git_revision",
      "cache_state", "timer",  "load_avg_start", "load_avg_end"};
  std::string h;
  for (const Machine& m : ds.machines) {
    h += "<h3>" + HtmlEscape(m.key) + "</h3><table class=\"env\">";
    for (const char* f : kFields) {
      if (!m.context.contains(f) || m.context[f].is_null()) continue;
      const json& v = m.context[f];
      h += "<tr><th>" + std::string(f) + "</th><td style=\"text-align:left\">" +
           HtmlEscape(v.is_string() ? v.get<std::string>() : v.dump()) +
           "</td></tr>";
    }
    h += "</table>\n";
  }
  return h;
}

// The Markdown report's **bold** as <strong>, the rest escaped.
std::string InlineHtml(const std::string& s) {
  std::string h = HtmlEscape(s);
  bool open = false;
  for (size_t at = 0; (at = h.find("**", at)) != std::string::npos;) {
    h.replace(at, 2, open ? "</strong>" : "<strong>");
    open = !open;
  }
  return open ? h + "</strong>" : h;
}

std::string ListHtml(const std::vector<std::string>& items, const char* none) {
  if (items.empty()) return std::string("<p>") + none + "</p>";
  std::string h = "<ul>";
  for (const std::string& s : items) h += "<li>" + InlineHtml(s) + "</li>";
  return h + "</ul>";
}

std::string RecommendationsHtml(const std::vector<Group>& groups) {
  std::string h;
  for (const Group& g : groups) {
    h += "<h3>" + HtmlEscape(g.title) + "</h3>" +
         ListHtml(Recommendations(g), "No recommendation (nothing to rank).");
  }
  return h;
}

}  // namespace

std::string ReportHtml(const Dataset& ds) {
  std::vector<Group> groups = MakeGroups(ds);
  json points = json::array(), group_titles = json::array(),
       series = json::array();
  std::set<std::string> engines;
  std::string latency_divs;
  for (size_t i = 0; i < groups.size(); ++i) {
    const Group& g = groups[i];
    group_titles.push_back(g.title);
    latency_divs += "<div class=\"chart\" id=\"chart-latency-" +
                    std::to_string(i) + "\"></div>\n";
    for (const auto* list : {&g.ranked, &g.dead})
      for (const Point* p : *list) {
        points.push_back(PointJson(*p, g.title));
        engines.insert(p->engine_spec);
        if (p->series.size() >= 2)
          series.push_back(json{{"name", g.title + " " + p->engine_spec},
                                {"engine", p->engine},
                                {"ops", p->series}});
      }
  }
  json scaling = Scaling(ds);
  std::string scaling_divs;
  for (size_t i = 0; i < scaling.size(); ++i)
    scaling_divs += "<div class=\"chart\" id=\"chart-scaling-" +
                    std::to_string(i) + "\"></div>\n";
  std::vector<std::string> caveats = Caveats(ds);
  caveats.insert(caveats.end(), ds.notes.begin(), ds.notes.end());
  PageSpec page;
  page.title = "kvbench report";
  page.data = json{{"points", points},
                   {"groups", group_titles},
                   {"engines", json(engines)},
                   {"scaling", scaling},
                   {"series", series}};
  std::string files;
  for (const std::string& f : ds.files) files += (files.empty() ? "" : ", ") + f;
  page.body =
      "<p class=\"note\">From " + HtmlEscape(files) +
      ". Medians over repetitions; the Markdown report (report.md) has the "
      "confidence intervals and tests behind each recommendation.</p>\n"
      "<h2 id=\"recommendations\">Which engine for which workload</h2>\n" +
      RecommendationsHtml(groups) +
      "<h2 id=\"results\">Results</h2><p class=\"note\">Click a column "
      "header to sort.</p><div id=\"results-table\"></div>\n"
      "<h2 id=\"charts\">Charts</h2>\n"
      "<div class=\"chart\" id=\"chart-throughput\"></div>\n" + latency_divs +
      "<div class=\"chart\" id=\"chart-bytes\"></div>\n" +
      (scaling_divs.empty()
           ? "<p class=\"note\" id=\"no-scaling\">Thread scaling: every "
             "workload ran at one thread count.</p>\n"
           : scaling_divs) +
      (series.empty() ? "<p class=\"note\" id=\"no-time\">Throughput over "
                        "time: every measured phase lasted under two "
                        "seconds.</p>\n"
                      : "<div class=\"chart\" id=\"chart-time\"></div>\n") +
      "<h2 id=\"environment\">Environment</h2>\n" + EnvironmentHtml(ds) +
      "<h2 id=\"caveats\">Caveats</h2>\n" + ListHtml(caveats, "None.") + "\n";
  page.script = kScript;
  page.required_ids = {"recommendations", "results-sortable", "environment",
                       "caveats", "chart-throughput", "chart-bytes"};
  return RenderPage(page);
}

}  // namespace kvb::report
