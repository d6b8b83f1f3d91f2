// Template bodies of engines/typedmap/typedmap.h, included at its end. Not a
// public header: include engines/typedmap/typedmap.h. The contracts are there.
#ifndef KVB_ENGINES_TYPEDMAP_TYPEDMAP_INL_H_
#define KVB_ENGINES_TYPEDMAP_TYPEDMAP_INL_H_

#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap {

template <typename T>
Result<TypedMap<T>*> Store::Map(std::string_view name) {
  KVB_RETURN_IF_ERROR(ValidateMapName(name));
  auto* map = new TypedMap<T>(this, std::string(name));
  KVB_RETURN_IF_ERROR(RegisterMap(std::unique_ptr<internal::MapBase>(map)));
  return map;
}

template <typename V>
Status Store::Set(std::string_view key, const V& value, Durability d) {
  std::string json;
  KVB_RETURN_IF_ERROR(ValueCodec<V>::Encode(value, &json));
  return SetRaw(key, json, d);
}

template <typename V>
Result<V> Store::Get(std::string_view key) const {
  std::string json;
  KVB_RETURN_IF_ERROR(GetRaw(key, &json));
  V value{};
  KVB_RETURN_IF_ERROR(ValueCodec<V>::Decode(json, &value));
  return value;
}

template <typename T>
Status TypedMap<T>::Get(std::string_view key, T* value) const {
  return View(key, [value](const T& v) { *value = v; });
}

template <typename T>
template <typename F>
Status TypedMap<T>::View(std::string_view key, F&& fn) const {
  return Lookup(&Shard::data, key, std::forward<F>(fn));
}

template <typename T>
template <typename Tab, typename F>
Status TypedMap<T>::Lookup(Tab Shard::*table, std::string_view key,
                           F&& fn) const {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  internal::KeyProbe p = internal::MakeProbe(key);
  const Shard& shard = ShardFor(p);
  std::shared_lock lock(shard.map_mu);
  auto it = (shard.*table).find(p);
  if (it == (shard.*table).end()) return Status::NotFound();
  std::forward<F>(fn)(it->second);
  return Status::OK();
}

template <typename T>
Status TypedMap<T>::EncodeRecord(char op, std::string_view key, const T* value,
                                 std::string* rec) const {
  LogFormat f = store_->format();
  size_t start = BeginRecord(f, op, prefix(), key, rec);
  if (value != nullptr) KVB_RETURN_IF_ERROR(Codec::Encode(*value, rec));
  FinishRecord(f, start, rec);
  if (f == LogFormat::kLegacy) {
    Status s = CheckLegacyLines(std::string_view(*rec).substr(start));
    if (!s.ok()) {
      rec->resize(start);
      return s.WithContext("map '" + name() + "' key '" + std::string(key) +
                           "'");
    }
  }
  return Status::OK();
}

template <typename T>
void TypedMap<T>::DropRaw(Shard& shard, const internal::KeyProbe& p) {
  if (raw_count_.load(std::memory_order_relaxed) == 0) return;
  auto it = shard.raw.find(p);
  if (it == shard.raw.end()) return;
  shard.raw.erase(it);
  raw_count_.fetch_sub(1, std::memory_order_relaxed);
}

template <typename T>
Status TypedMap<T>::GetRaw(std::string_view key, std::string* json) const {
  return Lookup(&Shard::raw, key, [json](const std::string& v) { *json = v; });
}

template <typename T>
Status TypedMap<T>::Sync() {
  KVB_RETURN_IF_ERROR(store_->CheckWritable());
  return store_->FlushDirty(this);
}

template <typename T>
Status TypedMap<T>::Persist(Shard& shard, const internal::KeyProbe& p,
                            std::string&& rec, Durability d,
                            internal::LogPosition* pos) {
  if (d == Durability::kAsync) {
    MarkDirty(shard, p, std::move(rec));
    return Status::OK();
  }
  KVB_RETURN_IF_ERROR(store_->Append(rec, 1, pos));
  DropDirty(shard, p);
  return Status::OK();
}

template <typename T>
void TypedMap<T>::MarkDirty(Shard& shard, const internal::KeyProbe& p,
                            std::string&& rec) {
  // Coalescing: the dirty entry always holds the newest record of the key.
  if (internal::Upsert(shard.dirty, p, std::move(rec)))
    dirty_count_.fetch_add(1, std::memory_order_relaxed);
}

template <typename T>
void TypedMap<T>::DropDirty(Shard& shard, const internal::KeyProbe& p) {
  // The log now holds the newest state; an older pending async record must not
  // follow it. A zero count means no entry for this key either: entries of the
  // key are added under the key's writer stripe, which the caller holds.
  if (dirty_count_.load(std::memory_order_relaxed) == 0) return;
  auto it = shard.dirty.find(p);
  if (it == shard.dirty.end()) return;
  shard.dirty.erase(it);
  dirty_count_.fetch_sub(1, std::memory_order_relaxed);
}

template <typename T>
void TypedMap<T>::Assign(Shard& shard, const internal::KeyProbe& p, T&& value) {
  std::unique_lock lock(shard.map_mu);
  AssignLocked(shard, p, std::move(value));
}

template <typename T>
void TypedMap<T>::AssignLocked(Shard& shard, const internal::KeyProbe& p,
                               T&& value) {
  DropRaw(shard, p);
  if (internal::Upsert(shard.data, p, std::move(value)))
    count_.fetch_add(1, std::memory_order_relaxed);
}

template <typename T>
void TypedMap<T>::Erase(Shard& shard, const internal::KeyProbe& p) {
  std::unique_lock lock(shard.map_mu);
  EraseLocked(shard, p);
}

template <typename T>
void TypedMap<T>::EraseLocked(Shard& shard, const internal::KeyProbe& p) {
  DropRaw(shard, p);
  auto it = shard.data.find(p);
  if (it == shard.data.end()) return;
  shard.data.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
}

template <typename T>
Status TypedMap<T>::Finish(Durability d,
                           const internal::LogPosition& pos) const {
  if (d != Durability::kFSync) return Status::OK();
  return pos.valid ? store_->SyncTo(pos) : store_->SyncAll();
}

template <typename T>
Status TypedMap<T>::EncodeSet(std::string_view key, const T& value,
                              std::string* rec) const {
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  return EncodeRecord('S', key, &value, rec);
}

template <typename T>
Status TypedMap<T>::Set(std::string_view key, T value, Durability d) {
  KVB_RETURN_IF_ERROR(store_->CheckWritable());
  std::string rec;
  KVB_RETURN_IF_ERROR(EncodeSet(key, value, &rec));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  internal::LogPosition pos;
  {
    internal::SpinningGuard writer(WriterMutex(p));
    KVB_RETURN_IF_ERROR(Persist(shard, p, std::move(rec), d, &pos));
    Assign(shard, p, std::move(value));
  }
  return Finish(d, pos);
}

template <typename T>
Status TypedMap<T>::Delete(std::string_view key, Durability d, bool* existed) {
  KVB_RETURN_IF_ERROR(store_->CheckWritable());
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  internal::LogPosition pos;
  {
    internal::SpinningGuard writer(WriterMutex(p));
    // Only writers (holding the writer stripe) change `data`, so reading it
    // here needs no map_mu.
    bool exists = shard.data.find(p) != shard.data.end();
    if (existed != nullptr) *existed = exists;
    // A key that is neither in memory, nor pending, nor raw has no live
    // record in the log.
    if (exists || InLog(shard, p)) {
      std::string rec;
      KVB_RETURN_IF_ERROR(EncodeRecord('D', key, nullptr, &rec));
      KVB_RETURN_IF_ERROR(Persist(shard, p, std::move(rec), d, &pos));
      Erase(shard, p);
    }
  }
  return Finish(d, pos);
}

template <typename T>
template <typename F>
Result<std::optional<T>> TypedMap<T>::Update(std::string_view key, F&& fn,
                                             Durability d) {
  KVB_RETURN_IF_ERROR(store_->CheckWritable());
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  internal::LogPosition pos;
  std::optional<T> result;
  {
    // A scope guard: an exception from fn releases the lock with nothing
    // changed.
    internal::SpinningGuard writer(WriterMutex(p));
    auto it = shard.data.find(p);
    bool exists = it != shard.data.end();
    Updater<T> up(exists ? it->second : T{}, exists);
    std::forward<F>(fn)(up);
    switch (up.action()) {
      case Updater<T>::Action::kCancel:
        if (exists) result = it->second;
        return result;
      case Updater<T>::Action::kSet: {
        std::string rec;
        KVB_RETURN_IF_ERROR(EncodeRecord('S', key, &up.value, &rec));
        KVB_RETURN_IF_ERROR(Persist(shard, p, std::move(rec), d, &pos));
        result = up.value;
        Assign(shard, p, std::move(up.value));
        break;
      }
      case Updater<T>::Action::kDelete:
        if (exists || InLog(shard, p)) {
          std::string rec;
          KVB_RETURN_IF_ERROR(EncodeRecord('D', key, nullptr, &rec));
          KVB_RETURN_IF_ERROR(Persist(shard, p, std::move(rec), d, &pos));
          Erase(shard, p);
        }
        break;
    }
  }
  KVB_RETURN_IF_ERROR(Finish(d, pos));
  return result;
}

template <typename T>
Status TypedMap<T>::Write(Batch batch, Durability d) {
  KVB_RETURN_IF_ERROR(store_->CheckWritable());
  if (batch.ops_.empty()) return Finish(d, internal::LogPosition{});
  if (store_->format() != LogFormat::kNative) {
    return Status::NotSupported(
        "atomic batches need the native log format (go-persist logs have no "
        "batch record; see Options::upgrade_legacy_format)");
  }
  // Everything that can fail without I/O happens before any lock is taken.
  const size_t n = batch.ops_.size();
  std::string body;
  std::vector<size_t> ends(n);
  std::vector<internal::KeyProbe> probes(n);
  std::bitset<kShards> touched;
  for (size_t i = 0; i < n; i++) {
    const auto& op = batch.ops_[i];
    KVB_RETURN_IF_ERROR(ValidateKey(op.key));
    KVB_RETURN_IF_ERROR(EncodeRecord(op.value ? 'S' : 'D', op.key,
                                     op.value ? &*op.value : nullptr, &body));
    ends[i] = body.size();
    probes[i] = internal::MakeProbe(op.key);
    touched.set(ShardIndex(probes[i]));
  }
  std::bitset<Store::kWriterStripes> stripes;
  for (size_t i = 0; i < kShards; i++) {
    if (touched[i]) stripes.set(i % Store::kWriterStripes);
  }
  internal::LogPosition pos;
  {
    store_->LockStripes(stripes);
    ScopedUnlock unlock{store_, &stripes};
    if (d == Durability::kAsync) {
      for (size_t i = 0; i < n; i++) {
        size_t begin = i == 0 ? 0 : ends[i - 1];
        MarkDirty(ShardFor(probes[i]), probes[i],
                  body.substr(begin, ends[i] - begin));
      }
    } else {
      KVB_RETURN_IF_ERROR(store_->AppendBatch(body, n, &pos));
      for (size_t i = 0; i < n; i++) DropDirty(ShardFor(probes[i]), probes[i]);
    }
    ApplyBatch(batch, probes, touched);
  }
  return Finish(d, pos);
}

template <typename T>
void TypedMap<T>::ApplyBatch(Batch& batch,
                             const std::vector<internal::KeyProbe>& probes,
                             const std::bitset<kShards>& touched) {
  // Shard locks in index order: readers take one at a time, so no deadlock.
  for (size_t i = 0; i < kShards; i++) {
    if (touched[i]) shards_[i].map_mu.lock();
  }
  for (size_t i = 0; i < probes.size(); i++) {
    auto& op = batch.ops_[i];
    Shard& shard = ShardFor(probes[i]);
    if (op.value) {
      AssignLocked(shard, probes[i], std::move(*op.value));
    } else {
      EraseLocked(shard, probes[i]);
    }
  }
  for (size_t i = kShards; i-- > 0;) {
    if (touched[i]) shards_[i].map_mu.unlock();
  }
}

template <typename T>
Status TypedMap<T>::SetInMemory(std::string_view key, T value) {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  // Encoded once, so that a later Shrink (or flush) can write it.
  std::string probe;
  KVB_RETURN_IF_ERROR(EncodeSet(key, value, &probe));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  internal::SpinningGuard writer(WriterMutex(p));
  Assign(shard, p, std::move(value));
  return Status::OK();
}

template <typename T>
template <typename F>
Result<T> TypedMap<T>::UpdateInMemory(std::string_view key, F&& fn) {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  internal::SpinningGuard writer(WriterMutex(p));
  auto it = shard.data.find(p);
  bool exists = it != shard.data.end();
  Updater<T> up(exists ? it->second : T{}, exists);
  std::forward<F>(fn)(up);
  if (up.action() != Updater<T>::Action::kSet) {
    return Status::InvalidArgument("UpdateInMemory allows only the Set action");
  }
  std::string probe;
  KVB_RETURN_IF_ERROR(EncodeRecord('S', key, &up.value, &probe));
  T result = up.value;
  Assign(shard, p, std::move(up.value));
  return result;
}

template <typename T>
template <typename F>
Status TypedMap<T>::Range(F&& fn) const {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  std::vector<std::pair<std::string, T>> batch;
  for (size_t i = 0; i < kShards; i++) {
    {
      std::shared_lock lock(shards_[i].map_mu);
      batch.assign(shards_[i].data.begin(), shards_[i].data.end());
    }
    for (const auto& [k, v] : batch) {
      if (!fn(std::string_view(k), v)) return Status::OK();
    }
  }
  return Status::OK();
}

template <typename T>
Status TypedMap<T>::LoadSet(std::string_view key, std::string_view json) {
  // One hash-table walk per record (a find first would walk the bucket twice),
  // and a new key's value is decoded in place, so key, node and value are
  // allocated next to each other: later lookups touch fewer cache lines.
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  Table& data = shard.data;
  auto [it, inserted] = data.try_emplace(std::string(key));
  if (inserted) {
    Status s = Codec::Decode(json, &it->second);
    if (!s.ok()) {
      data.erase(it);
      return s;
    }
    count_.fetch_add(1, std::memory_order_relaxed);
  } else {
    // An existing value must survive a failed decode (recovery keeps it).
    T value{};
    KVB_RETURN_IF_ERROR(Codec::Decode(json, &value));
    it->second = std::move(value);
  }
  DropRaw(shard, p);
  return Status::OK();
}

template <typename T>
void TypedMap<T>::LoadRaw(std::string_view key, std::string_view json) {
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  EraseLocked(shard, p);
  shard.raw.emplace(std::string(key), std::string(json));
  raw_count_.fetch_add(1, std::memory_order_relaxed);
}

template <typename T>
void TypedMap<T>::LoadDelete(std::string_view key) {
  internal::KeyProbe p = internal::MakeProbe(key);
  EraseLocked(ShardFor(p), p);
}

template <typename T>
void TypedMap<T>::Clear() {
  for (size_t i = 0; i < kShards; i++) {
    std::lock_guard writer(store_->WriterStripe(i));
    std::unique_lock lock(shards_[i].map_mu);
    shards_[i].data.clear();
    shards_[i].dirty.clear();
    shards_[i].raw.clear();
  }
  count_ = 0;
  dirty_count_ = 0;
  raw_count_ = 0;
}

template <typename T>
void TypedMap<T>::CollectDirty(std::string* out, uint64_t* records) const {
  for (size_t i = 0; i < kShards; i++) {
    for (const auto& [key, rec] : shards_[i].dirty) {
      out->append(rec);
      ++*records;
    }
  }
}

template <typename T>
void TypedMap<T>::ClearDirty() {
  for (size_t i = 0; i < kShards; i++) shards_[i].dirty.clear();
  dirty_count_ = 0;
}

template <typename T>
Status TypedMap<T>::WriteSnapshot(LogFormat f,
                                  const internal::SnapshotSink& sink,
                                  uint64_t* records) const {
  constexpr size_t kBatch = 1 << 20;
  std::string buf;
  for (size_t i = 0; i < kShards; i++) {
    {
      // Encoding under the shared lock blocks only this shard's writers, and
      // only briefly.
      std::shared_lock lock(shards_[i].map_mu);
      for (const auto& [key, value] : shards_[i].data) {
        size_t start = BeginRecord(f, 'S', prefix(), key, &buf);
        KVB_RETURN_IF_ERROR(Codec::Encode(value, &buf));
        FinishRecord(f, start, &buf);
        ++*records;
      }
      // Raw values are written back as they were read: the record stays.
      for (const auto& [key, json] : shards_[i].raw) {
        size_t start = BeginRecord(f, 'S', prefix(), key, &buf);
        buf.append(json);
        FinishRecord(f, start, &buf);
        ++*records;
      }
    }
    if (buf.size() >= kBatch) {
      KVB_RETURN_IF_ERROR(sink(&buf));
      buf.clear();
    }
  }
  if (!buf.empty()) KVB_RETURN_IF_ERROR(sink(&buf));
  return Status::OK();
}

}  // namespace kvb::typedmap

#endif  // KVB_ENGINES_TYPEDMAP_TYPEDMAP_INL_H_
