#include "report/page.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/hash.h"

namespace kvb::report {
namespace {

using json = nlohmann::json;

struct NamedColour {
  std::string_view engine, colour;
};
constexpr NamedColour kEngineColours[] = {
    {"linhash", "#1f77b4"},   {"typedmap", "#ff7f0e"},
    {"fileperkey", "#2ca02c"}, {"rocksdb", "#d62728"},
    {"lmdb", "#9467bd"},      {"sqlite", "#8c564b"},
    {"leveldb", "#e377c2"},   {"memory", "#7f7f7f"},
    {"null", "#bcbd22"},      {"files-floor", "#17becf"},
};
constexpr std::string_view kPalette[] = {"#393b79", "#637939", "#8c6d31",
                                         "#843c39", "#7b4173", "#3182bd",
                                         "#e6550d", "#31a354"};

constexpr const char* kStyle = R"(<style>
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:72em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}
th{background:#f2f2f2;cursor:pointer;user-select:none}
td:first-child,th:first-child{text-align:left}
th.asc::after{content:" \25B2"}th.desc::after{content:" \25BC"}
.chart{position:relative;height:320px;margin:1em 0}
.note{color:#555;font-size:.9em}.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
.cp{color:#b00;font-weight:bold}
</style>)";

// Installed first: records errors for the self-test.
constexpr const char* kErrorTrap = R"(<script>
window.KVB_ERRORS=[];
window.addEventListener('error',function(e){var t=e.target;KVB_ERRORS.push(t&&t!==window&&(t.src||t.href)?'failed to load '+(t.src||t.href):String(e.message))},true);
(function(){var f=console.error;console.error=function(){KVB_ERRORS.push(Array.prototype.join.call(arguments,' '));f.apply(console,arguments)}})();
</script>)";

constexpr const char* kKit = R"JS(
var KVB={};
KVB.data=JSON.parse(document.getElementById('kvb-data').textContent);
KVB.colour=function(engine){var e=String(engine).split(':')[0];return KVB.data.colours[e]||'#888888'};
KVB.el=function(tag,attrs,text){var n=document.createElement(tag);for(var k in attrs||{})n.setAttribute(k,attrs[k]);if(text!==undefined)n.textContent=text;return n};
// columns: [{title, key, numeric, format}], rows: objects. Click a header to sort.
KVB.table=function(parent,columns,rows,id){
  var t=KVB.el('table',{'class':'sortable',id:id||''}),h=KVB.el('thead'),hr=KVB.el('tr');
  columns.forEach(function(c,i){var th=KVB.el('th',{'data-col':i,'data-numeric':c.numeric?'1':'0'},c.title);th.addEventListener('click',function(){KVB.sort(t,i,c.numeric)});hr.appendChild(th)});
  h.appendChild(hr);t.appendChild(h);var b=KVB.el('tbody');
  rows.forEach(function(r){var tr=KVB.el('tr');columns.forEach(function(c){var v=r[c.key];var td=KVB.el('td',{'data-v':v===null||v===undefined?'':String(v)},c.format?c.format(v,r):(v===null||v===undefined?'':String(v)));tr.appendChild(td)});b.appendChild(tr)});
  t.appendChild(b);(typeof parent==='string'?document.getElementById(parent):parent).appendChild(t);return t};
KVB.sort=function(t,i,numeric){
  var th=t.tHead.rows[0].cells[i],asc=!th.classList.contains('asc');
  Array.prototype.forEach.call(t.tHead.rows[0].cells,function(c){c.classList.remove('asc','desc')});
  th.classList.add(asc?'asc':'desc');
  var rows=Array.prototype.slice.call(t.tBodies[0].rows);
  rows.sort(function(a,b){var x=a.cells[i].getAttribute('data-v'),y=b.cells[i].getAttribute('data-v');
    var r=numeric?(parseFloat(x)||0)-(parseFloat(y)||0):x.localeCompare(y);return asc?r:-r});
  rows.forEach(function(r){t.tBodies[0].appendChild(r)})};
KVB.fmt=function(v){if(v===null||v===undefined||isNaN(v))return '';var a=Math.abs(v);
  if(a>=1e9)return (v/1e9).toFixed(2)+' G';if(a>=1e6)return (v/1e6).toFixed(2)+' M';if(a>=1e4)return (v/1e3).toFixed(1)+' k';return Number(v).toPrecision(4).replace(/\.?0+$/,'')};
KVB.bytes=function(v){if(v===null||v===undefined||v<0)return '';var u=['B','KiB','MiB','GiB'],i=0;while(v>=1024&&i<3){v/=1024;i++}return v.toFixed(i?1:0)+' '+u[i]};
KVB.ns=function(v){if(!v&&v!==0)return '';if(v>=1e6)return (v/1e6).toFixed(2)+' ms';if(v>=1e3)return (v/1e3).toFixed(1)+' \u00b5s';return v.toFixed(0)+' ns'};
KVB.charts=[];
// Draws a Chart.js chart into the .chart div `id` (a canvas is added).
KVB.chart=function(id,config){var d=document.getElementById(id);if(!d)return;
  if(!window.Chart){d.appendChild(KVB.el('p',{'class':'note'},'Charts need Chart.js (Debian: libjs-chart.js), which was not installed when this page was written; the tables hold the same figures.'));d.style.height='auto';return}
  var c=KVB.el('canvas');d.appendChild(c);config.options=Object.assign({animation:false,responsive:true,maintainAspectRatio:false},config.options||{});
  KVB.charts.push(new Chart(c,config))};
// A chart with nothing to draw: a note instead, which the self-test accepts.
KVB.empty=function(id,text){var d=document.getElementById(id);if(!d)return;d.classList.add('empty');d.style.height='auto';d.appendChild(KVB.el('p',{'class':'note'},text))};
KVB.selftest=function(){var fails=[];
  (KVB.data.required||[]).forEach(function(id){if(!document.getElementById(id))fails.push('missing #'+id)});
  var charts=document.querySelectorAll('.chart');
  if(window.Chart)Array.prototype.forEach.call(charts,function(d){if(d.classList.contains('empty'))return;var c=d.querySelector('canvas'),ch=c&&Chart.getChart(c);
    if(!ch){fails.push('chart #'+d.id+' not drawn');return}
    if(!ch.data.datasets.some(function(s){return s.data.some(function(v){return v!==null&&v!==undefined&&!isNaN(v)})}))fails.push('chart #'+d.id+' has no data')});
  var ts=document.querySelectorAll('table.sortable'),t=ts[0];for(var q=0;q<ts.length;q++)if(ts[q].tBodies[0].rows.length>1){t=ts[q];break}
  if(!t)fails.push('no sortable table');else{
    var cells=t.tHead.rows[0].cells,col=-1;for(var i=cells.length-1;i>=0;i--)if(cells[i].getAttribute('data-numeric')==='1'){col=i;break}
    if(col<0)fails.push('no numeric column');else{cells[col].click();
      var v=Array.prototype.map.call(t.tBodies[0].rows,function(r){return parseFloat(r.cells[col].getAttribute('data-v'))||0});
      for(var k=1;k<v.length;k++)if(v[k]<v[k-1]){fails.push('column '+col+' not ascending after a click');break}
      cells[col].click();var w=Array.prototype.map.call(t.tBodies[0].rows,function(r){return parseFloat(r.cells[col].getAttribute('data-v'))||0});
      for(var k2=1;k2<w.length;k2++)if(w[k2]>w[k2-1]){fails.push('column '+col+' not descending after a second click');break}}}
  KVB_ERRORS.forEach(function(e){fails.push('console error: '+e)});
  var out=KVB.el('pre',{id:'kvb-selftest'},(fails.length?'KVB-SELFTEST FAIL: '+fails.join('; '):'KVB-SELFTEST PASS')+' charts='+charts.length+' chartjs='+(window.Chart?'yes':'no'));
  document.body.insertBefore(out,document.body.firstChild)};
)JS";

// JSON inside <script>: "</" must not appear literally.
std::string ScriptSafe(std::string s) {
  for (size_t at = 0; (at = s.find("</", at)) != std::string::npos; at += 3)
    s.replace(at, 2, "<\\/");
  return s;
}

// Code inside <script>: only "</script" would end it early.
std::string NoScriptEnd(std::string s) {
  for (size_t at = 0; (at = s.find("</script", at)) != std::string::npos;
       at += 3)
    s.replace(at, 2, "<\\/");
  return s;
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string EngineColour(std::string_view engine) {
  engine = engine.substr(0, engine.find(':'));
  for (const NamedColour& c : kEngineColours)
    if (c.engine == engine) return std::string(c.colour);
  return std::string(kPalette[Hash64(engine) % std::size(kPalette)]);
}

std::string ChartJsSource() {
  const char* env = std::getenv("KVB_CHARTJS");
  std::string path = env && *env ? env
                                 : "/usr/share/javascript/chart.js/chart.min.js";
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string RenderPage(const PageSpec& spec) {
  json data = spec.data;
  json colours = json::object();
  if (data.contains("engines"))
    for (const json& e : data["engines"]) {
      std::string name = e.get<std::string>();
      name = name.substr(0, name.find(':'));
      colours[name] = EngineColour(name);
    }
  data["colours"] = colours;
  data["required"] = spec.required_ids;
  std::string chartjs = ChartJsSource();
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"generator\" content=\"kvbench\"><title>"
    << HtmlEscape(spec.title) << "</title>" << kStyle << kErrorTrap << "\n";
  if (!chartjs.empty())
    o << "<script>/* Chart.js (MIT), from Debian's libjs-chart.js */\n"
      << NoScriptEnd(chartjs) << "\n</script>\n";
  o << "</head><body>\n<h1>" << HtmlEscape(spec.title) << "</h1>\n"
    << spec.body << "\n<script type=\"application/json\" id=\"kvb-data\">"
    << ScriptSafe(data.dump()) << "</script>\n<script>" << kKit << "\n"
    << spec.script
    << "\nif(location.hash==='#selftest')window.addEventListener('load',"
       "function(){setTimeout(KVB.selftest,0)});\n</script>\n</body></html>\n";
  return o.str();
}

}  // namespace kvb::report
