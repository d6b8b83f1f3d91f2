#include <algorithm>

#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap {
namespace {

// Splits a full key at its first ':' into map name and user key. A key without
// ':' belongs to the map named "" with the whole key as user key (go-persist's
// routing).
void SplitFullKey(std::string_view full, std::string_view* name,
                  std::string_view* key) {
  size_t colon = full.find(':');
  if (colon == std::string_view::npos) {
    *name = std::string_view();
    *key = full;
  } else {
    *name = full.substr(0, colon);
    *key = full.substr(colon + 1);
  }
}

// Runs a function when the scope ends, unless dismissed.
template <typename F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ~ScopeExit() {
    if (armed_) f_();
  }
  void Dismiss() { armed_ = false; }

 private:
  F f_;
  bool armed_ = true;
};

}  // namespace

Options SingleMapOptions() {
  Options o;
  o.auto_shrink_ratio = 1.8;
  o.auto_shrink_interval = std::chrono::minutes(1);
  return o;
}

Store::Store(Options options)
    : options_(std::move(options)),
      env_(options_.env != nullptr ? options_.env : Env::Default()),
      stripes_(new Stripe[kWriterStripes]),
      sync_interval_(options_.sync_interval) {}

Store::~Store() { Close().IgnoreError(); }

void Store::LockAllWriters() {
  for (size_t i = 0; i < kWriterStripes; i++) stripes_[i].mu.lock();
}

void Store::UnlockAllWriters() {
  for (size_t i = kWriterStripes; i-- > 0;) stripes_[i].mu.unlock();
}

void Store::LockStripes(const std::bitset<kWriterStripes>& set) {
  for (size_t i = 0; i < kWriterStripes; i++) {
    if (set[i]) stripes_[i].mu.lock();
  }
}

void Store::UnlockStripes(const std::bitset<kWriterStripes>& set) {
  for (size_t i = kWriterStripes; i-- > 0;) {
    if (set[i]) stripes_[i].mu.unlock();
  }
}

Status Store::CheckOpen() const {
  int s = state_.load(std::memory_order_acquire);
  if (s == kOpen) return Status::OK();
  return Status::FailedPrecondition(s == kNew ? "store is not open"
                                              : "store is closed");
}

Status Store::CheckWritable() const {
  KVB_RETURN_IF_ERROR(CheckOpen());
  return WriteError();
}

Status Store::WriteError() const {
  if (!write_failed_.load(std::memory_order_acquire)) return Status::OK();
  std::lock_guard log(log_mu_);
  return write_error_;
}

Status Store::MakeSticky(Status s, std::string_view what) {
  std::lock_guard log(log_mu_);
  return MakeStickyLocked(std::move(s), what);
}

Status Store::MakeStickyLocked(Status s, std::string_view what) {
  if (write_error_.ok()) {
    write_error_ =
        Status::IOError("an earlier " + std::string(what) + " failed (" +
                        s.ToString() + "); close and reopen the store");
    write_failed_.store(true, std::memory_order_release);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Maps and store-level keys.

internal::MapBase* Store::FindMap(std::string_view name) const {
  for (const auto& m : maps_) {
    if (m->name() == name) return m.get();
  }
  return nullptr;
}

Status Store::RegisterMap(std::unique_ptr<internal::MapBase> map) {
  std::lock_guard state(state_mu_);
  if (state_.load() == kClosed)
    return Status::FailedPrecondition("store is closed");
  std::unique_lock maps(maps_mu_);
  if (FindMap(map->name()) != nullptr) {
    return Status::InvalidArgument("map '" + map->name() + "' already exists");
  }
  if (state_.load() == kOpen) {
    // Adopt the records of this name that replay kept without an owner.
    std::lock_guard orphans(orphan_mu_);
    std::vector<std::string> adopted;
    for (const auto& [full, json] : orphans_) {
      std::string_view name, key;
      SplitFullKey(full, &name, &key);
      if (name != map->name()) continue;
      KVB_RETURN_IF_ERROR(LoadValue(map.get(), key, json, -1));
      adopted.push_back(full);
    }
    for (const auto& full : adopted) orphans_.erase(full);
  }
  maps_.push_back(std::move(map));
  return Status::OK();
}

Status Store::ValidateStoreKey(std::string_view key) const {
  if (key.empty()) return Status::InvalidArgument("empty key");
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  std::string_view name, user;
  SplitFullKey(key, &name, &user);
  if (FindMap(name) != nullptr) {
    return Status::InvalidArgument("key '" + std::string(key) +
                                   "' belongs to map '" + std::string(name) +
                                   "'; use the map");
  }
  return Status::OK();
}

Status Store::SetRaw(std::string_view key, std::string_view json,
                     Durability d) {
  KVB_RETURN_IF_ERROR(CheckWritable());
  std::shared_lock maps(maps_mu_);
  KVB_RETURN_IF_ERROR(ValidateStoreKey(key));
  std::string rec;
  size_t start = BeginRecord(format_, 'S', "", key, &rec);
  rec.append(json);
  FinishRecord(format_, start, &rec);
  if (format_ == LogFormat::kLegacy) KVB_RETURN_IF_ERROR(CheckLegacyLines(rec));
  internal::LogPosition pos;
  {
    std::lock_guard orphans(orphan_mu_);
    KVB_RETURN_IF_ERROR(Append(rec, 1, &pos));
    auto it = orphans_.find(key);
    if (it != orphans_.end()) {
      it->second.assign(json);
    } else {
      orphans_.emplace(std::string(key), std::string(json));
    }
  }
  maps.unlock();
  return d == Durability::kFSync ? SyncTo(pos) : Status::OK();
}

Status Store::GetRaw(std::string_view key, std::string* json) const {
  KVB_RETURN_IF_ERROR(CheckOpen());
  std::lock_guard orphans(orphan_mu_);
  auto it = orphans_.find(key);
  if (it == orphans_.end()) return Status::NotFound();
  *json = it->second;
  return Status::OK();
}

Status Store::Delete(std::string_view key, Durability d) {
  KVB_RETURN_IF_ERROR(CheckWritable());
  std::shared_lock maps(maps_mu_);
  KVB_RETURN_IF_ERROR(ValidateStoreKey(key));
  internal::LogPosition pos;
  {
    std::lock_guard orphans(orphan_mu_);
    auto it = orphans_.find(key);
    if (it != orphans_.end()) {
      std::string rec;
      size_t start = BeginRecord(format_, 'D', "", key, &rec);
      FinishRecord(format_, start, &rec);
      KVB_RETURN_IF_ERROR(Append(rec, 1, &pos));
      orphans_.erase(it);
    }
  }
  maps.unlock();
  if (d != Durability::kFSync) return Status::OK();
  return pos.valid ? SyncTo(pos) : SyncAll();
}

// ---------------------------------------------------------------------------------------------
// Open, replay, close.

Status Store::Open(const std::string& path) {
  std::lock_guard state(state_mu_);
  int s = state_.load();
  if (s != kNew) {
    return Status::FailedPrecondition(s == kOpen ? "store is already open"
                                                 : "store is closed");
  }
  if (path.empty()) return Status::InvalidArgument("empty path");
  path_ = path;
  tmp_path_ = path + ".tmp";
  dir_ = DirName(path);
  Status st = OpenLog();
  if (!st.ok()) {
    ResetAfterFailedOpen();
    return st.WithContext("open " + path);
  }
  state_.store(kOpen, std::memory_order_release);
  StartBackground();
  return Status::OK();
}

Status Store::OpenLog() {
  if (options_.lock_file) {
    KVB_ASSIGN_OR_RETURN(lock_, env_->LockFile(path_ + ".lock"));
  }
  // A temp file is never the live log: it is what a Shrink interrupted by a
  // crash left.
  if (env_->FileExists(tmp_path_))
    KVB_RETURN_IF_ERROR(env_->RemoveFile(tmp_path_));
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                       env_->OpenFile(path_, OpenMode::kCreate));
  KVB_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  Header header;
  KVB_RETURN_IF_ERROR(ReadHeader(*file, size, &header));
  if (header.empty) {
    // New file (or one whose creation was torn): write the header durably, name
    // included.
    KVB_RETURN_IF_ERROR(file->Truncate(0));
    KVB_RETURN_IF_ERROR(file->Append(std::string(kNativeHeader) + "\n"));
    KVB_RETURN_IF_ERROR(file->Sync());
    KVB_RETURN_IF_ERROR(env_->SyncDir(dir_));
    format_ = LogFormat::kNative;
    log_size_ = kNativeHeader.size() + 1;
  } else {
    format_ = header.format;
    batches_ = header.batches;
    KVB_RETURN_IF_ERROR(Replay(file.get(), header.size, size));
  }
  file_ = std::move(file);
  synced_end_ = log_size_;
  log_bytes_ = log_size_;
  if (format_ == LogFormat::kLegacy && options_.upgrade_legacy_format) {
    KVB_RETURN_IF_ERROR(ShrinkTo(LogFormat::kNative));
  }
  return Status::OK();
}

Status Store::Replay(File* file, uint64_t start, uint64_t size) {
  KVB_RETURN_IF_ERROR(ReserveForReplay(file, start, size));
  internal::MapBase* cache = nullptr;
  ScanResult scan;
  KVB_RETURN_IF_ERROR(ScanLog(
      *file, format_, start, size,
      [&](const RecordView& rec) { return ApplyRecord(rec, &cache); }, &scan));
  for (auto& m : maps_) m->TrimAfterLoad();
  // Only a value that is still live fails the open: an undecodable record that
  // a later one replaced or deleted harms nothing.
  KVB_RETURN_IF_ERROR(FailOnSchemaErrors());
  if (scan.stop == ScanResult::Stop::kCorrupt) {
    if (!options_.recover) {
      return Status::Corruption(
          scan.error + " (Options::recover keeps the records before it)");
    }
    KVB_RETURN_IF_ERROR(CutTail(file, scan.good_end, size, /*save=*/true));
  } else if (scan.stop == ScanResult::Stop::kTornTail) {
    // A torn last append: cut it so the next record does not glue onto the
    // fragment.
    KVB_RETURN_IF_ERROR(CutTail(file, scan.good_end, size, /*save=*/false));
  }
  log_size_ = scan.good_end;
  records_ = scan.records;
  loaded_records_ = scan.records;
  return Status::OK();
}

// Growing hash tables one doubling at a time costs about a tenth of a replay,
// so guess the record count from the density of line feeds in the first 64 KiB
// and reserve for it (a log of many overwrites over-reserves; TrimAfterLoad
// gives that back).
Status Store::ReserveForReplay(File* file, uint64_t start, uint64_t size) {
  if (maps_.empty() || size <= start) return Status::OK();
  std::string sample(
      static_cast<size_t>(std::min<uint64_t>(size - start, 64 << 10)), '\0');
  size_t got = 0;
  KVB_RETURN_IF_ERROR(file->ReadAt(start, sample.size(), sample.data(), &got));
  size_t lines = std::count(sample.data(), sample.data() + got, '\n');
  if (lines < 2) return Status::OK();
  double records = static_cast<double>(size - start) / got * (lines / 2.0);
  size_t per_map = static_cast<size_t>(std::min(records, 16e6) /
                                       static_cast<double>(maps_.size()));
  for (auto& m : maps_) m->ReserveForLoad(per_map);
  return Status::OK();
}

Status Store::ApplyRecord(const RecordView& rec, internal::MapBase** cache) {
  std::string_view name, key;
  SplitFullKey(rec.key, &name, &key);
  internal::MapBase* map = *cache;
  if (map == nullptr || map->name() != name) {
    map = FindMap(name);
    if (map != nullptr) *cache = map;
  }
  if (map == nullptr) {
    // No registered map: keep the raw JSON for a map registered later or
    // store-level Get.
    if (rec.op == 'S') {
      auto it = orphans_.find(rec.key);
      if (it != orphans_.end()) {
        it->second.assign(rec.value);
      } else {
        orphans_.emplace(std::string(rec.key), std::string(rec.value));
      }
    } else {
      auto it = orphans_.find(rec.key);
      if (it != orphans_.end()) orphans_.erase(it);
    }
    return Status::OK();
  }
  if (rec.op == 'D') {
    map->LoadDelete(key);
    return Status::OK();
  }
  return LoadValue(map, key, rec.value, static_cast<int64_t>(rec.offset));
}

Status Store::LoadValue(internal::MapBase* map, std::string_view key,
                        std::string_view json, int64_t offset) {
  Status s = map->LoadSet(key, json);
  if (s.ok()) return s;
  std::string what =
      "value of map '" + map->name() + "' key '" + std::string(key) + "'";
  if (offset >= 0) what += " at offset " + std::to_string(offset);
  // The legacy format has no checksum, so text that is not JSON at all may be
  // damage (a torn record glued to the next one): a corrupt record, which
  // recover may cut (and save). JSON that does not fit the type, or anything
  // whose checksum matched, is intact: a schema error, never cut.
  if (s.IsCorruption() && format_ == LogFormat::kLegacy && offset >= 0)
    return Status::Corruption(what + ": " + std::string(s.message()));
  Status error = Status::InvalidArgument(
      what +
      " does not decode as the map's type (wrong value type for this "
      "map? Options::on_schema_error = kKeepRaw opens with it kept as "
      "raw JSON): " +
      std::string(s.message()));
  if (offset < 0 && options_.on_schema_error == SchemaErrorPolicy::kFail)
    return error;
  // Replay keeps it raw either way: a later record of the key may replace it.
  // FailOnSchemaErrors decides at the end.
  map->LoadRaw(key, json);
  if (offset >= 0) schema_errors_.push_back({map, std::string(key), error});
  return Status::OK();
}

Status Store::FailOnSchemaErrors() {
  std::vector<SchemaError> errors;
  errors.swap(schema_errors_);
  if (options_.on_schema_error != SchemaErrorPolicy::kFail) return Status::OK();
  for (const SchemaError& e : errors) {
    if (e.map->HasRaw(e.key)) return e.error;
  }
  return Status::OK();
}

Status Store::CutTail(File* file, uint64_t good_end, uint64_t size, bool save) {
  if (save) {
    // Keep the discarded bytes for a human: recovery should never destroy
    // evidence.
    std::string tail(static_cast<size_t>(size - good_end), '\0');
    size_t got = 0;
    KVB_RETURN_IF_ERROR(file->ReadAt(good_end, tail.size(), tail.data(), &got));
    tail.resize(got);
    // A file left by an earlier recovery is kept: the first free name of
    // "<path>.corrupt", "<path>.corrupt.1", ...
    std::string aside = path_ + ".corrupt";
    for (int i = 1; env_->FileExists(aside); i++)
      aside = path_ + ".corrupt." + std::to_string(i);
    KVB_RETURN_IF_ERROR(env_->WriteFileAtomically(aside, tail));
  }
  KVB_RETURN_IF_ERROR(file->Truncate(good_end));
  KVB_RETURN_IF_ERROR(file->Sync());
  truncated_bytes_ = size - good_end;
  return Status::OK();
}

void Store::ResetAfterFailedOpen() {
  schema_errors_.clear();
  std::unique_lock maps(maps_mu_);
  for (auto& m : maps_) m->Clear();
  {
    std::lock_guard orphans(orphan_mu_);
    orphans_.clear();
  }
  std::lock_guard log(log_mu_);
  file_.reset();
  lock_.reset();
  batches_ = false;
  log_size_ = 0;
  records_ = 0;
  loaded_records_ = 0;
  truncated_bytes_ = 0;
}

Status Store::Close() {
  std::lock_guard state(state_mu_);
  if (state_.load() != kOpen) return Status::OK();
  // Refuse new calls first; then wait for the background threads and any
  // Shrink.
  state_.store(kClosed, std::memory_order_release);
  StopBackground();
  std::lock_guard shrink(shrink_mu_);
  Status s = FlushDirty();
  Status sync = SyncAll();
  if (s.ok()) s = sync;
  if (!WriteError().ok()) {
    // The kernel may have dropped pages of the log that a reopen in this boot
    // would still read: leave a log written and synced from memory instead.
    // The error stays the result: this handle lost data it had acknowledged.
    if (s.ok()) s = WriteError();
    Status rewrite = RewriteLog(format_);
    if (!rewrite.ok())
      s = s.WithContext("rewriting the log from memory: " + rewrite.ToString());
  }
  {
    std::lock_guard log(log_mu_);
    if (file_) {
      Status c = file_->Close();
      if (s.ok()) s = c;
      file_.reset();
    }
  }
  lock_.reset();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Appending and group commit.

Status Store::Append(std::string_view records, uint64_t n,
                     internal::LogPosition* pos) {
  internal::SpinningGuard lock(log_mu_);
  return AppendLocked(records, n, pos);
}

Status Store::AppendBatch(std::string_view body, uint64_t n,
                          internal::LogPosition* pos) {
  // Framing copies the body once; the write that follows dominates.
  std::string frame;
  frame.reserve(body.size() + 48);
  AppendBatchHeader(n, body.size(), &frame);
  frame.append(body);
  internal::SpinningGuard lock(log_mu_);
  KVB_RETURN_IF_ERROR(EnableBatchesLocked());
  return AppendLocked(frame, n, pos);
}

// A version-1 reader does not know batch records, so a log gets the version-2
// header before its first one. Both headers have the same length: the upgrade
// rewrites the version digit in place and syncs it before the batch is
// written, so a crash leaves either header in front of a valid log.
Status Store::EnableBatchesLocked() {
  if (batches_) return Status::OK();
  if (!file_) return Status::FailedPrecondition("store is closed");
  KVB_RETURN_IF_ERROR(write_error_);
  const size_t digit = kNativeHeaderV2.size() - 1;
  KVB_RETURN_IF_ERROR(file_->WriteAt(digit, kNativeHeaderV2.substr(digit)));
  Status s = file_->Sync();
  if (!s.ok()) return MakeStickyLocked(s, "fsync of the log header");
  batches_ = true;
  return Status::OK();
}

Status Store::AppendLocked(std::string_view records, uint64_t n,
                           internal::LogPosition* pos) {
  if (!file_) return Status::FailedPrecondition("store is closed");
  KVB_RETURN_IF_ERROR(write_error_);
  Status s = file_->Append(records);
  appends_.fetch_add(1, std::memory_order_relaxed);
  if (!s.ok()) {
    // A failed write may have left a prefix of the records; cut it so later
    // records do not glue onto it. If even that fails the file's tail is
    // unknown: refuse further writes.
    if (!file_->Truncate(log_size_).ok())
      return MakeStickyLocked(s, "log append (not undone)");
    return s;
  }
  log_size_ += records.size();
  log_bytes_.store(log_size_, std::memory_order_relaxed);
  records_.fetch_add(n, std::memory_order_relaxed);
  if (shrinking_) {
    pending_.append(records);
    pending_records_ += n;
  }
  pos->generation = generation_;
  pos->end = log_size_;
  pos->valid = true;
  return Status::OK();
}

Status Store::SyncAll() {
  internal::LogPosition pos;
  {
    std::lock_guard lock(log_mu_);
    if (!file_) return Status::FailedPrecondition("store is closed");
    pos.generation = generation_;
    pos.end = log_size_;
    pos.valid = true;
  }
  return SyncTo(pos);
}

// Group commit: one caller at a time runs fdatasync (the leader) for everything
// appended so far; callers arriving meanwhile wait for that round and, if it
// did not cover their record, lead the next one. The sync runs without log_mu_,
// so appenders never wait for the disk.
Status Store::SyncTo(internal::LogPosition pos) {
  sync_requests_.fetch_add(1, std::memory_order_relaxed);
  KVB_RETURN_IF_ERROR(WriteError());
  std::unique_lock lock(sync_mu_);
  while (true) {
    if (!sync_error_.ok()) return sync_error_;
    if (pos.generation < generation_) {
      // A Shrink replaced the log since; the new log holds this record's
      // effect.
      pos.generation = generation_;
      pos.end = gen_base_;
    }
    if (synced_end_ >= pos.end && !dir_sync_needed_) return Status::OK();
    if (sync_running_) {
      uint64_t round = sync_round_;
      sync_cv_.wait(lock, [&] { return sync_round_ != round; });
      if (!last_round_status_.ok() && last_round_gen_ == pos.generation &&
          last_round_end_ >= pos.end) {
        return last_round_status_;
      }
      continue;
    }
    Status s = RunSyncRoundLocked(lock);
    if (!s.ok()) return s;
  }
}

// One leader round of the group commit: syncs the log up to its current end for
// every waiter. Called and returns with `lock` (sync_mu_) held; drops it around
// the disk calls so appenders and new waiters never wait for the disk.
Status Store::RunSyncRoundLocked(std::unique_lock<std::mutex>& lock) {
  sync_running_ = true;
  bool need_dir = dir_sync_needed_;
  lock.unlock();
  std::shared_ptr<File> file;
  internal::LogPosition target;
  {
    std::lock_guard log(log_mu_);
    file = file_;
    target.generation = generation_;
    target.end = log_size_;
  }
  Status s =
      file ? Status::OK() : Status::FailedPrecondition("store is closed");
  if (s.ok() && need_dir) s = env_->SyncDir(dir_);
  if (s.ok()) {
    s = file->DataSync();
    syncs_.fetch_add(1, std::memory_order_relaxed);
    // After a failed fdatasync the kernel may have dropped the dirty pages
    // and marked them clean, so a later fdatasync could "succeed" without
    // the data: stop writing.
    if (!s.ok()) s = MakeSticky(s, "fdatasync of the log");
  }
  lock.lock();
  sync_running_ = false;
  sync_round_++;
  last_round_status_ = s;
  last_round_gen_ = target.generation;
  last_round_end_ = target.end;
  if (s.ok() && target.generation == generation_) {
    synced_end_ = std::max(synced_end_, target.end);
    if (need_dir) dir_sync_needed_ = false;
  } else if (!s.ok()) {
    sync_error_ = s;
  }
  sync_cv_.notify_all();
  return s;
}

Status Store::FlushDirty(const internal::MapBase* only) {
  std::lock_guard flush(flush_mu_);
  std::shared_lock maps(maps_mu_);
  auto chosen = [only](const auto& m) { return only == nullptr || m == only; };
  bool any = false;
  for (const auto& m : maps_) any = any || (chosen(m.get()) && m->DirtyCount());
  if (!any) return Status::OK();
  // All writers are held while the batch is built and appended: a writer that
  // appended a newer record of a dirty key after we read it would otherwise be
  // overtaken by our older one.
  LockAllWriters();
  std::string batch;
  uint64_t n = 0;
  for (const auto& m : maps_) {
    if (chosen(m.get())) m->CollectDirty(&batch, &n);
  }
  Status s;
  if (n > 0) {
    // Framed as one batch record in the native format, so a torn flush adds
    // nothing: the records of an async WriteBatch stay all-or-nothing.
    internal::LogPosition pos;
    s = n > 1 && format_ == LogFormat::kNative ? AppendBatch(batch, n, &pos)
                                               : Append(batch, n, &pos);
    if (s.ok()) {
      for (auto& m : maps_) {
        if (chosen(m.get())) m->ClearDirty();
      }
      flushes_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  UnlockAllWriters();
  return s;
}

Status Store::FSyncAll() {
  KVB_RETURN_IF_ERROR(CheckWritable());
  KVB_RETURN_IF_ERROR(FlushDirty());
  return SyncAll();
}

// ---------------------------------------------------------------------------------------------
// Shrink.

Status Store::Shrink() {
  KVB_RETURN_IF_ERROR(CheckWritable());
  return ShrinkTo(format_);
}

void Store::BeginCapture() {
  // With every writer held, no change is between its append and its memory
  // update, so each change is either already in memory (the snapshot sees it)
  // or not yet appended (captured).
  std::lock_guard orphans(orphan_mu_);
  LockAllWriters();
  {
    std::lock_guard log(log_mu_);
    shrinking_ = true;
    pending_.clear();
    pending_records_ = 0;
  }
  UnlockAllWriters();
}

void Store::EndCapture() {
  std::lock_guard log(log_mu_);
  shrinking_ = false;
  pending_.clear();
  pending_.shrink_to_fit();
  pending_records_ = 0;
}

Status Store::ShrinkTo(LogFormat target) {
  std::unique_lock shrink(shrink_mu_, std::try_to_lock);
  if (!shrink.owns_lock()) return Status::Busy("shrink already in progress");
  return RewriteLog(target);
}

// The log a rewrite builds: appended to in batches, synced, then renamed over
// the live log.
struct Store::NewLog {
  std::shared_ptr<File> file;
  uint64_t size = 0, records = 0;
  bool batches = false;  // written with the version-2 (batch) header

  Status Append(std::string* batch) {
    KVB_RETURN_IF_ERROR(file->Append(*batch));
    size += batch->size();
    return Status::OK();
  }
};

Status Store::RewriteLog(LogFormat target) {
  std::shared_lock maps(maps_mu_);
  BeginCapture();
  ScopeExit cleanup([&] {
    EndCapture();
    env_->RemoveFile(tmp_path_).IgnoreError();
  });
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<File> tmp_file,
                       env_->OpenFile(tmp_path_, OpenMode::kTruncate));
  NewLog out;
  out.file = std::move(tmp_file);
  KVB_RETURN_IF_ERROR(WriteSnapshotTo(target, &out));
  KVB_RETURN_IF_ERROR(CatchUp(&out));
  // 3. Switch over with appenders blocked: last tail, sync, rename, sync the
  // directory.
  std::lock_guard log(log_mu_);
  KVB_RETURN_IF_ERROR(FinishNewLogLocked(&out));
  KVB_RETURN_IF_ERROR(env_->RenameFile(tmp_path_, path_));
  cleanup.Dismiss();
  // From here the new file is the log, whatever happens next.
  Status dir = env_->SyncDir(dir_);
  AdoptNewLogLocked(out, target, dir.ok());
  shrinks_.fetch_add(1, std::memory_order_relaxed);
  return dir;
}

// 1. The snapshot: store-level keys, then every map, written without any
// global lock. A log that may hold batch records keeps the version-2 header
// (records captured during the rewrite are copied as they are).
Status Store::WriteSnapshotTo(LogFormat target, NewLog* out) {
  {
    std::lock_guard log(log_mu_);
    out->batches = batches_ && target == LogFormat::kNative;
  }
  internal::SnapshotSink sink = [out](std::string* batch) {
    return out->Append(batch);
  };
  std::string buf = std::string(HeaderFor(target, out->batches)) + "\n";
  {
    std::lock_guard orphans(orphan_mu_);
    for (const auto& [key, json] : orphans_) {
      size_t start = BeginRecord(target, 'S', "", key, &buf);
      buf.append(json);
      FinishRecord(target, start, &buf);
      out->records++;
    }
  }
  KVB_RETURN_IF_ERROR(sink(&buf));
  for (const auto& m : maps_)
    KVB_RETURN_IF_ERROR(m->WriteSnapshot(target, sink, &out->records));
  // Sync the bulk now, so the final step (which blocks appenders) syncs only
  // the tail.
  Status synced = out->file->DataSync();
  if (!synced.ok()) return MakeSticky(synced, "fdatasync of the new log");
  return Status::OK();
}

// 2. Catch up with records appended meanwhile, outside the lock.
Status Store::CatchUp(NewLog* out) {
  for (int round = 0; round < 3; round++) {
    std::string chunk;
    uint64_t n = 0;
    {
      std::lock_guard log(log_mu_);
      chunk.swap(pending_);
      n = pending_records_;
      pending_records_ = 0;
    }
    if (chunk.empty()) break;
    KVB_RETURN_IF_ERROR(out->Append(&chunk));
    out->records += n;
  }
  return Status::OK();
}

// The last tail, the header's version if the first batch arrived during the
// rewrite, and the fsync that must precede the rename.
Status Store::FinishNewLogLocked(NewLog* out) {
  if (!pending_.empty()) {
    KVB_RETURN_IF_ERROR(out->Append(&pending_));
    out->records += pending_records_;
  }
  if (batches_ && !out->batches) {
    const size_t digit = kNativeHeaderV2.size() - 1;
    KVB_RETURN_IF_ERROR(
        out->file->WriteAt(digit, kNativeHeaderV2.substr(digit)));
  }
  Status synced = out->file->Sync();
  if (!synced.ok()) return MakeStickyLocked(synced, "fsync of the new log");
  return Status::OK();
}

void Store::AdoptNewLogLocked(const NewLog& out, LogFormat target,
                              bool dir_synced) {
  file_ = out.file;
  log_size_ = out.size;
  log_bytes_ = out.size;
  records_ = out.records;
  if (format_ != target)
    format_ = target;  // only at Open (upgrade): writers read it unlocked
  shrinking_ = false;
  pending_.clear();
  pending_.shrink_to_fit();
  pending_records_ = 0;
  std::lock_guard sync(sync_mu_);
  generation_++;
  gen_base_ = out.size;
  // If the rename is not yet durable, neither is anything in the new file.
  synced_end_ = dir_synced ? out.size : 0;
  dir_sync_needed_ = !dir_synced;
  sync_cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------
// Background work and stats.

void Store::StartBackground() {
  std::lock_guard lock(bg_mu_);
  stop_ = false;
  if (options_.background_flush)
    flusher_ = std::thread([this] { FlusherLoop(); });
  if (options_.auto_shrink_ratio > 0) {
    auto every = options_.auto_shrink_interval;
    double ratio = options_.auto_shrink_ratio;
    shrinker_ =
        std::thread([this, every, ratio] { AutoShrinkLoop(every, ratio); });
  }
}

void Store::StopBackground() {
  {
    std::lock_guard lock(bg_mu_);
    stop_ = true;
    bg_cv_.notify_all();
  }
  if (flusher_.joinable()) flusher_.join();
  if (shrinker_.joinable()) shrinker_.join();
}

void Store::FlusherLoop() {
  std::unique_lock lock(bg_mu_);
  while (!stop_) {
    bg_cv_.wait_for(lock, sync_interval_,
                    [this] { return stop_ || interval_changed_; });
    if (stop_) break;
    if (interval_changed_) {
      interval_changed_ = false;  // re-arm with the new interval
      continue;
    }
    lock.unlock();
    Status s = FlushDirty();
    if (s.ok()) s = SyncAll();
    if (!s.ok()) ReportBackgroundError(s);
    lock.lock();
  }
}

void Store::AutoShrinkLoop(std::chrono::milliseconds every, double ratio) {
  std::unique_lock lock(bg_mu_);
  while (!stop_) {
    bg_cv_.wait_for(lock, every, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Stats st = GetStats();
    bool due = st.live_keys > 0 ? static_cast<double>(st.records) >=
                                      ratio * static_cast<double>(st.live_keys)
                                : st.records > 0;
    if (due) {
      Status s = Shrink();
      if (!s.ok() && !s.IsBusy()) ReportBackgroundError(s);
    }
    lock.lock();
  }
}

Status Store::StartAutoShrink(std::chrono::milliseconds every, double ratio) {
  KVB_RETURN_IF_ERROR(CheckOpen());
  if (!(ratio > 1.0))
    return Status::InvalidArgument("auto-shrink ratio must be > 1");
  if (every.count() <= 0)
    return Status::InvalidArgument("auto-shrink interval must be > 0");
  std::lock_guard lock(bg_mu_);
  if (shrinker_.joinable())
    return Status::FailedPrecondition("auto-shrink already running");
  shrinker_ =
      std::thread([this, every, ratio] { AutoShrinkLoop(every, ratio); });
  return Status::OK();
}

void Store::ReportBackgroundError(const Status& s) {
  {
    std::lock_guard lock(bg_mu_);
    bg_error_ = s;
  }
  if (options_.on_background_error) options_.on_background_error(s);
}

Status Store::background_error() const {
  std::lock_guard lock(bg_mu_);
  return bg_error_;
}

void Store::SetSyncInterval(std::chrono::milliseconds interval) {
  std::lock_guard lock(bg_mu_);
  sync_interval_ = interval;
  interval_changed_ = true;
  bg_cv_.notify_all();
}

std::chrono::milliseconds Store::sync_interval() const {
  std::lock_guard lock(bg_mu_);
  return sync_interval_;
}

Stats Store::GetStats() const {
  Stats st;
  {
    std::shared_lock maps(maps_mu_);
    for (const auto& m : maps_) {
      st.live_keys += m->LiveCount();
      st.dirty_keys += m->DirtyCount();
      st.raw_keys += m->RawCount();
    }
  }
  {
    std::lock_guard orphans(orphan_mu_);
    st.live_keys += orphans_.size();
  }
  st.records = records_.load(std::memory_order_relaxed);
  st.log_bytes = log_bytes_.load(std::memory_order_relaxed);
  st.loaded_records = loaded_records_.load(std::memory_order_relaxed);
  st.truncated_bytes = truncated_bytes_.load(std::memory_order_relaxed);
  st.appends = appends_.load(std::memory_order_relaxed);
  st.flushes = flushes_.load(std::memory_order_relaxed);
  st.syncs = syncs_.load(std::memory_order_relaxed);
  st.sync_requests = sync_requests_.load(std::memory_order_relaxed);
  st.shrinks = shrinks_.load(std::memory_order_relaxed);
  {
    std::lock_guard log(log_mu_);
    st.format = format_;
  }
  return st;
}

}  // namespace kvb::typedmap
