// The adapter registry: spec parsing, the table of built-in adapters, and
// opening with option checking. Adapters register through the hooks of
// builtin.h; this file decides (from the KVB_HAVE_<NAME> definitions CMake
// sets) which hooks exist in this build.
#include "adapters/registry.h"

#include <algorithm>
#include <exception>

#include "adapters/builtin.h"

namespace kvb {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Splits on `sep`, keeping empty pieces.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// An adapter that this build may lack, with what the user needs to get it.
struct Optional {
  const char* name;
  const char* description;
  const char* missing;  // how to get it built
};

constexpr Optional kOptionalAdapters[] = {
    {"rocksdb", "RocksDB LSM tree (reference)", "install librocksdb-dev"},
    {"leveldb", "LevelDB LSM tree (reference)", "install libleveldb-dev"},
    {"lmdb", "LMDB copy-on-write B+tree (reference)", "install liblmdb-dev"},
    {"sqlite", "SQLite WITHOUT ROWID table in WAL mode (reference)",
     "install libsqlite3-dev"},
    {"linhash", "our linear-hash log engine (Pogreb design)",
     "configure with -DKVB_WITH_LINHASH=ON"},
    {"typedmap", "our typed map with a JSON WAL (go-persist design)",
     "configure with -DKVB_WITH_TYPEDMAP=ON"},
    {"fileperkey", "our one-file-per-key store (diskv design)",
     "configure with -DKVB_WITH_FILEPERKEY=ON"},
};

const Optional* FindOptional(std::string_view name) {
  for (const Optional& o : kOptionalAdapters) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

std::vector<AdapterInfo> BuildTable() {
  using namespace adapters_internal;  // NOLINT: the hooks
  std::vector<AdapterInfo> all;
  AddNullAdapter(&all);
  AddMemoryAdapter(&all);
  AddFilesFloorAdapter(&all);
#ifdef KVB_HAVE_ROCKSDB
  AddRocksDbAdapter(&all);
#endif
#ifdef KVB_HAVE_LEVELDB
  AddLevelDbAdapter(&all);
#endif
#ifdef KVB_HAVE_LMDB
  AddLmdbAdapter(&all);
#endif
#ifdef KVB_HAVE_SQLITE
  AddSqliteAdapter(&all);
#endif
#ifdef KVB_HAVE_LINHASH
  AddLinhashAdapter(&all);
#endif
#ifdef KVB_HAVE_TYPEDMAP
  AddTypedmapAdapter(&all);
#endif
#ifdef KVB_HAVE_FILEPERKEY
  AddFileperkeyAdapter(&all);
#endif
  // Every adapter a full build would have is listed, so `kvbench list` shows
  // what is missing.
  for (const Optional& o : kOptionalAdapters) {
    bool present =
        std::any_of(all.begin(), all.end(),
                    [&](const AdapterInfo& i) { return i.name == o.name; });
    if (present) continue;
    AdapterInfo info;
    info.name = o.name;
    info.description =
        std::string(o.description) + " [not built: " + o.missing + "]";
    info.built = false;
    all.push_back(std::move(info));
  }
  std::sort(all.begin(), all.end(),
            [](const AdapterInfo& a, const AdapterInfo& b) {
              return a.name < b.name;
            });
  return all;
}

std::string KnownNames() {
  std::string out;
  for (const AdapterInfo& info : AllAdapters()) {
    if (!out.empty()) out += ", ";
    out += info.name;
  }
  return out;
}

std::string AcceptedOptions(const AdapterInfo& info) {
  std::vector<std::string> names{"durability"};
  for (const OptionSpec& o : info.options) names.push_back(o.name);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Checks every user option against `info`, then fills in the defaults.
Result<OptionMap> CheckOptions(const AdapterInfo& info,
                               const OptionMap& given) {
  OptionMap out;
  for (const OptionSpec& o : info.options) out[o.name] = o.default_value;
  // Baselines that keep nothing run at memory; everything else at process.
  if (out.find("durability") == out.end())
    out["durability"] = info.capabilities.persistent ? "process" : "memory";
  for (const auto& entry : given) {
    const std::string& key = entry.first;
    bool known =
        key == "durability" ||
        std::any_of(info.options.begin(), info.options.end(),
                    [&](const OptionSpec& o) { return o.name == key; });
    if (!known) {
      return Status::InvalidArgument("adapter '" + info.name +
                                     "' has no option '" + key +
                                     "'; accepted: " + AcceptedOptions(info));
    }
    out[key] = entry.second;
  }
  KVB_ASSIGN_OR_RETURN(DurabilityClass d,
                       ParseDurabilityClass(out["durability"]));
  KVB_RETURN_IF_ERROR(CheckProvides(info.durability, info.name, d));
  return out;
}

}  // namespace

std::string AdapterSpec::ToString() const {
  std::string out = name;
  char sep = ':';
  for (const auto& [key, value] : options) {  // std::map: sorted keys
    out += sep;
    out += key;
    out += '=';
    out += value;
    sep = ',';
  }
  return out;
}

Result<AdapterSpec> ParseAdapterSpec(std::string_view spec) {
  spec = Trim(spec);
  AdapterSpec out;
  size_t colon = spec.find(':');
  std::string_view name = Trim(spec.substr(0, colon));
  if (!ValidName(name)) {
    return Status::InvalidArgument(
        "bad adapter spec '" + std::string(spec) +
        "': expected name[:key=value,...] with a lower-case name");
  }
  out.name = std::string(name);
  if (colon == std::string_view::npos) return out;
  std::string_view rest = spec.substr(colon + 1);
  if (Trim(rest).empty()) return out;  // "name:" is just the name
  for (std::string_view token : Split(rest, ',')) {
    token = Trim(token);
    size_t eq = token.find('=');
    std::string_view key =
        eq == std::string_view::npos ? token : Trim(token.substr(0, eq));
    if (eq == std::string_view::npos || key.empty()) {
      return Status::InvalidArgument("bad adapter spec '" + std::string(spec) +
                                     "': option '" + std::string(token) +
                                     "' is not key=value");
    }
    std::string value(Trim(token.substr(eq + 1)));
    if (!out.options.emplace(std::string(key), std::move(value)).second) {
      return Status::InvalidArgument("bad adapter spec '" + std::string(spec) +
                                     "': option '" + std::string(key) +
                                     "' given twice");
    }
  }
  return out;
}

std::vector<std::string> SplitSpecList(std::string_view list) {
  std::vector<std::string> out;
  for (std::string_view token : Split(list, ',')) {
    token = Trim(token);
    if (token.empty()) continue;
    size_t eq = token.find('=');
    // A new spec starts at a bare name ("lmdb") or at "name:key=value": option
    // keys never contain ':' while a spec's first token does.
    bool starts_spec = eq == std::string_view::npos ||
                       token.substr(0, eq).find(':') != std::string_view::npos;
    if (starts_spec || out.empty()) {
      out.emplace_back(token);
    } else {
      out.back() += ',';
      out.back() += token;
    }
  }
  return out;
}

const std::vector<AdapterInfo>& AllAdapters() {
  static const std::vector<AdapterInfo> table = BuildTable();
  return table;
}

const AdapterInfo* FindAdapter(std::string_view name) {
  for (const AdapterInfo& info : AllAdapters()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

namespace {

// The built adapter named by `spec`, with its options checked and defaulted.
Result<std::pair<const AdapterInfo*, OptionMap>> Resolve(
    std::string_view spec) {
  KVB_ASSIGN_OR_RETURN(AdapterSpec parsed, ParseAdapterSpec(spec));
  const AdapterInfo* info = FindAdapter(parsed.name);
  if (info == nullptr) {
    return Status::InvalidArgument("unknown adapter '" + parsed.name +
                                   "'; known: " + KnownNames());
  }
  if (!info->built || !info->open) {
    const Optional* o = FindOptional(info->name);
    return Status::NotSupported(
        "adapter '" + info->name + "' was not built" +
        (o != nullptr ? std::string(" (") + o->missing + ")" : ""));
  }
  KVB_ASSIGN_OR_RETURN(OptionMap options, CheckOptions(*info, parsed.options));
  return std::make_pair(info, std::move(options));
}

}  // namespace

Result<Capabilities> CapabilitiesOf(std::string_view spec) {
  KVB_ASSIGN_OR_RETURN(auto resolved, Resolve(spec));
  auto& [info, options] = resolved;
  if (!info->check) return info->capabilities;
  Result<Capabilities> caps = info->check(options);
  if (!caps.ok())
    return caps.status().WithContext("adapter '" + info->name + "'");
  return caps;
}

Status CheckAdapterSpec(std::string_view spec) {
  return CapabilitiesOf(spec).status();
}

Result<OptionMap> ResolvedOptions(std::string_view spec) {
  KVB_RETURN_IF_ERROR(CheckAdapterSpec(spec));
  KVB_ASSIGN_OR_RETURN(auto resolved, Resolve(spec));
  return std::move(resolved.second);
}

Result<std::unique_ptr<Adapter>> OpenAdapter(std::string_view spec,
                                             const std::string& dir) {
  KVB_ASSIGN_OR_RETURN(auto resolved, Resolve(spec));
  auto& [info, options] = resolved;
  // Adapters are ours, but they call into third-party code that may throw
  // (bad_alloc); nothing may escape the registry.
  try {
    Result<std::unique_ptr<Adapter>> made = info->open(options, dir);
    if (!made.ok())
      return made.status().WithContext("adapter '" + info->name + "'");
    return made;
  } catch (const std::exception& e) {
    return Status::IOError("opening adapter '" + info->name + "': " + e.what());
  }
}

}  // namespace kvb
