// kvb::Registry — opens adapters from spec strings and lists what exists.
//
// A spec is "name" or "name:key=value,key=value". Each adapter declares the
// options it takes, with defaults and one-line help; an unknown name or option
// is an InvalidArgument whose message lists what is accepted. Every adapter
// takes `durability=CLASS` (adapters/durability.h; default process) and
// refuses, with InvalidArgument, a class its table says it cannot provide.
//
// The registry is the only way to get an Adapter, and what it returns is open:
//   Result<std::unique_ptr<Adapter>> db = OpenAdapter("lmdb:map_mb=64", dir);
// CheckAdapterSpec() validates a spec (name, option names and values) without
// touching any directory, for front ends that check their input first.
//
// Adapters whose library was absent at build time are still listed, with built
// = false, so `kvbench list` tells the user what they could have.
#ifndef KVB_ADAPTERS_REGISTRY_H_
#define KVB_ADAPTERS_REGISTRY_H_

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.h"
#include "core/result.h"

namespace kvb {

struct OptionSpec {
  std::string name;
  std::string default_value;
  std::string help;
};

using OptionMap = std::map<std::string, std::string>;

struct AdapterInfo {
  std::string name;
  std::string description;  // one line
  bool built = false;       // false: its library was not found at build time
  Capabilities capabilities;
  std::vector<OptionSpec> options;  // excluding the common `durability`
  // The engine settings used for each durability class, or why a class is
  // refused (empty rows when !built).
  DurabilityTable durability{};
  // Both take options already checked against `options` (defaults filled in).
  // `check` validates their values without opening anything and returns the
  // capabilities an adapter opened with them has; `open` opens the adapter on
  // a directory (see OpenAdapter). Null when !built.
  std::function<Result<Capabilities>(const OptionMap&)> check;
  std::function<Result<std::unique_ptr<Adapter>>(const OptionMap&,
                                                 const std::string& dir)>
      open;
  // Optional: checks a database (or file) at `path` offline, writes a readable
  // report to `out` (counts, bytes, checksum verification; every key when
  // dump_keys) and returns Corruption if anything failed its checks. Used by
  // `kvbench inspect NAME PATH`.
  std::function<Status(const std::string& path, bool dump_keys,
                       std::ostream& out)>
      inspect;
};

struct AdapterSpec {
  std::string name;
  OptionMap options;  // as given by the user (not yet defaulted)
  // Back to "name:k=v,k=v" with keys sorted; parse(ToString()) == *this.
  std::string ToString() const;
};

// Parses "name:k=v,..." (InvalidArgument on syntax errors such as "k" without
// "=").
Result<AdapterSpec> ParseAdapterSpec(std::string_view spec);
// Splits a comma list of specs where options also use commas:
// "rocksdb:a=1,b=2,lmdb" ->
// {"rocksdb:a=1,b=2", "lmdb"} (a new spec starts at a token without '=').
std::vector<std::string> SplitSpecList(std::string_view list);

// All adapters known to this build (built or not), sorted by name.
const std::vector<AdapterInfo>& AllAdapters();
// The info for `name`, or null.
const AdapterInfo* FindAdapter(std::string_view name);
// Checks a spec without opening anything. InvalidArgument for an unknown name
// (listing the known ones), an unknown option (listing the accepted ones), or a
// bad value; NotSupported for an adapter that was not built.
[[nodiscard]] Status CheckAdapterSpec(std::string_view spec);
// CheckAdapterSpec, and the capabilities an adapter opened from `spec` will
// report: they may depend on its options (fileperkey's index=on makes it
// ordered), so `AdapterInfo::capabilities` is only the default options' set.
[[nodiscard]] Result<Capabilities> CapabilitiesOf(std::string_view spec);
// The options an adapter opened from `spec` uses: the given ones with every
// default filled in (durability included), after the checks of
// CheckAdapterSpec. What results record as the exact engine settings.
[[nodiscard]] Result<OptionMap> ResolvedOptions(std::string_view spec);
// Opens the adapter of `spec` on directory `dir` (created if missing) and
// returns it open, or an error and no adapter: first those of
// CheckAdapterSpec, then the open errors of adapter.h (InvalidArgument for a
// file, IOError, Busy, Corruption), prefixed with "adapter 'NAME'". To reopen,
// Close() and destroy the adapter, then call OpenAdapter again.
[[nodiscard]] Result<std::unique_ptr<Adapter>> OpenAdapter(
    std::string_view spec, const std::string& dir);

}  // namespace kvb

#endif  // KVB_ADAPTERS_REGISTRY_H_
