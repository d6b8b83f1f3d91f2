#include "harness/crash_ledger.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "adapters/registry.h"
#include "core/hash.h"
#include "harness/context.h"

namespace kvb::crash_ledger {
namespace {

using nlohmann::json;

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Hash64 of the running executable's bytes ("" if unreadable).
std::string ExecutableHash() {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  if (!in) return "";
  std::string buf(1 << 20, '\0');
  uint64_t h = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h = Hash64(buf.data(), static_cast<size_t>(in.gcount()), h);
  }
  return Hex(h);
}

std::string Today() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// One ledger line for an engine that ran trials.
json Record(const CrashEngineResult& e) {
  json options = json::object();
  std::string engine = e.spec.substr(0, e.spec.find(':'));
  Result<OptionMap> resolved = ResolvedOptions(e.spec);
  if (resolved.ok()) {
    for (const auto& [k, v] : *resolved) options[k] = v;
  }
  uint64_t failed = 0, violations = 0;
  for (const CrashTrial& t : e.trials) {
    failed += t.failed() ? 1 : 0;
    for (uint64_t v : t.violations) violations += v;
  }
  return json{{"build", BuildIdentity()},
              {"engine", engine},
              {"options", options},
              {"durability", options.value("durability", "")},
              {"model", e.model},
              {"trials", e.trials.size()},
              {"failed_trials", failed},
              {"violations", violations},
              {"date", Today()}};
}

}  // namespace

std::string DefaultPath() {
  if (const char* p = std::getenv("KVB_CRASH_LEDGER"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/kvbench/crash-ledger.jsonl";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/kvbench/crash-ledger.jsonl";
  return "";
}

const std::string& BuildIdentity() {
  static const std::string id = [] {
    std::string libs;
    for (const auto& [name, version] : LibraryVersions())
      libs += " " + name + "=" + version;
    return "exe:" + ExecutableHash() + libs;
  }();
  return id;
}

Status Append(const std::string& path, const CrashReport& report) {
  if (path.empty()) return Status::InvalidArgument("no crash ledger path");
  std::error_code ec;
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::app);
  if (!out) return Status::IOError("cannot append to crash ledger " + path);
  for (const CrashEngineResult& e : report.engines) {
    if (!e.skipped.empty() || e.trials.empty()) continue;
    out << Record(e).dump() << "\n";
  }
  out.flush();
  if (!out) return Status::IOError("write to crash ledger " + path + " failed");
  return Status::OK();
}

Result<Ledger> Load(const std::string& path) {
  Ledger ledger;
  if (path.empty() || !std::filesystem::exists(path)) return ledger;
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read crash ledger " + path);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("build")) {
      ++ledger.unreadable_lines;
      continue;
    }
    if (j["build"] == BuildIdentity()) ledger.records.push_back(std::move(j));
  }
  return ledger;
}

RepResult::CrashCheck CheckFor(
    const Ledger& ledger, const std::string& engine,
    const std::map<std::string, std::string>& options) {
  json want = json::object();
  for (const auto& [k, v] : options) want[k] = v;
  RepResult::CrashCheck c;
  c.looked = true;
  for (const json& r : ledger.records) {
    if (r.value("engine", "") != engine || r.value("options", json()) != want)
      continue;
    ++c.runs;
    c.trials += r.value("trials", uint64_t{0});
    c.failed_trials += r.value("failed_trials", uint64_t{0});
    c.violations += r.value("violations", uint64_t{0});
    c.last_date = std::max(c.last_date, r.value("date", std::string()));
  }
  c.checked = c.runs > 0;
  return c;
}

}  // namespace kvb::crash_ledger
