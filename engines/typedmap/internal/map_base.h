// The type-erased pieces behind kvb::typedmap::TypedMap: how the Store drives a
// map (replay, flush, shrink) and the hashing shared by every map's shards.
// Internal to the typedmap engine; users include engines/typedmap/typedmap.h.
#ifndef KVB_ENGINES_TYPEDMAP_INTERNAL_MAP_BASE_H_
#define KVB_ENGINES_TYPEDMAP_INTERNAL_MAP_BASE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "core/status.h"
#include "engines/typedmap/log_format.h"

namespace kvb::typedmap {
namespace internal {

// Where an append ended: the log generation (bumped by each Shrink) and the end
// offset.
struct LogPosition {
  uint64_t generation = 0;
  uint64_t end = 0;
  bool valid = false;
};

// A key with its hash computed once, for heterogeneous lookup in the shard
// maps.
struct KeyProbe {
  std::string_view key;
  size_t hash;
};
inline KeyProbe MakeProbe(std::string_view key) {
  return KeyProbe{key, static_cast<size_t>(Hash64(key))};
}
struct KeyHash {
  using is_transparent = void;
  size_t operator()(const KeyProbe& p) const { return p.hash; }
  size_t operator()(std::string_view s) const {
    return static_cast<size_t>(Hash64(s));
  }
};
struct KeyEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return a == b;
  }
  bool operator()(const KeyProbe& a, std::string_view b) const {
    return a.key == b;
  }
  bool operator()(std::string_view a, const KeyProbe& b) const {
    return a == b.key;
  }
};

// Sets map[p.key] = v; true if the key was new (the caller counts it).
template <typename Map, typename V>
bool Upsert(Map& map, const KeyProbe& p, V&& v) {
  auto it = map.find(p);
  if (it != map.end()) {
    it->second = std::forward<V>(v);
    return false;
  }
  map.emplace(std::string(p.key), std::forward<V>(v));
  return true;
}

// Receives batches of snapshot records (Shrink); may consume *batch.
using SnapshotSink = std::function<Status(std::string* batch)>;

// The type-erased face of a TypedMap that the Store drives (replay, flush,
// shrink).
class MapBase {
 public:
  explicit MapBase(std::string name)
      : name_(std::move(name)), prefix_(name_ + ":") {}
  virtual ~MapBase() = default;
  const std::string& name() const { return name_; }
  const std::string& prefix() const { return prefix_; }

  // Replay; single-threaded, before the map is shared. LoadSet: Corruption if
  // `json` does not decode as the map's type.
  virtual Status LoadSet(std::string_view key, std::string_view json) = 0;
  virtual void LoadDelete(std::string_view key) = 0;
  // Replay of a record whose value did not decode (Options::on_schema_error =
  // kKeepRaw): the key's typed value, if any, is dropped and `json` is kept as
  // the key's raw value, written back by Shrink until a write replaces it.
  virtual void LoadRaw(std::string_view key, std::string_view json) = 0;
  virtual uint64_t RawCount() const = 0;
  virtual bool HasRaw(std::string_view key) const = 0;  // replay only
  virtual void Clear() = 0;
  // Replay sizing: reserve room for about `keys` keys before loading; give
  // back what a too-high guess left unused afterwards.
  virtual void ReserveForLoad(size_t keys) = 0;
  virtual void TrimAfterLoad() = 0;
  virtual uint64_t LiveCount() const = 0;
  virtual uint64_t DirtyCount() const = 0;
  // Flush: collect the dirty records; forget them. REQUIRES: the Store's
  // writer stripes are all held.
  virtual void CollectDirty(std::string* out,
                            uint64_t* records) const = 0;  // writers locked
  virtual void ClearDirty() = 0;                           // writers locked
  // Shrink: one S record per live key, in format f.
  virtual Status WriteSnapshot(LogFormat f, const SnapshotSink& sink,
                               uint64_t* records) const = 0;

 private:
  const std::string name_;
  const std::string prefix_;
};

}  // namespace internal

}  // namespace kvb::typedmap

#endif  // KVB_ENGINES_TYPEDMAP_INTERNAL_MAP_BASE_H_
