// Registration of the built-in adapters (internal to adapters/: the harness
// uses registry.h).
//
// Each adapter's .cc defines its class and an Add hook, which calls Register()
// once; registry.cc calls every hook whose adapter was built (CMake defines
// KVB_HAVE_<NAME>) and lists the others with built = false.
//
// An adapter is registered with two functions of its own:
//   Result<Config> parse(const OptionMap&)   option values -> its Config, or
//                                             a one-line InvalidArgument;
//   Result<std::unique_ptr<Adapter>> open(const Config&, const std::string&)
//                                             opens it on a directory.
// Register() derives the registry's `check` (parse only) and `open` (parse,
// then open) from them, so a bad value fails CheckAdapterSpec and OpenAdapter
// with the same message. A Config whose options change the capabilities has a
// `Capabilities capabilities() const`, which CapabilitiesOf() reports.
#ifndef KVB_ADAPTERS_BUILTIN_H_
#define KVB_ADAPTERS_BUILTIN_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "adapters/registry.h"

namespace kvb::adapters_internal {

// What an Add hook declares about its adapter besides its functions (the
// optional `inspect` is Register's last argument).
struct Registration {
  std::string name;
  std::string description;  // one line
  Capabilities capabilities;
  std::vector<OptionSpec> options;  // excluding the common `durability`
  // How each class is provided or why it is refused (adapters/durability.h).
  DurabilityTable durability;
};

template <typename Config>
void Register(std::vector<AdapterInfo>* out, Registration r,
              Result<Config> (*parse)(const OptionMap&),
              Result<std::unique_ptr<Adapter>> (*open)(const Config&,
                                                       const std::string&),
              decltype(AdapterInfo::inspect) inspect = nullptr) {
  AdapterInfo info;
  info.name = std::move(r.name);
  info.description = std::move(r.description);
  info.built = true;
  info.capabilities = r.capabilities;
  info.options = std::move(r.options);
  info.durability = r.durability;
  info.inspect = std::move(inspect);
  info.check = [parse, caps = r.capabilities](
                   const OptionMap& o) -> Result<Capabilities> {
    (void)caps;  // unused where the options decide the capabilities
    KVB_ASSIGN_OR_RETURN(Config config, parse(o));
    if constexpr (requires { config.capabilities(); }) {
      return config.capabilities();  // they depend on the options
    } else {
      return caps;
    }
  };
  info.open = [parse, open](
                  const OptionMap& o,
                  const std::string& dir) -> Result<std::unique_ptr<Adapter>> {
    KVB_ASSIGN_OR_RETURN(Config config, parse(o));
    return open(config, dir);
  };
  out->push_back(std::move(info));
}

// Base of the built-in adapters: name() and capabilities() are the values
// given at construction (the ones registered).
class BuiltinAdapter : public Adapter {
 public:
  std::string_view name() const final { return name_; }
  Capabilities capabilities() const final { return caps_; }

 protected:
  BuiltinAdapter(std::string_view name, const Capabilities& caps,
                 std::string dir)
      : Adapter(std::move(dir)), name_(name), caps_(caps) {}

 private:
  const std::string_view name_;  // a string literal
  const Capabilities caps_;
};

// The table of the baselines that keep nothing (null, memory): class memory
// only. The harness runs them at memory whatever a workload asks.
inline constexpr DurabilityTable kNotPersistent{{
    {Durability::kMemory, "not persistent: nothing outlives the adapter", ""},
    {Durability::kProcess, "", "not persistent (a baseline): use memory"},
    {Durability::kPeriodic, "", "not persistent (a baseline): use memory"},
    {Durability::kSync, "", "not persistent (a baseline): use memory"},
}};

// An engine's counters as Stats() figures.
inline std::map<std::string, double> CountStats(
    std::initializer_list<std::pair<const char*, uint64_t>> counters) {
  std::map<std::string, double> out;
  for (const auto& [name, value] : counters)
    out.emplace(name, static_cast<double>(value));
  return out;
}

// The figures of `all` named in `names` (a StateFigures() drawn from Stats()).
inline std::map<std::string, double> PickFigures(
    const std::map<std::string, double>& all,
    std::initializer_list<const char*> names) {
  std::map<std::string, double> out;
  for (const char* name : names) {
    auto it = all.find(name);
    if (it != all.end()) out.insert(*it);
  }
  return out;
}

void AddNullAdapter(std::vector<AdapterInfo>* out);
void AddMemoryAdapter(std::vector<AdapterInfo>* out);
void AddFilesFloorAdapter(std::vector<AdapterInfo>* out);
void AddRocksDbAdapter(std::vector<AdapterInfo>* out);   // KVB_HAVE_ROCKSDB
void AddLevelDbAdapter(std::vector<AdapterInfo>* out);   // KVB_HAVE_LEVELDB
void AddLmdbAdapter(std::vector<AdapterInfo>* out);      // KVB_HAVE_LMDB
void AddSqliteAdapter(std::vector<AdapterInfo>* out);    // KVB_HAVE_SQLITE
void AddLinhashAdapter(std::vector<AdapterInfo>* out);   // KVB_HAVE_LINHASH
void AddTypedmapAdapter(std::vector<AdapterInfo>* out);  // KVB_HAVE_TYPEDMAP
void AddFileperkeyAdapter(
    std::vector<AdapterInfo>* out);  // KVB_HAVE_FILEPERKEY

}  // namespace kvb::adapters_internal

#endif  // KVB_ADAPTERS_BUILTIN_H_
