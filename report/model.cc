#include "report/model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "report/stats.h"
#include "results/file.h"

namespace kvb::report {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

double Num(const json& j, const char* key, double dflt = 0) {
  if (!j.is_object() || !j.contains(key)) return dflt;
  const json& v = j[key];
  return v.is_number() ? v.get<double>() : dflt;
}

std::string Str(const json& j, const char* key, const std::string& dflt = "") {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return dflt;
  return j[key].get<std::string>();
}

uint64_t Uint(const json& j, const char* key) {
  double v = Num(j, key, 0);
  return v > 0 ? static_cast<uint64_t>(v) : 0;
}

void AddLatency(const json& lat, Point* p) {
  if (!lat.is_object()) return;
  for (auto it = lat.begin(); it != lat.end(); ++it) {
    LatencyReps& l = p->latency[it.key()];
    l.p50.push_back(Num(it.value(), "p50_ns"));
    l.p99.push_back(Num(it.value(), "p99_ns"));
    l.p999.push_back(Num(it.value(), "p99_9_ns"));
    l.p9999.push_back(Num(it.value(), "p99_99_ns"));
    l.count += Num(it.value(), "count");
  }
}

void AddVerify(const json& b, Point* p) {
  const json& v = b.contains("verify") ? b["verify"] : json::object();
  p->mismatches += Uint(v, "mismatches");
  p->missing += Uint(v, "missing");
  p->errors += Uint(b, "errors");
  if (b.contains("error_messages") && b["error_messages"].is_array()) {
    for (const json& m : b["error_messages"]) {
      if (m.is_string() && p->error_messages.size() < 3) {
        p->error_messages.push_back(m.get<std::string>());
      }
    }
  }
}

void AddSeries(const json& b, double ips, Point* p) {
  // Keep the series of the repetition closest to the running median, so the
  // plot shows a typical run rather than the first.
  if (!b.contains("throughput_series") || !b["throughput_series"].is_array())
    return;
  double med = Median(p->ops_per_s);
  bool take = p->series.empty() ||
              std::fabs(ips - med) < std::fabs(Median(p->series) - med);
  if (!take) return;
  p->series.clear();
  for (const json& v : b["throughput_series"]) {
    if (v.is_number()) p->series.push_back(v.get<double>());
  }
}

// Name, engine, workload, threads and parameters (the last entry wins).
void AddIdentity(const json& b, Point* p) {
  p->engine = Str(b, "engine", p->engine);
  p->engine_spec = Str(b, "engine_spec",
                       p->engine_spec.empty() ? p->engine : p->engine_spec);
  p->workload = Str(b, "workload", p->workload);
  p->threads = static_cast<int>(Num(b, "threads", p->threads));
  if (b.contains("params") && b["params"].is_object()) {
    for (auto it = b["params"].begin(); it != b["params"].end(); ++it) {
      p->params[it.key()] = it.value().is_string()
                                ? it.value().get<std::string>()
                                : it.value().dump();
    }
  }
}

// Throughput, CPU and instructions of a repetition with figures.
void AddSpeed(const json& b, double ips, Point* p) {
  p->ops_per_s.push_back(ips);
  p->phase_s.push_back(Num(b, "iterations") / ips);
  double cpu_ns = Num(b, "cpu_time");
  if (cpu_ns > 0) p->cpu_ops_per_s.push_back(1e9 / cpu_ns);
  // Per op: instructions_per_op, else the phase's total over its operations.
  if (b.contains("instructions_per_op") &&
      b["instructions_per_op"].is_number()) {
    p->instructions.push_back(b["instructions_per_op"].get<double>());
  } else if (b.contains("instructions") && b["instructions"].is_number()) {
    p->instructions.push_back(b["instructions"].get<double>() /
                              Num(b, "iterations"));
  }
}

// A per-repetition peak (VmHWM reset at the repetition's start) is the real
// peak; the process-wide ru_maxrss is not, so phase ends stand in for it.
void AddMemory(const json& b, const Machine* m, Point* p) {
  double rss = 0;
  if (m && Str(m->context, "peak_rss_method").rfind("VmHWM", 0) == 0)
    rss = Num(b, "peak_rss_bytes");
  if (rss <= 0) p->rss_is_peak = false;
  if (rss <= 0 && b.contains("phases") && b["phases"].is_object()) {
    for (const json& ph : b["phases"])
      rss = std::max(rss, Num(ph, "rss_end_bytes"));
  }
  if (rss <= 0) rss = Num(b, "peak_rss_bytes");
  if (rss > 0) p->peak_rss.push_back(rss);
}

// The page cache figures and the memory cap of a repetition, when recorded.
void AddCache(const json& b, Point* p) {
  if (Num(b, "resident_at_run_start", -1) >= 0)
    p->resident.push_back(Num(b, "resident_at_run_start"));
  if (!b.contains("memory_limit") || !b["memory_limit"].is_object()) return;
  const json& m = b["memory_limit"];
  p->memory_limit = Num(m, "limit_bytes");
  if (Num(m, "peak_bytes", -1) >= 0) p->cgroup_peak.push_back(Num(m, "peak_bytes"));
  if (Num(m, "run_end_file_bytes", -1) >= 0)
    p->cgroup_file_end.push_back(Num(m, "run_end_file_bytes"));
}

// Each role's throughput (entries with `roles`).
void AddRoles(const json& b, Point* p) {
  if (!b.contains("roles") || !b["roles"].is_object()) return;
  for (const auto& [name, r] : b["roles"].items()) {
    Point::Role& role = p->roles[name];
    role.threads = static_cast<int>(Num(r, "threads"));
    role.target_rate = Num(r, "target_rate");
    role.ops_per_s.push_back(Num(r, "ops_per_s"));
  }
}

// Disk use, and whether the engine is persistent and was verified.
void AddFootprint(const json& b, Point* p) {
  if (Num(b, "bytes_on_disk", -1) >= 0)
    p->bytes_on_disk.push_back(Num(b, "bytes_on_disk"));
  // Nothing on disk after close: an in-memory engine (the "not persistent" note
  // only appears on workloads that reopen).
  if (Num(b, "bytes_on_disk", -1) == 0) p->persistent = false;
  if (Num(b, "space_amp") > 0) p->space_amp.push_back(Num(b, "space_amp"));
  if (b.contains("notes") && b["notes"].is_array()) {
    for (const json& n : b["notes"]) {
      if (n.is_string() &&
          n.get<std::string>().find("not persistent") != std::string::npos) {
        p->persistent = false;
      }
    }
  }
  if (b.contains("verify") && b["verify"].is_object() &&
      b["verify"].value("enabled", true) == false) {
    p->verified = false;
  }
}

// The class an entry ran at, its engine state, its kernel requests per op and
// its crash check (results schema 2).
void AddDurability(const json& b, Point* p) {
  if (b.contains("durability") && b["durability"].is_object())
    p->durability = b["durability"].value("class", "");
  if (b.contains("engine_state") && b["engine_state"].is_object()) {
    const json& es = b["engine_state"];
    p->engine_state = es.value("state", "");
    if (es.contains("settle_ms") && es["settle_ms"].is_number())
      p->settle_ms.push_back(es["settle_ms"].get<double>());
    if (es.contains("figures") && es["figures"].is_object()) {
      p->state_figures.clear();
      for (const auto& [name, v] : es["figures"].items())
        if (v.is_number()) p->state_figures[name] = v.get<double>();
    }
  }
  if (b.contains("io_per_op") && b["io_per_op"].is_object()) {
    const json& io = b["io_per_op"];
    p->flushes_per_op.push_back(Num(io, "flushes"));
    if (io.contains("write_calls")) {
      p->write_calls_per_op.push_back(Num(io, "write_calls"));
      p->device_bytes_per_op.push_back(Num(io, "device_bytes"));
    }
  }
  if (!b.contains("crash_checked") || !b["crash_checked"].is_object()) return;
  const json& c = b["crash_checked"];
  if (!c.value("checked", false)) {
    p->crash_checked = "not checked";
    return;
  }
  p->crash_checked = std::to_string(c.value("trials", uint64_t{0})) +
                     " trials, " +
                     std::to_string(c.value("violations", uint64_t{0})) +
                     " violations";
}

// The settings (config.settings) that change what is measured: a table, so
// SCHEMA.md's "Comparability" list and the code are one list.
constexpr const char* kComparedSettings[] = {
    "verify",         "warmup_ops",  "warmup_seconds",     "target_rate",
    "latency_sample", "cache_state", "count_instructions", "reuse",
    "memory_limit_bytes"};
// Workload parameters that are samples, not conditions: not compared.
constexpr const char* kUncomparedParams[] = {"seed"};

std::string ValueText(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

void AddComparability(const json& b, const json& settings, Point* p) {
  p->identity = ComparabilityFields(b, settings);
  if (b.contains("engine_spec")) p->identity["engine_spec"] = p->engine_spec;
}

// " [k=v, ...]" of the fields of `mine` that differ from `first`.
std::string VariantLabel(const Point& first, const Point& mine,
                         std::string* diffs) {
  std::string label;
  for (const auto& [key, value] : mine.identity) {
    auto it = first.identity.find(key);
    std::string old = it == first.identity.end() ? "?" : it->second;
    if (old == value) continue;
    label += (label.empty() ? "" : ", ") + key + "=" + value;
    *diffs += (diffs->empty() ? "" : "; ") + key + ": " + old + " vs " + value;
  }
  return " [" + label + "]";
}

// Repetitions pool only within one machine, run name and parameter set.
Point& FindOrAddPoint(Dataset* ds, const std::string& machine,
                      const std::string& name, const Point& probe) {
  const Point* first = nullptr;
  for (Point& p : ds->points) {
    if (p.machine != machine || p.run_name != name) continue;
    if (p.identity == probe.identity) return p;
    if (!first) first = &p;
  }
  Point added = probe;
  added.machine = machine;
  added.run_name = added.name = name;
  if (first) {
    std::string diffs;
    added.name += VariantLabel(*first, added, &diffs);
    ds->notes.push_back(name + ": entries with different parameters kept " +
                        "apart, not pooled (" + diffs + ")");
  }
  ds->points.push_back(std::move(added));
  return ds->points.back();
}

void AddEntry(const json& b, const std::string& machine, const json& settings,
              Dataset* ds) {
  std::string name = Str(b, "run_name", Str(b, "name"));
  if (name.empty()) return;
  Point probe;
  AddIdentity(b, &probe);
  // A merged file carries each input's settings in its entries.
  AddComparability(b, b.contains("settings") ? b["settings"] : settings,
                   &probe);
  Point& p = FindOrAddPoint(ds, machine, name, probe);
  AddIdentity(b, &p);
  if (b.contains("skipped")) {
    ++p.skipped;
    p.skip_reason =
        b["skipped"].is_string() ? b["skipped"].get<std::string>() : "skipped";
    return;
  }
  AddVerify(b, &p);
  double ips = Num(b, "items_per_second");
  if (Num(b, "iterations") <= 0 || ips <= 0)
    return;  // a failed set-up: no figures
  AddSpeed(b, ips, &p);
  AddLatency(b.contains("latency") ? b["latency"] : json(), &p);
  AddMemory(b, ds->FindMachine(machine), &p);
  AddFootprint(b, &p);
  AddDurability(b, &p);
  AddCache(b, &p);
  AddRoles(b, &p);
  if (Num(b, "reopen_ms", -1) >= 0) p.reopen_ms.push_back(Num(b, "reopen_ms"));
  AddSeries(b, ips, &p);
}

std::string Fmt(const char* f, double v, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v, unit);
  return buf;
}

}  // namespace

std::string Point::MainOp() const {
  std::string best;
  double n = -1;
  for (const auto& [op, l] : latency) {
    if (l.count > n) {
      n = l.count;
      best = op;
    }
  }
  return best;
}

const Machine* Dataset::FindMachine(const std::string& key) const {
  for (const Machine& m : machines) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

std::string MachineKey(const json& context) {
  std::string host = Str(context, "host_name");
  return host.empty() ? "unknown-host" : host;
}

void AddResults(const json& j, const std::string& origin, Dataset* ds) {
  ds->files.push_back(origin);
  const json& ctx = j["context"];
  // A merged file holds context.machines {key: context}; entries name their
  // machine.
  std::map<std::string, json> contexts;
  if (ctx.contains("machines") && ctx["machines"].is_object()) {
    for (auto it = ctx["machines"].begin(); it != ctx["machines"].end(); ++it) {
      contexts[it.key()] = it.value();
    }
  }
  std::string own = MachineKey(ctx);
  auto ensure = [&](const std::string& key, const json& c) {
    if (!ds->FindMachine(key)) ds->machines.push_back(Machine{key, c});
  };
  json settings;
  if (j.contains("config") && j["config"].is_object() &&
      j["config"].contains("settings"))
    settings = j["config"]["settings"];
  for (const json& b : j["benchmarks"]) {
    if (!b.is_object() || Str(b, "run_type", "iteration") != "iteration")
      continue;
    std::string key = Str(b, "machine", own);
    ensure(key, contexts.count(key) ? contexts[key] : ctx);
    AddEntry(b, key, settings, ds);
  }
  if (j["benchmarks"].empty()) ensure(own, ctx);
}

Result<Dataset> LoadDataset(const std::vector<std::string>& paths) {
  Dataset ds;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (const auto& e : fs::directory_iterator(path, ec)) {
        if (e.path().extension() == ".json") files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end(),
                [](const std::string& a, const std::string& b) {
                  bool ra = fs::path(a).filename() == "results.json";
                  bool rb = fs::path(b).filename() == "results.json";
                  return ra != rb ? ra : a < b;
                });
      size_t before = ds.files.size();
      for (const std::string& f : files) {
        Result<json> j = ReadResultsFile(f);
        if (j.ok())
          AddResults(*j, f,
                     &ds);  // other JSON files in the folder are not ours
      }
      if (ds.files.size() == before) {
        return Status::InvalidArgument("no kvbench results file in " + path);
      }
      continue;
    }
    KVB_ASSIGN_OR_RETURN(json j, ReadResultsFile(path));
    AddResults(j, path, &ds);
  }
  return ds;
}

std::string FormatCount(double v) {
  double a = std::fabs(v);
  if (a >= 1e9) return Fmt("%.2f %s", v / 1e9, "G");
  if (a >= 1e6) return Fmt("%.2f %s", v / 1e6, "M");
  if (a >= 1e4) return Fmt("%.1f %s", v / 1e3, "k");
  return Fmt("%.0f%s", v, "");
}

std::string FormatBytes(double v) {
  if (v >= 1024.0 * 1024 * 1024)
    return Fmt("%.2f %s", v / (1024.0 * 1024 * 1024), "GiB");
  if (v >= 1024.0 * 1024) return Fmt("%.1f %s", v / (1024.0 * 1024), "MiB");
  if (v >= 1024.0) return Fmt("%.1f %s", v / 1024.0, "KiB");
  return Fmt("%.0f %s", v, "B");
}

std::string FormatFixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string FormatChange(double pct, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.*f%%", digits, pct);
  return buf;
}

std::string FormatNs(double ns) {
  if (ns >= 1e9) return Fmt("%.2f %s", ns / 1e9, "s");
  if (ns >= 1e6) return Fmt("%.2f %s", ns / 1e6, "ms");
  if (ns >= 1e3) return Fmt("%.1f %s", ns / 1e3, "µs");
  return Fmt("%.0f %s", ns, "ns");
}

std::map<std::string, std::string> ComparabilityFields(const json& b,
                                                       const json& settings) {
  std::map<std::string, std::string> out;
  if (b.contains("params") && b["params"].is_object()) {
    for (auto it = b["params"].begin(); it != b["params"].end(); ++it) {
      if (std::find(std::begin(kUncomparedParams), std::end(kUncomparedParams),
                    it.key()) != std::end(kUncomparedParams))
        continue;
      out[it.key()] = ValueText(it.value());
    }
  }
  if (!settings.is_object()) return out;
  for (const char* key : kComparedSettings) {
    if (settings.contains(key)) {
      out[key] = ValueText(settings[key]);
    } else if (std::string(key) == "verify") {
      out[key] = "true";  // SCHEMA.md: absent = true
    }
  }
  return out;
}

}  // namespace kvb::report
