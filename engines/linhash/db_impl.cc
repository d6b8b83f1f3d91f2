#include "engines/linhash/db_impl.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "core/coding.h"
#include "core/hash.h"

namespace kvb::linhash {
namespace {

size_t ThreadCell() {
  static std::atomic<size_t> next{0};
  thread_local size_t cell = next.fetch_add(1, std::memory_order_relaxed);
  return cell;
}

std::string& Scratch() {
  thread_local std::string s;
  return s;
}

}  // namespace

void ShardedCounter::Add(uint64_t n) {
  cells_[ThreadCell() % 16].v.fetch_add(n, std::memory_order_relaxed);
}

uint64_t ShardedCounter::Sum() const {
  uint64_t s = 0;
  for (const Cell& c : cells_) s += c.v.load(std::memory_order_relaxed);
  return s;
}

// ---- WriteBatch and the public wrappers ----

void WriteBatch::Put(std::string_view key, std::string_view value) {
  ops_.push_back({false, std::string(key), std::string(value)});
}
void WriteBatch::Delete(std::string_view key) {
  ops_.push_back({true, std::string(key), {}});
}
void WriteBatch::Clear() { ops_.clear(); }

DB::DB(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DB::~DB() { impl_->Close().IgnoreError(); }

Result<std::unique_ptr<DB>> DB::Open(const std::string& dir,
                                     const Options& options) {
  auto impl = std::make_unique<Impl>(dir, options);
  Status s = impl->Open();
  if (!s.ok() && impl->checkpoint_damaged()) {
    // The replay after the checkpoint touched an index chunk that failed its
    // check: start over without the checkpoint (a full rebuild from the log).
    impl = std::make_unique<Impl>(dir, options);
    impl->IgnoreCheckpoint();
    s = impl->Open();
  }
  KVB_RETURN_IF_ERROR(s);
  impl->LogOpen();
  return std::unique_ptr<DB>(new DB(std::move(impl)));
}

Status DB::Close() { return impl_->Close(); }
Status DB::Put(std::string_view k, std::string_view v) {
  return impl_->Put(k, v, false, nullptr);
}
Status DB::PutIfAbsent(std::string_view k, std::string_view v, bool* inserted) {
  return impl_->Put(k, v, true, inserted);
}
Status DB::Get(std::string_view k, std::string* v) {
  return impl_->Get(k, v, false);
}
Status DB::GetAppend(std::string_view k, std::string* out) {
  return impl_->Get(k, out, true);
}
Status DB::Has(std::string_view k, bool* found) { return impl_->Has(k, found); }
Status DB::MultiGet(std::span<const std::string_view> keys, std::string* values,
                    Status* statuses) {
  return impl_->MultiGet(keys, values, statuses);
}
Status DB::Delete(std::string_view k) { return impl_->Delete(k); }
Status DB::Write(const WriteBatch& b) {
  return impl_->Write(b.ops_.data(), b.ops_.size());
}
std::unique_ptr<Iterator> DB::NewIterator() { return impl_->NewIterator(); }
uint64_t DB::Count() const { return impl_->Count(); }
Result<uint64_t> DB::FileSize() const { return impl_->FileSize(); }
Result<CompactionResult> DB::Compact() { return impl_->Compact(); }
Status DB::Sync() { return impl_->Sync(); }
Status DB::Checkpoint() { return impl_->Checkpoint(); }
Status DB::Backup(const std::string& dir) { return impl_->Backup(dir); }
Metrics DB::GetMetrics() const { return impl_->GetMetrics(); }
Stats DB::GetStats() const { return impl_->GetStats(); }

// ---- Impl basics ----

DB::Impl::Impl(std::string dir, const Options& options)
    : dir_(std::move(dir)),
      options_(options),
      index_(options.load_factor),
      seg_table_(kMaxSegmentId + 1, nullptr),
      id_reserved_(kMaxSegmentId + 1, false) {}

DB::Impl::~Impl() { Close().IgnoreError(); }

uint64_t DB::Impl::HashKey(std::string_view key) const {
  if (options_.TEST_hash != nullptr) return options_.TEST_hash(key);
  return Hash64(key, hash_seed_);
}

std::string DB::Impl::Path(const std::string& name) const {
  return JoinPath(dir_, name);
}

Status DB::Impl::CheckOpen() const {
  if (!open_.load(std::memory_order_acquire)) {
    return Status::FailedPrecondition("linhash: database is closed");
  }
  return Status::OK();
}

Status DB::Impl::CheckWritable() const {
  KVB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only)
    return Status::FailedPrecondition("linhash: opened read-only");
  if (!bg_error_.ok()) return bg_error_;
  return index_.health();
}

Status DB::Impl::CheckIndex(Status s) {
  Status h = index_.health();
  if (h.ok()) return s;
  // First sight of a lazily loaded chunk that failed its check: the
  // checkpoint cannot be trusted, so remove it (the next Open rebuilds the
  // index from the log). No newer checkpoint can exist: writing one needs
  // every chunk loaded and healthy.
  if (!index_failure_noted_.exchange(true) && h.IsCorruption() &&
      !options_.read_only && open_.load(std::memory_order_acquire)) {
    env_->RemoveFile(Path(kIndexName)).IgnoreError();
  }
  return h;
}

Status DB::Impl::SetBackgroundError(Status s) {
  // After a failed log write or fsync the file's state is unknown: refuse
  // further writes until the database is reopened (recovery then re-establishes
  // a valid log end).
  if (bg_error_.ok()) {
    bg_error_ = Status::FailedPrecondition(
        "linhash: log write failed earlier: " + s.ToString());
  }
  return s;
}

// After a record is in the log and applied: a chunk that failed its check on
// the way (a split or a chain walk touched it) leaves the index unusable; the
// record is in the log, and the next Open rebuilds from the log.
Status DB::Impl::CheckAfterApply() {
  Status s = CheckIndex(Status::OK());
  if (!s.ok()) return SetBackgroundError(s);
  return s;
}

uint64_t DB::Impl::CurrentLsn() const {
  Segment* a = active();
  return a == nullptr ? 0 : (a->seq() << 32) | a->end();
}

// ---- Lookups ----

// Walks h's candidates; for the slot whose record holds `key` calls
// found(bucket, slot, segment, record) and returns OK. NotFound if no slot
// does. With key_only the records are read without their values (no value
// CRC): the key comparison needs only the key.
template <typename Fn>
Status DB::Impl::Lookup(uint64_t h, std::string_view key, bool key_only,
                        Fn&& found) {
  std::string& scratch = Scratch();
  Status st = Status::NotFound();
  RecordView rec{};
  index_.ForEachCandidate(h, [&](Bucket* b, int i) {
    Segment* seg = seg_table_[LocSegment(b->loc[i])];
    if (seg == nullptr) {
      st = Status::Corruption("index points to a missing segment");
      return true;
    }
    const uint64_t off = LocOffset(b->loc[i]);
    Status r = key_only ? seg->ReadKey(off, &scratch, &rec)
                        : seg->ReadRecord(off, options_.verify_checksums,
                                          &scratch, &rec);
    if (!r.ok()) {
      st = r;
      return true;
    }
    if (rec.key != key) {
      collisions_.Add();
      return false;
    }
    st = Status::OK();
    found(b, i, seg, rec);
    return true;
  });
  return st;
}

Status DB::Impl::FindKey(uint64_t h, std::string_view key, Found* f) {
  Status st = Lookup(h, key, /*key_only=*/true,
                     [f](Bucket* b, int i, Segment* seg, const RecordView& r) {
                       f->ref = {b, i};
                       f->old_size = r.size;
                       f->old_segment = seg;
                     });
  // A walk cut short by a chain cycle may have missed the key.
  return st.ok() || st.IsNotFound() ? index_.health() : st;
}

Status DB::Impl::Get(std::string_view key, std::string* out, bool append) {
  KVB_RETURN_IF_ERROR(CheckOpen());
  const uint64_t h = HashKey(key);
  Status st;
  {
    std::shared_lock lock(index_mu_);
    st = Lookup(h, key, /*key_only=*/false,
                [out, append](Bucket*, int, Segment*, const RecordView& r) {
                  if (append) {
                    out->append(r.value);
                  } else {
                    out->assign(r.value);
                  }
                });
  }
  gets_.Add();
  // A walk through a chunk that failed its check may have missed the key.
  return CheckIndex(st);
}

Status DB::Impl::Has(std::string_view key, bool* found) {
  KVB_RETURN_IF_ERROR(CheckOpen());
  const uint64_t h = HashKey(key);
  Status st;
  {
    std::shared_lock lock(index_mu_);
    st = Lookup(h, key, /*key_only=*/true,
                [](Bucket*, int, Segment*, const RecordView&) {});
  }
  gets_.Add();  // as Pogreb: Has counts as a Get
  *found = st.ok();
  st = CheckIndex(st);
  return st.IsNotFound() ? Status::OK() : st;
}

// Keys per MultiGet group: enough misses in flight to cover the memory
// latency (a core keeps 10-12 line fill buffers busy), few enough that the
// group's buckets and records are still cached when they are read.
constexpr size_t kMultiGetGroup = 16;

Status DB::Impl::MultiGet(std::span<const std::string_view> keys,
                          std::string* values, Status* statuses) {
  KVB_RETURN_IF_ERROR(CheckOpen());
  for (size_t i = 0; i < keys.size(); i += kMultiGetGroup) {
    const size_t n = std::min(kMultiGetGroup, keys.size() - i);
    MultiGetGroup(keys.data() + i, n, values + i, statuses + i);
  }
  gets_.Add(keys.size());
  Status first;
  for (size_t i = 0; i < keys.size(); ++i) {
    statuses[i] = CheckIndex(std::move(statuses[i]));
    if (first.ok() && !statuses[i].ok() && !statuses[i].IsNotFound())
      first = statuses[i];
  }
  return first;
}

void DB::Impl::MultiGetGroup(const std::string_view* keys, size_t n,
                             std::string* values, Status* statuses) {
  uint64_t h[kMultiGetGroup];
  const Bucket* b[kMultiGetGroup];
  for (size_t j = 0; j < n; ++j) h[j] = HashKey(keys[j]);
  std::shared_lock lock(index_mu_);
  // 1. Every primary bucket of the group in flight at once (two lines each).
  for (size_t j = 0; j < n; ++j) {
    b[j] = index_.Primary(index_.BucketFor(h[j]));
    __builtin_prefetch(b[j]);
    __builtin_prefetch(reinterpret_cast<const char*>(b[j]) + 64);
  }
  // 2. The record of each bucket's first matching slot (most keys have one).
  for (size_t j = 0; j < n; ++j) {
    for (int i = 0; i < kSlotsPerBucket; ++i) {
      if (!SlotMatches(*b[j], i, h[j])) continue;
      const Segment* seg = seg_table_[LocSegment(b[j]->loc[i])];
      if (seg != nullptr) seg->Prefetch(LocOffset(b[j]->loc[i]));
      break;
    }
  }
  // 3. The lookups proper, now mostly cache hits.
  for (size_t j = 0; j < n; ++j) {
    std::string* out = &values[j];
    statuses[j] = Lookup(h[j], keys[j], /*key_only=*/false,
                         [out](Bucket*, int, Segment*, const RecordView& r) {
                           out->assign(r.value);
                         });
  }
}

// ---- Writes ----

void DB::Impl::ApplyPut(uint64_t h, const Found& f, uint64_t loc, Segment* dst,
                        uint32_t size) {
  std::unique_lock lock(index_mu_);
  ApplyPutLocked(h, f, loc, dst, size);
}

void DB::Impl::ApplyPutLocked(uint64_t h, const Found& f, uint64_t loc,
                              Segment* dst, uint32_t size) {
  if (f.found()) {
    index_.Replace(f.ref, loc);
    f.old_segment->dead_keys++;
    f.old_segment->dead_bytes += f.old_size;
  } else {
    index_.Insert(index_.FindHole(h), h, loc);
  }
  dst->put_records++;
  key_count_.store(index_.count(), std::memory_order_relaxed);
}

void DB::Impl::ApplyDelete(const Found& f, Segment* dst, uint32_t size) {
  std::unique_lock lock(index_mu_);
  ApplyDeleteLocked(f, dst, size);
}

void DB::Impl::ApplyDeleteLocked(const Found& f, Segment* dst, uint32_t size) {
  if (f.found()) {
    index_.Remove(f.ref);
    f.old_segment->dead_keys++;
    f.old_segment->dead_bytes += f.old_size;
  }
  // A delete record is never needed once every older segment is gone.
  dst->delete_records++;
  dst->dead_bytes += size;
  key_count_.store(index_.count(), std::memory_order_relaxed);
}

Status DB::Impl::PrepareAppend(uint64_t bytes) {
  if (bytes > kMaxSegmentSizeLimit - kSegmentHeaderSize) {
    return Status::InvalidArgument(
        "linhash: write larger than a segment can hold");
  }
  Segment* a = active();
  uint64_t end = a->end();
  bool over_soft =
      end + bytes > options_.max_segment_size && end > kSegmentHeaderSize;
  bool over_hard = end + bytes > kMaxSegmentSizeLimit;
  if (over_soft || over_hard || a->sealed()) return Rotate();
  return Status::OK();
}

Status DB::Impl::AppendLocked(std::string_view records, uint64_t* offset) {
  KVB_RETURN_IF_ERROR(PrepareAppend(records.size()));
  Segment* a = active();
  *offset = a->end();
  Status s = a->Append(records);
  if (!s.ok()) return SetBackgroundError(s);
  return Status::OK();
}

Status DB::Impl::Put(std::string_view key, std::string_view value,
                     bool if_absent, bool* inserted) {
  KVB_RETURN_IF_ERROR(CheckSizes(key, value));
  const uint64_t h = HashKey(key);
  uint64_t lsn = 0;
  {
    std::lock_guard lock(writer_mu_);
    KVB_RETURN_IF_ERROR(CheckWritable());
    KVB_RETURN_IF_ERROR(CheckIndex(index_.Reserve()));
    Found f;
    KVB_RETURN_IF_ERROR(CheckIndex(FindKey(h, key, &f)));
    if (inserted != nullptr) *inserted = !f.found();
    if (if_absent && f.found()) return Status::OK();
    encode_buf_.clear();
    AppendRecord(&encode_buf_, RecordType::kPut, key, value);
    uint64_t off = 0;
    KVB_RETURN_IF_ERROR(AppendLocked(encode_buf_, &off));
    Segment* a = active();
    ApplyPut(h, f, MakeLoc(h, a->id(), static_cast<uint32_t>(off)), a,
             static_cast<uint32_t>(encode_buf_.size()));
    KVB_RETURN_IF_ERROR(CheckAfterApply());
    lsn = CurrentLsn();
  }
  puts_.Add();
  return WaitDurable(lsn);
}

Status DB::Impl::Delete(std::string_view key) {
  KVB_RETURN_IF_ERROR(CheckSizes(key, {}));
  const uint64_t h = HashKey(key);
  uint64_t lsn = 0;
  {
    std::lock_guard lock(writer_mu_);
    KVB_RETURN_IF_ERROR(CheckWritable());
    Found f;
    KVB_RETURN_IF_ERROR(CheckIndex(FindKey(h, key, &f)));
    if (!f.found()) {
      // As Pogreb: nothing is logged, but the delete is counted.
      deletes_.Add();
      deletes_absent_.Add();
      return Status::OK();
    }
    encode_buf_.clear();
    AppendRecord(&encode_buf_, RecordType::kDelete, key, {});
    uint64_t off = 0;
    KVB_RETURN_IF_ERROR(AppendLocked(encode_buf_, &off));
    ApplyDelete(f, active(), static_cast<uint32_t>(encode_buf_.size()));
    KVB_RETURN_IF_ERROR(CheckAfterApply());
    lsn = CurrentLsn();
  }
  deletes_.Add();
  return WaitDurable(lsn);
}

// A batch is one kBatch record (count, body length) followed by its put/delete
// records, all in one segment and one append: recovery applies it only if every
// record of the body is intact.
Status DB::Impl::CheckSizes(std::string_view key, std::string_view value) {
  if (key.size() > kMaxKeySize)
    return Status::InvalidArgument("linhash: key too large");
  if (value.size() > kMaxValueSize)
    return Status::InvalidArgument("linhash: value too large");
  return Status::OK();
}

Status DB::Impl::CheckBatchSizes(const WriteBatch::Op* ops, size_t n) {
  for (size_t i = 0; i < n; ++i)
    KVB_RETURN_IF_ERROR(CheckSizes(ops[i].key, ops[i].value));
  return Status::OK();
}

// A batch as it goes into the log: one kBatch header record, then the ops'
// records; rel[i] is op i's offset in the body.
struct DB::Impl::EncodedBatch {
  std::string all;
  uint32_t head = 0;  // size of the header record
  uint64_t body_size = 0;
  std::vector<uint32_t> rel;
  std::vector<uint64_t> hashes;

  uint32_t RecordSize(size_t i) const {
    return static_cast<uint32_t>((i + 1 < rel.size() ? rel[i + 1] : body_size) -
                                 rel[i]);
  }
};

DB::Impl::EncodedBatch DB::Impl::EncodeBatch(const WriteBatch::Op* ops,
                                             size_t n) const {
  EncodedBatch b;
  b.hashes.resize(n);
  for (size_t i = 0; i < n; ++i) b.hashes[i] = HashKey(ops[i].key);
  std::string body;
  b.rel.resize(n);
  for (size_t i = 0; i < n; ++i) {
    b.rel[i] = static_cast<uint32_t>(body.size());
    AppendRecord(&body,
                 ops[i].is_delete ? RecordType::kDelete : RecordType::kPut,
                 ops[i].key, ops[i].value);
  }
  char meta[kBatchValueSize];
  EncodeFixed32(meta, static_cast<uint32_t>(n));
  EncodeFixed64(meta + 4, body.size());
  AppendRecord(&b.all, RecordType::kBatch, {},
               std::string_view(meta, sizeof(meta)));
  b.head = static_cast<uint32_t>(b.all.size());
  b.body_size = body.size();
  b.all += body;
  return b;
}

Status DB::Impl::Write(const WriteBatch::Op* ops, size_t n) {
  if (n == 0) {
    std::lock_guard lock(writer_mu_);
    return CheckWritable();
  }
  KVB_RETURN_IF_ERROR(CheckBatchSizes(ops, n));
  const EncodedBatch batch = EncodeBatch(ops, n);
  uint64_t lsn = 0;
  {
    std::lock_guard lock(writer_mu_);
    KVB_RETURN_IF_ERROR(CheckWritable());
    KVB_RETURN_IF_ERROR(CheckIndex(index_.Reserve(n)));
    uint64_t off = 0;
    KVB_RETURN_IF_ERROR(AppendLocked(batch.all, &off));
    KVB_RETURN_IF_ERROR(IndexBatchLocked(batch, ops, off));
    lsn = CurrentLsn();
  }
  return WaitDurable(lsn);
}

// The batch is in the log at `off`: from here nothing may fail, it must be in
// the index (a failure is a background error that stops writes). The index
// lock is held exclusively across the whole batch, so a concurrent reader sees
// all of it or none of it (the lookups here read keys only).
Status DB::Impl::IndexBatchLocked(const EncodedBatch& batch,
                                  const WriteBatch::Op* ops, uint64_t off) {
  Segment* a = active();
  a->dead_bytes += batch.head;
  uint64_t puts = 0;
  uint64_t deletes = 0;
  uint64_t absent = 0;
  Status s;
  {
    std::unique_lock lock(index_mu_);
    for (size_t i = 0; i < batch.rel.size() && s.ok(); ++i) {
      const uint64_t hash = batch.hashes[i];
      Found f;
      s = FindKey(hash, ops[i].key, &f);
      if (!s.ok()) break;
      const uint64_t rec_off = off + batch.head + batch.rel[i];
      if (ops[i].is_delete) {
        ApplyDeleteLocked(f, a, batch.RecordSize(i));
        deletes++;
        absent += f.found() ? 0 : 1;
      } else {
        const uint32_t loc32 = static_cast<uint32_t>(rec_off);
        ApplyPutLocked(hash, f, MakeLoc(hash, a->id(), loc32), a,
                       batch.RecordSize(i));
        puts++;
      }
    }
  }
  if (!s.ok()) return SetBackgroundError(s);
  puts_.Add(puts);
  deletes_.Add(deletes);
  deletes_absent_.Add(absent);
  return CheckAfterApply();
}

// ---- Segments ----

Status DB::Impl::NewSegment() {
  uint32_t id = 0;
  while (id <= kMaxSegmentId &&
         (seg_table_[id] != nullptr || id_reserved_[id])) {
    ++id;
  }
  if (id > kMaxSegmentId)
    return Status::NoSpace("linhash: all 65536 segment ids in use");
  uint64_t seq = segments_.empty() ? 1 : segments_.rbegin()->first + 1;
  std::string path = Path(SegmentFileName(id, seq));
  KVB_ASSIGN_OR_RETURN(auto file, env_->OpenFile(path, OpenMode::kCreateNew));
  Status s = file->WriteAt(0, EncodeSegmentHeader(id, seq));
  if (s.ok()) s = file->Sync();
  // The new name must be durable before any record in it can be acknowledged
  // (D3).
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) {
    // A header whose sync failed may be gone from the disk while a reopen
    // before a reboot still reads it (and would append to it): remove the file
    // (best effort; the call fails and the error is sticky either way).
    file.reset();
    env_->RemoveFile(path).IgnoreError();
    return s;
  }
  auto seg = std::make_shared<Segment>(
      id, seq, path, std::move(file), kSegmentHeaderSize,
      options_.read_backend == ReadBackend::kMmap, options_.write_buffer_size,
      &index_mu_);
  {
    std::unique_lock lock(index_mu_);
    seg_table_[id] = seg.get();
  }
  segments_[seq] = std::move(seg);
  return Status::OK();
}

Status DB::Impl::Rotate() {
  Segment* a = active();
  // Sealing fsyncs the old segment, so a later Sync (which fsyncs only the
  // active segment) still covers every record appended before the rotation
  // (Pogreb defect D3).
  if (a != nullptr && !a->sealed()) {
    Status s = a->Seal();
    if (!s.ok()) return SetBackgroundError(s);
  }
  Status s = NewSegment();
  if (!s.ok()) return SetBackgroundError(s);
  return Status::OK();
}

// ---- Durability ----

Status DB::Impl::SyncLog(uint64_t* covered) {
  std::shared_ptr<Segment> seg;
  uint64_t seg_end = 0;
  {
    std::lock_guard lock(writer_mu_);
    KVB_RETURN_IF_ERROR(CheckOpen());
    if (!bg_error_.ok()) return bg_error_;
    if (segments_.empty()) return Status::OK();
    seg = segments_.rbegin()->second;
    Status s = seg->Flush();
    if (!s.ok()) return SetBackgroundError(s);
    *covered = CurrentLsn();
    seg_end = seg->flushed_end();
  }
  // fdatasync outside the writer lock: other writers keep appending to the
  // buffer meanwhile and the next leader's sync covers them.
  syncs_.fetch_add(1, std::memory_order_relaxed);
  Status s = seg->DataSync(seg_end);
  if (!s.ok()) {
    std::lock_guard lock(writer_mu_);
    return SetBackgroundError(s);
  }
  return Status::OK();
}

// Leader/follower group commit: the first waiter syncs for everyone whose
// record was appended before its flush; the others wait and usually find their
// LSN covered.
Status DB::Impl::WaitDurable(uint64_t lsn) {
  if (options_.background_sync_interval_ms != -1) return Status::OK();
  std::unique_lock lock(sync_mu_);
  while (durable_lsn_ < lsn) {
    if (syncing_) {
      sync_cv_.wait(lock);
      continue;
    }
    syncing_ = true;
    lock.unlock();
    uint64_t covered = 0;
    Status s = SyncLog(&covered);
    lock.lock();
    syncing_ = false;
    if (s.ok()) durable_lsn_ = std::max(durable_lsn_, covered);
    sync_cv_.notify_all();
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status DB::Impl::Sync() {
  KVB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) return Status::OK();
  uint64_t covered = 0;
  KVB_RETURN_IF_ERROR(SyncLog(&covered));
  std::lock_guard lock(sync_mu_);
  durable_lsn_ = std::max(durable_lsn_, covered);
  return Status::OK();
}

// ---- Close, background ----

Status DB::Impl::Close() {
  if (!open_.load(std::memory_order_acquire)) return Status::OK();
  StopBackground();
  Status s;
  if (!options_.read_only) {
    bool healthy;
    {
      std::lock_guard lock(writer_mu_);
      healthy = bg_error_.ok();
    }
    // After a failed write the checkpoint would describe a log we could not
    // write; leave the last good checkpoint and let the next Open replay, and
    // report the sticky error (nothing was made durable here). With no write
    // since the last checkpoint, that checkpoint already describes everything.
    uint64_t lsn;
    {
      std::lock_guard lock(writer_mu_);
      lsn = CurrentLsn();
    }
    if (healthy && lsn != last_ckpt_lsn_.load()) s = Checkpoint();
    {
      std::lock_guard lock(writer_mu_);
      healthy = bg_error_.ok();  // Checkpoint's own fdatasync may have failed
    }
    if (!healthy) {
      Status r = RepairUnsyncedTails();
      if (s.ok()) s = r;
    }
  }
  open_.store(false, std::memory_order_release);
  {
    std::lock_guard lock(writer_mu_);
    std::unique_lock ilock(index_mu_);
    std::fill(seg_table_.begin(), seg_table_.end(), nullptr);
    segments_.clear();
  }
  lock_.reset();
  return s;
}

Status DB::Impl::RepairUnsyncedTails() {
  std::lock_guard lock(writer_mu_);
  for (const auto& [seq, seg] : segments_) {
    if (!seg->sync_failed()) continue;
    Status s = seg->RewriteUnsynced();
    if (!s.ok())
      return s.WithContext("linhash: rewriting what a failed sync dropped");
  }
  return bg_error_;
}

void DB::Impl::StartBackground() {
  if (options_.read_only) return;
  if (options_.background_sync_interval_ms <= 0 &&
      options_.background_compaction_interval_ms <= 0 &&
      options_.checkpoint_interval_ms <= 0) {
    return;
  }
  bg_thread_ = std::thread([this] { BackgroundLoop(); });
}

void DB::Impl::StopBackground() {
  {
    std::lock_guard lock(bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_thread_.joinable()) bg_thread_.join();
}

void DB::Impl::BackgroundLoop() {
  using Clock = std::chrono::steady_clock;
  using Ms = std::chrono::milliseconds;
  auto next_of = [](int64_t ms, Clock::time_point from) {
    return ms > 0 ? from + Ms(ms) : Clock::time_point::max();
  };
  auto now = Clock::now();
  auto next_sync = next_of(options_.background_sync_interval_ms, now);
  auto next_compact = next_of(options_.background_compaction_interval_ms, now);
  auto next_ckpt = next_of(options_.checkpoint_interval_ms, now);
  std::unique_lock lock(bg_mu_);
  while (!bg_stop_) {
    auto wake = std::min({next_sync, next_compact, next_ckpt});
    bg_cv_.wait_until(lock, wake, [this] { return bg_stop_; });
    if (bg_stop_) break;
    lock.unlock();
    now = Clock::now();
    if (now >= next_sync) {
      BackgroundResult("sync", Sync());
      next_sync = next_of(options_.background_sync_interval_ms, now);
    }
    if (now >= next_compact) {
      Status s = Compact().status();
      if (!s.IsBusy())
        BackgroundResult("compaction", s);  // Busy: a user's runs
      next_compact = next_of(options_.background_compaction_interval_ms, now);
    }
    if (now >= next_ckpt) {
      uint64_t lsn;
      {
        std::lock_guard wl(writer_mu_);
        lsn = CurrentLsn();
      }
      if (lsn != last_ckpt_lsn_.load())
        BackgroundResult("checkpoint", Checkpoint());
      next_ckpt = next_of(options_.checkpoint_interval_ms, now);
    }
    lock.lock();
  }
}

void DB::Impl::Log(Options::LogLevel level, const std::string& line) const {
  if (options_.logger) options_.logger(level, line);
}

void DB::Impl::BackgroundResult(const char* what, const Status& s) {
  if (s.ok()) return;
  bool sticky;
  {
    std::lock_guard lock(writer_mu_);
    sticky = !bg_error_.ok();
  }
  // Once the handle refuses writes every later background call fails with
  // the same sticky error: that one is reported once, not every period.
  if (sticky && sticky_reported_) return;
  if (sticky) sticky_reported_ = true;
  background_errors_.fetch_add(1, std::memory_order_relaxed);
  Log(Options::LogLevel::kError,
      std::string("linhash: background ") + what + " failed: " + s.ToString());
}

void DB::Impl::LogOpen() const {
  if (!options_.logger) return;
  for (const std::string& n : recovery_notes_)
    Log(Options::LogLevel::kInfo, "linhash: open " + dir_ + ": " + n);
  if (rebuilds_.load() > 0) {
    Log(Options::LogLevel::kInfo,
        "linhash: open " + dir_ + ": index rebuilt from the whole log");
  }
  if (recoveries_.load() > 0) {
    Log(Options::LogLevel::kInfo,
        "linhash: open " + dir_ + ": recovered, replayed " +
            std::to_string(replayed_.load()) + " records");
  }
}

// ---- Introspection ----

uint64_t DB::Impl::Count() const {
  return key_count_.load(std::memory_order_relaxed);
}

Result<uint64_t> DB::Impl::FileSize() const {
  KVB_ASSIGN_OR_RETURN(auto names, env_->ListDir(dir_));
  uint64_t total = 0;
  for (const auto& n : names) {
    const bool ours = n == kLockName || n == kIndexName || n == kIndexTmpName ||
                      IsAsideFileName(n) || ParseSegmentFileName(n).has_value();
    if (!ours) continue;  // unrelated files may share the directory
    auto st = env_->Stat(Path(n));
    if (st.ok() && !st->is_dir) total += st->size;
  }
  return total;
}

Metrics DB::Impl::GetMetrics() const {
  Metrics m;
  m.puts = puts_.Sum();
  m.gets = gets_.Sum();
  m.deletes = deletes_.Sum();
  m.deletes_absent = deletes_absent_.Sum();
  m.hash_collisions = collisions_.Sum();
  m.compactions = compactions_.load();
  m.recoveries = recoveries_.load();
  m.replayed_records = replayed_.load();
  m.full_rebuilds = rebuilds_.load();
  m.checkpoints = checkpoints_.load();
  m.syncs = syncs_.load();
  m.index_chunks_loaded = index_.chunks_loaded();
  m.torn_tail_bytes = torn_tail_bytes_.load();
  m.repair_cut_bytes = repair_cut_bytes_.load();
  m.repair_lost_records = repair_lost_records_.load();
  m.background_errors = background_errors_.load();
  return m;
}

Stats DB::Impl::GetStats() const {
  std::lock_guard lock(const_cast<std::mutex&>(writer_mu_));
  Stats s;
  s.keys = index_.count();
  s.level = index_.level();
  s.split = index_.split();
  s.primary_buckets = index_.num_primary();
  s.overflow_buckets = index_.num_overflow();
  s.free_overflow_buckets = index_.num_free();
  s.segments = segments_.size();
  for (const auto& [seq, seg] : segments_) {
    s.log_bytes += seg->end();
    s.dead_bytes += seg->dead_bytes;
  }
  s.index_bytes = index_.MemoryBytes();
  return s;
}

}  // namespace kvb::linhash
