#include "harness/suite.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/registry.h"

#ifndef KVB_SOURCE_DIR
#define KVB_SOURCE_DIR ""
#endif

namespace kvb {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string AsText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return v.dump();
}

Status ReadParams(const json& obj, const std::string& where,
                  std::vector<std::pair<std::string, std::string>>* out) {
  if (!obj.is_object())
    return Status::InvalidArgument(where + ": params must be an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!(it.value().is_string() || it.value().is_number())) {
      return Status::InvalidArgument(where + ": param " + it.key() +
                                     " must be a string or number");
    }
    out->emplace_back(it.key(), AsText(it.value()));
  }
  return Status::OK();
}

// The "workloads" array: names, or {"workload": NAME, "params": {...}}.
Status ReadEntries(const json& list, const std::string& origin,
                   std::vector<SuiteEntry>* out) {
  for (const json& w : list) {
    SuiteEntry e;
    if (w.is_string()) {
      e.workload = w.get<std::string>();
    } else if (w.is_object() && w.contains("workload") &&
               w["workload"].is_string()) {
      e.workload = w["workload"].get<std::string>();
      if (w.contains("params")) {
        KVB_RETURN_IF_ERROR(
            ReadParams(w["params"], origin + " " + e.workload, &e.params));
      }
    } else {
      return Status::InvalidArgument(
          "suite " + origin +
          ": each workload is a name or {\"workload\": NAME, \"params\": {...}}");
    }
    out->push_back(std::move(e));
  }
  return Status::OK();
}

}  // namespace

Result<Suite> ParseSuite(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false,
                       /*ignore_comments=*/true);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("suite " + origin + " is not a JSON object");
  }
  Suite s;
  s.name = j.value("name", fs::path(origin).stem().string());
  s.description = j.value("description", "");
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("suite " + origin + ": " + what);
  };
  if (j.contains("engines")) {
    if (!j["engines"].is_array())
      return bad("engines must be an array of strings");
    for (const json& e : j["engines"]) {
      if (!e.is_string()) return bad("engines must be an array of strings");
      s.engines.push_back(e.get<std::string>());
    }
  }
  if (j.contains("threads")) {
    if (!j["threads"].is_array())
      return bad("threads must be an array of integers");
    for (const json& t : j["threads"]) {
      if (!t.is_number_unsigned() || t.get<uint64_t>() == 0)
        return bad("threads must be >= 1");
      s.threads.push_back(t.get<uint32_t>());
    }
  }
  if (j.contains("repetitions")) {
    if (!j["repetitions"].is_number_unsigned() ||
        j["repetitions"].get<int>() < 1) {
      return bad("repetitions must be a positive integer");
    }
    s.repetitions = j["repetitions"].get<int>();
  }
  if (j.contains("params"))
    KVB_RETURN_IF_ERROR(ReadParams(j["params"], origin, &s.params));
  if (!j.contains("workloads") || !j["workloads"].is_array()) {
    return bad("needs a workloads array");
  }
  KVB_RETURN_IF_ERROR(ReadEntries(j["workloads"], origin, &s.entries));
  return s;
}

Result<Suite> LoadSuite(const std::string& name_or_file) {
  std::vector<std::string> candidates = {name_or_file};
  if (const char* dir = std::getenv("KVB_SUITES_DIR")) {
    candidates.push_back(std::string(dir) + "/" + name_or_file + ".json");
  }
  candidates.push_back("suites/" + name_or_file + ".json");
  if (std::string(KVB_SOURCE_DIR).size()) {
    candidates.push_back(std::string(KVB_SOURCE_DIR) + "/suites/" +
                         name_or_file + ".json");
  }
  for (const std::string& c : candidates) {
    std::error_code ec;
    if (!fs::is_regular_file(c, ec)) continue;
    std::ifstream in(c);
    std::stringstream ss;
    ss << in.rdbuf();
    return ParseSuite(ss.str(), c);
  }
  return Status::NotFound("no suite named or at '" + name_or_file + "'");
}

std::vector<std::string> ExpandEngines(
    const std::vector<std::string>& engines) {
  std::vector<std::string> out;
  auto add = [&](const std::string& e) {
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  };
  for (const std::string& e : engines) {
    if (e == "@persistent" || e == "@all") {
      for (const AdapterInfo& a : AllAdapters()) {
        if (a.built && (e == "@all" || a.capabilities.persistent)) add(a.name);
      }
    } else {
      add(e);
    }
  }
  return out;
}

Result<std::vector<PointSpec>> ExpandPoints(const Suite& suite,
                                            const Overrides& o) {
  std::vector<std::string> engines =
      ExpandEngines(o.engines.empty() ? suite.engines : o.engines);
  if (engines.empty()) return Status::InvalidArgument("no engines to run");
  std::vector<SuiteEntry> entries;
  if (!o.workloads.empty()) {
    for (const std::string& w : o.workloads) {
      bool found = false;
      for (const SuiteEntry& e : suite.entries) {
        if (e.workload == w) {
          entries.push_back(e);
          found = true;
        }
      }
      if (!found) entries.push_back(SuiteEntry{w, {}});
    }
  } else {
    entries = suite.entries;
  }
  if (entries.empty()) return Status::InvalidArgument("no workloads to run");
  std::vector<uint32_t> threads = o.threads.empty() ? suite.threads : o.threads;
  std::vector<PointSpec> points;
  for (const SuiteEntry& e : entries) {
    for (const std::string& engine : engines) {
      std::vector<uint32_t> sweep = threads;
      if (sweep.empty()) sweep.push_back(0);  // 0 = the workload's own default
      for (uint32_t t : sweep) {
        PointSpec p;
        p.engine_spec = engine;
        p.workload = e.workload;
        p.params = suite.params;
        p.params.insert(p.params.end(), e.params.begin(), e.params.end());
        p.params.insert(p.params.end(), o.params.begin(), o.params.end());
        if (t) p.params.emplace_back("threads", std::to_string(t));
        p.repetitions = o.repetitions ? o.repetitions : suite.repetitions;
        points.push_back(std::move(p));
      }
    }
  }
  return points;
}

json PointToJson(const PointSpec& p) {
  json params = json::array();
  for (const auto& [k, v] : p.params) params.push_back(json::array({k, v}));
  return json{{"engine", p.engine_spec},
              {"workload", p.workload},
              {"params", params},
              {"repetitions", p.repetitions}};
}

Result<PointSpec> PointFromJson(const json& j) {
  PointSpec p;
  if (!j.is_object() || !j.contains("engine") || !j["engine"].is_string() ||
      !j.contains("workload") || !j["workload"].is_string()) {
    return Status::InvalidArgument("config point lacks engine or workload");
  }
  p.engine_spec = j["engine"].get<std::string>();
  p.workload = j["workload"].get<std::string>();
  p.repetitions = j.value("repetitions", 1);
  if (j.contains("params")) {
    for (const json& kv : j["params"]) {
      if (!kv.is_array() || kv.size() != 2 || !kv[0].is_string() ||
          !kv[1].is_string()) {
        return Status::InvalidArgument(
            "config point params must be [name, value] pairs");
      }
      p.params.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
    }
  }
  return p;
}

}  // namespace kvb
