// Compaction, backup and the snapshot iterator.
//
// Compaction (Pogreb §10 with D2 and D5 fixed): pick fragmented sealed
// segments; copy each live record (the index slot still points at it) verbatim
// to the head of the log and repoint the slot; then make the copies durable and
// write a checkpoint that no longer mentions the sources; only then retire the
// sources from memory and delete their files. A segment that holds delete
// records is compacted only together with every older segment, because a delete
// record may be dropped only when no older put of its key survives.
#include <algorithm>
#include <ostream>

#include "core/coding.h"
#include "engines/linhash/db_impl.h"

namespace kvb::linhash {
namespace {

constexpr size_t kCopyBatchRecords = 256;

}  // namespace

Result<CompactionResult> DB::Impl::Compact() {
  std::unique_lock cl(compact_mu_, std::try_to_lock);
  if (!cl.owns_lock())
    return Status::Busy("linhash: a compaction or backup is running");
  CompactionResult result;
  if (!retired_.empty() || !freed_.empty()) {
    // An earlier compaction could not remove its sources: a new checkpoint
    // (which cannot list them) first, then retry.
    KVB_RETURN_IF_ERROR(Checkpoint());
    KVB_RETURN_IF_ERROR(RemoveRetired(&result));
  }
  std::vector<std::shared_ptr<Segment>> victims;
  {
    std::lock_guard lock(writer_mu_);
    KVB_RETURN_IF_ERROR(CheckWritable());
    auto qualifies = [&](const Segment& s) {
      return s.end() >= options_.compaction_min_segment_size &&
             static_cast<double>(s.dead_bytes) >=
                 options_.compaction_min_fragmentation *
                     static_cast<double>(s.end());
    };
    // The active segment can be compacted too, once sealed.
    if (active() != nullptr && qualifies(*active()))
      KVB_RETURN_IF_ERROR(Rotate());
    std::vector<std::shared_ptr<Segment>> sealed;
    for (const auto& [seq, seg] : segments_) {
      if (seg.get() != active()) sealed.push_back(seg);
    }
    for (size_t i = sealed.size(); i-- > 0;) {
      if (!qualifies(*sealed[i])) continue;
      if (sealed[i]->delete_records > 0) {
        victims.assign(sealed.begin(),
                       sealed.begin() + static_cast<long>(i) + 1);
        for (size_t j = i + 1; j < sealed.size(); ++j) {
          if (qualifies(*sealed[j])) victims.push_back(sealed[j]);
        }
        break;
      }
      victims.push_back(sealed[i]);
    }
  }
  if (victims.empty()) {
    // Sources left by an earlier failed run were removed above: this call
    // deleted segments, so it counts.
    if (result.compacted_segments > 0)
      compactions_.fetch_add(1, std::memory_order_relaxed);
    return result;
  }
  std::sort(victims.begin(), victims.end(),
            [](const auto& a, const auto& b) { return a->seq() < b->seq(); });
  for (const auto& v : victims)
    KVB_RETURN_IF_ERROR(CopyLiveRecords(v.get(), &result));
  RetireSources(victims);
  // Copies durable and a checkpoint without the sources before any source is
  // deleted (D5).
  KVB_RETURN_IF_ERROR(Checkpoint());
  KVB_RETURN_IF_ERROR(RemoveRetired(&result));
  compactions_.fetch_add(1, std::memory_order_relaxed);
  return result;
}

// No slot points into the sources any more: drop them from memory, but keep
// their ids reserved until their files are durably gone, so that a rotation
// cannot create a second file with the same id (issue 14, defect 2).
void DB::Impl::RetireSources(
    const std::vector<std::shared_ptr<Segment>>& victims) {
  std::lock_guard lock(writer_mu_);
  std::unique_lock ilock(index_mu_);
  for (const auto& v : victims) {
    id_reserved_[v->id()] = true;
    retired_.push_back({v->id(), v->path()});
    seg_table_[v->id()] = nullptr;
    segments_.erase(v->seq());
  }
}

// Deletes retired sources. REQUIRES: compact_mu_ held and a checkpoint written
// since they were retired (so none of them is needed). A failed unlink leaves
// the rest for the next compaction (or the next Open, which removes sources
// that the checkpoint no longer lists); ids are freed only after SyncDir.
Status DB::Impl::RemoveRetired(CompactionResult* result) {
  while (!retired_.empty()) {
    Status s = env_->RemoveFile(retired_.back().path);
    if (!s.ok() && !s.IsNotFound()) {
      return s.WithContext("linhash: removing compaction source");
    }
    freed_.push_back(retired_.back().id);
    retired_.pop_back();
    if (result != nullptr) result->compacted_segments++;
  }
  KVB_RETURN_IF_ERROR(env_->SyncDir(dir_));
  std::lock_guard lock(writer_mu_);
  for (uint32_t id : freed_) id_reserved_[id] = false;
  freed_.clear();
  return Status::OK();
}

namespace {

// Reads up to kCopyBatchRecords records of `src` into *pending (cleared
// first); *done when the segment ends. Damage is Corruption: compaction only
// runs on segments that opened clean.
Status ReadCopyBatch(LogReader* reader, const Segment& src,
                     std::vector<PendingRecord>* pending, bool* done) {
  pending->clear();
  while (pending->size() < kCopyBatchRecords) {
    RecordView rec{};
    uint64_t off = 0;
    LogReader::Result r = reader->Next(&rec, &off);
    KVB_RETURN_IF_ERROR(reader->io_status());
    if (r == LogReader::Result::kEnd) {
      *done = true;
      return Status::OK();
    }
    if (r == LogReader::Result::kDamaged) {
      return Status::Corruption("linhash: damaged record at offset " +
                                std::to_string(off) + " of " + src.path() +
                                " during compaction");
    }
    PendingRecord p{off, 0, rec.type, {}, std::string(rec.key)};  // hash: later
    if (rec.type == RecordType::kPut) {
      p.bytes.assign(
          rec.key.data() - (rec.size - rec.key.size() - rec.value.size()),
          rec.size);
    }
    pending->push_back(std::move(p));
  }
  return Status::OK();
}

}  // namespace

Status DB::Impl::CopyLiveRecords(Segment* src, CompactionResult* result) {
  LogReader reader(src->file(), kSegmentHeaderSize, src->end());
  std::vector<PendingRecord> pending;
  bool done = false;
  while (!done) {
    KVB_RETURN_IF_ERROR(ReadCopyBatch(&reader, *src, &pending, &done));
    for (PendingRecord& p : pending) p.hash = HashKey(p.key);
    // One writer-lock hold per group of records, so other writers interleave.
    std::lock_guard lock(writer_mu_);
    KVB_RETURN_IF_ERROR(CheckWritable());
    for (const PendingRecord& p : pending) {
      KVB_RETURN_IF_ERROR(MoveIfLiveLocked(*src, p, result));
    }
  }
  result->reclaimed_bytes += src->dead_bytes;
  return Status::OK();
}

Status DB::Impl::MoveIfLiveLocked(const Segment& src, const PendingRecord& p,
                                  CompactionResult* result) {
  SlotRef live;
  const uint64_t old_loc =
      MakeLoc(p.hash, src.id(), static_cast<uint32_t>(p.offset));
  if (p.type == RecordType::kPut) {
    index_.ForEachCandidate(p.hash, [&](Bucket* b, int i) {
      if (b->loc[i] != old_loc) return false;
      live = {b, i};
      return true;
    });
  }
  if (live.bucket == nullptr) {
    result->reclaimed_records++;
    return Status::OK();
  }
  uint64_t off = 0;
  KVB_RETURN_IF_ERROR(AppendLocked(p.bytes, &off));
  Segment* a = active();
  {
    std::unique_lock ilock(index_mu_);
    index_.Replace(live, MakeLoc(p.hash, a->id(), static_cast<uint32_t>(off)));
  }
  a->put_records++;
  return Status::OK();
}

// ---- Backup ----

Status DB::Impl::Backup(const std::string& dir) {
  KVB_RETURN_IF_ERROR(CheckOpen());
  auto st = env_->Stat(dir);
  if (st.ok()) {
    KVB_ASSIGN_OR_RETURN(auto names, env_->ListDir(dir));
    if (!names.empty())
      return Status::InvalidArgument("linhash: backup target is not empty");
  } else {
    KVB_RETURN_IF_ERROR(env_->CreateDirsDurably(dir));
  }
  // No compaction (so no segment deletion) while the copy runs.
  std::lock_guard cl(compact_mu_);
  CheckpointImage img;
  std::vector<std::shared_ptr<Segment>> segs;
  {
    std::lock_guard lock(writer_mu_);
    if (Segment* a = active(); a != nullptr && !options_.read_only) {
      Status s = a->Flush();
      if (!s.ok()) return SetBackgroundError(s);
    }
    KVB_RETURN_IF_ERROR(CaptureLocked(&img));
    for (const auto& [seq, seg] : segments_) segs.push_back(seg);
  }
  SealImage(&img);
  std::string buf;
  for (size_t i = 0; i < segs.size(); ++i) {
    const uint64_t size = img.segments[i].size;
    KVB_ASSIGN_OR_RETURN(
        auto out, env_->OpenFile(JoinPath(dir, BaseName(segs[i]->path())),
                                 OpenMode::kCreateNew));
    for (uint64_t pos = 0; pos < size;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(size - pos, 1 << 20));
      buf.resize(n);
      size_t got = 0;
      KVB_RETURN_IF_ERROR(segs[i]->file()->ReadAt(pos, n, buf.data(), &got));
      if (got != n) return Status::IOError("linhash: short read during backup");
      KVB_RETURN_IF_ERROR(out->Append(buf));
      pos += n;
    }
    KVB_RETURN_IF_ERROR(out->Sync());
    KVB_RETURN_IF_ERROR(out->Close());
  }
  return WriteCheckpointFile(dir, img);
}

// ---- Iterator ----

class SnapshotIterator final : public Iterator {
 public:
  SnapshotIterator(DB::Impl* db, std::vector<uint64_t> locs,
                   std::vector<std::shared_ptr<Segment>> pins, Status status)
      : db_(db),
        locs_(std::move(locs)),
        pins_(std::move(pins)),
        status_(std::move(status)) {
    for (const auto& p : pins_) by_id_[p->id()] = p.get();
  }
  bool Next() override {
    if (!status_.ok() || pos_ >= locs_.size()) return false;
    const uint64_t loc = locs_[pos_++];
    auto it = by_id_.find(LocSegment(loc));
    if (it == by_id_.end()) {
      status_ = Status::Corruption("linhash iterator: missing segment");
      return false;
    }
    RecordView rec{};
    std::shared_lock lock(db_->index_mu());
    status_ = it->second->ReadRecord(LocOffset(loc), db_->verify_checksums(),
                                     &scratch_, &rec);
    if (!status_.ok()) return false;
    key_.assign(rec.key);
    value_.assign(rec.value);
    return true;
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override { return status_; }

 private:
  DB::Impl* db_;
  std::vector<uint64_t> locs_;
  std::vector<std::shared_ptr<Segment>>
      pins_;  // keeps compacted segments readable
  std::map<uint32_t, Segment*> by_id_;
  size_t pos_ = 0;
  std::string scratch_, key_, value_;
  Status status_;
};

std::unique_ptr<Iterator> DB::Impl::NewIterator() {
  std::vector<uint64_t> locs;
  std::vector<std::shared_ptr<Segment>> pins;
  Status status;
  {
    std::lock_guard lock(writer_mu_);
    // Loading every chunk first: a walk through a chunk that failed its check
    // would silently skip keys.
    status = CheckIndex(index_.LoadAll());
    if (status.ok()) {
      locs.reserve(index_.count());
      index_.ForEachSlot([&](uint64_t loc, uint32_t) { locs.push_back(loc); });
      for (const auto& [seq, seg] : segments_) pins.push_back(seg);
    }
  }
  return std::make_unique<SnapshotIterator>(this, std::move(locs),
                                            std::move(pins), status);
}

// ---- Verification (inspect) ----

namespace {

// Counts the records of one segment into *n, up to the first damaged one,
// which is reported and sets *damaged. Returns only read errors.
Status CountSegmentRecords(Segment* seg, std::ostream& out, uint64_t* n,
                           bool* damaged) {
  LogReader reader(seg->file(), kSegmentHeaderSize, seg->end());
  for (;;) {
    RecordView rec{};
    uint64_t off = 0;
    LogReader::Result r = reader.Next(&rec, &off);
    if (!reader.io_status().ok()) return reader.io_status();
    if (r == LogReader::Result::kEnd) return Status::OK();
    if (r == LogReader::Result::kDamaged) {
      out << "  DAMAGED record at offset " << off << " of " << seg->path()
          << "\n";
      *damaged = true;
      return Status::OK();
    }
    ++*n;
  }
}

// A key as printable text: bytes outside ASCII (and '\\') as \xNN.
void PrintKey(std::ostream& out, std::string_view key) {
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out << c;
    } else {
      out << "\\x" << kHex[c >> 4] << kHex[c & 15];
    }
  }
}

}  // namespace

Status DB::Impl::VerifyAll(std::ostream& out, bool dump_keys) {
  std::lock_guard lock(writer_mu_);
  Status result = index_.Verify();
  if (!result.ok()) {
    out << "  index: " << result.ToString() << "\n";
    return result;
  }
  uint64_t records = 0;
  for (const auto& [seq, seg] : segments_) {
    uint64_t n = 0;
    bool damaged = false;
    KVB_RETURN_IF_ERROR(CountSegmentRecords(seg.get(), out, &n, &damaged));
    if (damaged) {
      result = Status::Corruption("linhash: damaged record in " + seg->path());
    }
    out << "  segment " << BaseName(seg->path()) << ": " << seg->end()
        << " bytes, " << n << " records, " << seg->dead_bytes << " dead bytes"
        << (seg->sealed() ? "" : " (active)") << "\n";
    records += n;
  }
  uint64_t slots = 0;
  uint64_t bad = VerifySlots(out, dump_keys, &slots);
  out << "  log records: " << records << ", index slots: " << slots
      << ", bad slots: " << bad << "\n";
  if (bad > 0)
    result =
        Status::Corruption("linhash: index slots that do not match the log");
  return result;
}

uint64_t DB::Impl::VerifySlots(std::ostream& out, bool dump_keys,
                               uint64_t* slots) {
  uint64_t bad = 0;
  std::string scratch;
  index_.ForEachSlot([&](uint64_t loc, uint32_t hlo) {
    ++*slots;
    Segment* seg = seg_table_[LocSegment(loc)];
    RecordView rec{};
    if (seg == nullptr ||
        !seg->ReadRecord(LocOffset(loc), true, &scratch, &rec).ok() ||
        rec.type != RecordType::kPut ||
        (HashKey(rec.key) & kHashMask48) != SlotHash(loc, hlo)) {
      ++bad;
      return;
    }
    if (dump_keys) {
      out << "  key ";
      PrintKey(out, rec.key);
      out << " (" << rec.value.size() << " value bytes)\n";
    }
  });
  return bad;
}

}  // namespace kvb::linhash
