// Open and crash recovery.
//
// Open refuses, before writing anything, a directory holding files that are not
// ours. It then loads the checkpoint (index.lhx) and replays only the log
// written after the position the checkpoint covers. A checkpoint that fails its
// own checks (magic, version, CRCs, structure) is ignored and the index is
// rebuilt from the whole log (D4). A checkpoint that is intact but disagrees
// with the segment files (a segment it needs is missing or shorter) means data
// was lost outside our control: Corruption, unless Options::repair.
//
// Replay semantics (D6, issue 14): a damaged record that no valid record
// follows, in the newest segment, is a torn tail (a crash cut the last write)
// and is cut. Any other damage (valid records after it, or in an older segment,
// which was synced when it was sealed) is Corruption unless Options::repair,
// which copies the bytes it cuts into an aside file first and goes on with the
// newer segments. Nothing that may hold a valid record is ever discarded
// silently.
#include <algorithm>
#include <random>

#include "core/coding.h"
#include "engines/linhash/db_impl.h"

namespace kvb::linhash {
namespace {

constexpr uint64_t kScanWindow = uint64_t{1} << 20;

// Appends bytes [from, end) of `src` to `out`, a window at a time.
Status CopyRange(File* src, uint64_t from, uint64_t end, File* out,
                 const std::string& what) {
  std::string buf;
  for (uint64_t pos = from; pos < end;) {
    buf.resize(std::min<uint64_t>(end - pos, kScanWindow));
    size_t got = 0;
    KVB_RETURN_IF_ERROR(src->ReadAt(pos, buf.size(), buf.data(), &got));
    if (got != buf.size())
      return Status::IOError("linhash: short read while " + what);
    KVB_RETURN_IF_ERROR(out->Append(buf));
    pos += got;
  }
  return Status::OK();
}

// The size of the valid record (whole, CRC checked) at `off`, or 0 if none
// starts there.
Result<uint32_t> RecordSizeAt(const File& file, uint64_t off, uint64_t end,
                              std::string* buf) {
  uint64_t want = std::min<uint64_t>(kMaxRecordHeader, end - off);
  for (int attempt = 0; attempt < 2; ++attempt) {
    buf->resize(want);
    size_t got = 0;
    KVB_RETURN_IF_ERROR(file.ReadAt(off, want, buf->data(), &got));
    RecordView rec{};
    size_t need = 0;
    ParseResult p =
        ParseRecord(std::string_view(buf->data(), got), true, &rec, &need);
    if (p == ParseResult::kOk) return rec.size;
    if (p == ParseResult::kBad || got < want || need > end - off) return 0;
    want = need;
  }
  return 0;
}

// The first offset in [from, end) where a valid record starts, or `end`.
// Tries every byte offset: a resynchronisation scan, run only on damage.
Result<uint64_t> NextValidRecord(const File& file, uint64_t from,
                                 uint64_t end) {
  std::string window;
  std::string scratch;
  for (uint64_t base = from; base < end;) {
    window.resize(std::min(kScanWindow, end - base));
    size_t got = 0;
    KVB_RETURN_IF_ERROR(file.ReadAt(base, window.size(), window.data(), &got));
    if (got == 0) break;
    const std::string_view view(window.data(), got);
    for (size_t i = 0; i < got; ++i) {
      RecordView rec{};
      size_t need = 0;
      ParseResult p = ParseRecord(view.substr(i), true, &rec, &need);
      if (p == ParseResult::kOk) return base + i;
      if (p != ParseResult::kNeedMore || need > end - (base + i)) continue;
      KVB_ASSIGN_OR_RETURN(uint32_t size,
                           RecordSizeAt(file, base + i, end, &scratch));
      if (size > 0) return base + i;
    }
    base += got;
  }
  return end;
}

// Valid records in [from, end), skipping damaged bytes.
Result<uint64_t> CountValidRecords(const File& file, uint64_t from,
                                   uint64_t end) {
  uint64_t n = 0;
  std::string scratch;
  for (uint64_t pos = from; pos < end;) {
    KVB_ASSIGN_OR_RETURN(uint32_t size, RecordSizeAt(file, pos, end, &scratch));
    if (size > 0) {
      ++n;
      pos += size;
      continue;
    }
    KVB_ASSIGN_OR_RETURN(pos, NextValidRecord(file, pos + 1, end));
  }
  return n;
}

}  // namespace

Status DB::Impl::ValidateOptions() const {
  const Options& o = options_;
  if (o.max_segment_size < 4096 || o.max_segment_size > kMaxSegmentSizeLimit) {
    return Status::InvalidArgument(
        "linhash: max_segment_size must be in [4 KiB, 4 GiB - 1]");
  }
  if (!(o.load_factor > 0.3 && o.load_factor <= 1.0)) {
    return Status::InvalidArgument(
        "linhash: load_factor must be in (0.3, 1.0]");
  }
  if (o.background_sync_interval_ms < -1 ||
      o.background_compaction_interval_ms < 0 || o.checkpoint_interval_ms < 0) {
    return Status::InvalidArgument("linhash: negative interval");
  }
  if (!(o.compaction_min_fragmentation >= 0 &&
        o.compaction_min_fragmentation <= 1)) {
    return Status::InvalidArgument(
        "linhash: compaction_min_fragmentation must be in [0, 1]");
  }
  if (o.write_buffer_size > (size_t{64} << 20)) {
    return Status::InvalidArgument(
        "linhash: write_buffer_size must be <= 64 MiB");
  }
  return Status::OK();
}

Status DB::Impl::ScanDirectory(std::vector<DiskSegment>* segs,
                               bool* has_index) {
  KVB_ASSIGN_OR_RETURN(auto names, env_->ListDir(dir_));
  *has_index = false;
  std::string foreign;  // the first name that is not ours (nor lost+found)
  for (const std::string& n : names) {
    if (n == kLockName || n == kIndexTmpName || IsAsideFileName(n)) continue;
    if (n == kIndexName) {
      *has_index = true;
    } else if (auto sn = ParseSegmentFileName(n)) {
      segs->push_back({*sn, nullptr, 0});
    } else if (n != "lost+found" && foreign.empty()) {
      foreign = n;
    }
  }
  // Files that are not ours are left alone next to a database (a README, a
  // mount root's lost+found); without any file of ours they mean the
  // directory belongs to something else.
  if (!foreign.empty() && segs->empty() && !*has_index) {
    return Status::InvalidArgument(
        "linhash: " + dir_ + " is not a linhash database (unexpected file '" +
        foreign + "')");
  }
  std::sort(segs->begin(), segs->end(),
            [](const DiskSegment& a, const DiskSegment& b) {
              return a.name.seq < b.name.seq;
            });
  return Status::OK();
}

Status DB::Impl::OpenSegmentFiles(std::vector<DiskSegment>* segs) {
  const OpenMode mode =
      options_.read_only ? OpenMode::kReadOnly : OpenMode::kReadWrite;
  KVB_RETURN_IF_ERROR(DropRenumberedOriginals(segs));
  for (size_t i = 0; i < segs->size(); ++i) {
    DiskSegment& d = (*segs)[i];
    std::string path = Path(SegmentFileName(d.name.id, d.name.seq));
    if (i > 0 && d.name.seq == (*segs)[i - 1].name.seq) {
      return Status::Corruption("linhash: two segments with sequence " +
                                std::to_string(d.name.seq));
    }
    KVB_ASSIGN_OR_RETURN(d.file, env_->OpenFile(path, mode));
    KVB_ASSIGN_OR_RETURN(d.size, d.file->Size());
    std::string hdr(kSegmentHeaderSize, '\0');
    size_t got = 0;
    KVB_RETURN_IF_ERROR(d.file->ReadAt(0, hdr.size(), hdr.data(), &got));
    hdr.resize(got);
    Status s = CheckSegmentHeader(hdr, d.name.id, d.name.seq);
    if (s.ok()) continue;
    // A newest segment with no record and a bad header is a creation cut short
    // by a crash (its header and directory entry are synced before anything is
    // written to it).
    // It is removed only once the rest of the database has checked out (nothing
    // is written to a directory that turns out to be corrupt).
    if (i + 1 == segs->size() && d.size <= kSegmentHeaderSize) {
      d.file.reset();
      garbage_files_.push_back(path);
      segs->pop_back();
      break;
    }
    return s.WithContext("linhash: " + path);
  }
  return Status::OK();
}

Status DB::Impl::LoadCheckpointFile(CheckpointImage* img,
                                    std::vector<DiskSegment>* segs,
                                    bool* usable) {
  *usable = false;
  auto opened = env_->OpenFile(Path(kIndexName), OpenMode::kReadOnly);
  if (!opened.ok()) {
    return opened.status().IsNotFound() ? Status::OK() : opened.status();
  }
  std::shared_ptr<File> file = std::move(opened).value();
  KVB_ASSIGN_OR_RETURN(uint64_t file_size, file->Size());
  uint64_t buckets_offset = 0;
  Status s = ParseCheckpoint(*file, file_size, img, &buckets_offset);
  if (s.ok()) {
    const IndexHeader& h = img->header;
    LinearIndex::Image li;
    li.level = h.level;
    li.split = h.split;
    li.num_overflow = h.num_overflow;
    li.key_count = h.key_count;
    li.free_list = img->free_list;
    li.chunk_crcs = img->chunk_crcs;
    li.salt = h.checkpoint_number;
    // The index keeps the file open until every chunk is loaded (a later
    // checkpoint replaces the name, not this open file).
    li.read = [file, buckets_offset](uint64_t off, size_t n,
                                     char* dst) -> Status {
      size_t got = 0;
      KVB_RETURN_IF_ERROR(file->ReadAt(buckets_offset + off, n, dst, &got));
      return got == n ? Status::OK()
                      : Status::Corruption("index file truncated");
    };
    s = index_.Attach(std::move(li));
    // A small index is verified whole now, so damage is repaired by a rebuild
    // at Open rather than reported by a later operation.
    if (s.ok() && index_.MemoryBytes() <= options_.index_preload_bytes) {
      s = index_.LoadAll();
    }
  }
  if (!s.ok() && !s.IsCorruption()) {
    index_.Reset();
    return s;  // an I/O error is not a verdict on the checkpoint
  }
  if (!s.ok()) {
    index_.Reset();
    return Status::OK();  // fails its own checks: rebuild from the log
  }
  // Intact checkpoint: every segment it relies on must be there, at least as
  // long.
  for (const SegmentEntry& e : img->segments) {
    auto it =
        std::find_if(segs->begin(), segs->end(),
                     [&](const DiskSegment& d) { return d.name.seq == e.seq; });
    Status bad;
    if (it == segs->end() || it->name.id != e.id) {
      bad = Status::Corruption("linhash: segment " +
                               SegmentFileName(e.id, e.seq) +
                               " needed by the checkpoint is missing");
    } else if (it->size < e.size) {
      bad = Status::Corruption("linhash: segment " +
                               SegmentFileName(e.id, e.seq) +
                               " is shorter than the checkpoint says");
    }
    if (!bad.ok()) {
      if (!options_.repair) return bad;
      index_.Reset();
      return Status::OK();
    }
  }
  // Slots are not walked here (that would cost a pass over the whole index at
  // every open): every location is range-checked when it is used, and a record
  // must pass its CRC (D7).
  *usable = true;
  return Status::OK();
}

Status DB::Impl::ApplyRecord(Segment* seg, uint64_t offset,
                             const RecordView& rec) {
  KVB_RETURN_IF_ERROR(index_.Reserve());
  const uint64_t h = HashKey(rec.key);
  Found f;
  KVB_RETURN_IF_ERROR(FindKey(h, rec.key, &f));
  if (rec.type == RecordType::kPut) {
    ApplyPut(h, f, MakeLoc(h, seg->id(), static_cast<uint32_t>(offset)), seg,
             rec.size);
  } else {
    ApplyDelete(f, seg, rec.size);
  }
  replayed_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

// Applies a batch only if every one of its records is intact (all or nothing).
Status DB::Impl::ApplyBatch(Segment* seg, uint64_t offset,
                            const RecordView& rec, LogReader* reader,
                            uint64_t* damage_at) {
  const uint32_t count = DecodeFixed32(rec.value.data());
  const uint64_t body = DecodeFixed64(rec.value.data() + 4);
  const uint64_t end = offset + rec.size + body;
  struct Item {
    RecordType type;
    std::string key;
    uint64_t offset;
    uint32_t size;
  };
  std::vector<Item> items;
  for (uint32_t i = 0; i < count; ++i) {
    RecordView r{};
    uint64_t off = 0;
    if (reader->Next(&r, &off) != LogReader::Result::kRecord ||
        r.type == RecordType::kBatch || off + r.size > end) {
      *damage_at = off;
      return reader->io_status();
    }
    items.push_back({r.type, std::string(r.key), off, r.size});
  }
  if (reader->position() != end) {
    *damage_at = reader->position();
    return Status::OK();
  }
  seg->dead_bytes += rec.size;
  for (const Item& it : items) {
    RecordView r{};
    r.type = it.type;
    r.key = it.key;
    r.size = it.size;
    KVB_RETURN_IF_ERROR(ApplyRecord(seg, it.offset, r));
  }
  return Status::OK();
}

Status DB::Impl::ReplaySegment(Segment* seg, uint64_t from, bool newest) {
  LogReader reader(seg->file(), from, seg->end());
  constexpr uint64_t kIntact = ~uint64_t{0};
  for (;;) {
    RecordView rec{};
    uint64_t off = 0;
    LogReader::Result res = reader.Next(&rec, &off);
    KVB_RETURN_IF_ERROR(reader.io_status());
    if (res == LogReader::Result::kEnd) return Status::OK();
    uint64_t damage = res == LogReader::Result::kDamaged ? off : kIntact;
    if (damage == kIntact && rec.type == RecordType::kBatch) {
      KVB_RETURN_IF_ERROR(ApplyBatch(seg, off, rec, &reader, &damage));
    } else if (damage == kIntact) {
      KVB_RETURN_IF_ERROR(ApplyRecord(seg, off, rec));
    }
    if (damage != kIntact) return HandleDamage(seg, off, damage, newest);
  }
}

Status DB::Impl::HandleDamage(Segment* seg, uint64_t cut, uint64_t damage,
                              bool newest) {
  const uint64_t end = seg->end();
  KVB_ASSIGN_OR_RETURN(uint64_t next,
                       NextValidRecord(*seg->file(), damage + 1, end));
  const std::string where =
      "offset " + std::to_string(damage) + " of " + seg->path();
  if (newest && next == end) {
    torn_tail_bytes_.fetch_add(end - cut);
    recovery_notes_.push_back("torn tail: " + std::to_string(end - cut) +
                              " bytes without a valid record cut at " + where);
    return options_.read_only ? seg->ForgetTail(cut) : seg->TruncateTo(cut);
  }
  if (!options_.repair) {
    return Status::Corruption(
        "linhash: damaged record at " + where +
        (newest ? " followed by valid records" : " (an older segment)") +
        "; open with repair to cut it there (the cut bytes are kept in a "
        ".corrupt file)");
  }
  KVB_ASSIGN_OR_RETURN(uint64_t lost,
                       CountValidRecords(*seg->file(), cut, end));
  repair_cut_bytes_.fetch_add(end - cut);
  repair_lost_records_.fetch_add(lost);
  recovery_notes_.push_back("repair: cut " + std::to_string(end - cut) +
                            " bytes holding " + std::to_string(lost) +
                            " valid records at " + where);
  if (options_.read_only) return seg->ForgetTail(cut);
  KVB_RETURN_IF_ERROR(SaveAside(seg, cut));
  KVB_RETURN_IF_ERROR(seg->TruncateTo(cut));
  return seg->file()->Sync();
}

// Copies [cut, end) of the segment into a new aside file and makes it durable
// (data and directory entry) before the segment may be truncated.
Status DB::Impl::SaveAside(Segment* seg, uint64_t cut) {
  std::string path = Path(AsideFileName(seg->id(), seg->seq(), cut));
  auto opened = env_->OpenFile(path, OpenMode::kCreateNew);
  for (int k = 1; !opened.ok() && k < 100; ++k) {
    // An earlier repair's file is never overwritten.
    if (!env_->FileExists(path)) return opened.status();
    path = Path(AsideFileName(seg->id(), seg->seq(), cut));
    path.insert(path.size() - std::string_view(".corrupt").size(),
                "-" + std::to_string(k));
    opened = env_->OpenFile(path, OpenMode::kCreateNew);
  }
  KVB_RETURN_IF_ERROR(opened.status());
  std::unique_ptr<File> out = std::move(opened).value();
  KVB_RETURN_IF_ERROR(
      CopyRange(seg->file(), cut, seg->end(), out.get(), "saving " + path));
  KVB_RETURN_IF_ERROR(out->Sync());
  KVB_RETURN_IF_ERROR(out->Close());
  recovery_notes_.push_back("repair: cut bytes saved in " + path);
  return env_->SyncDir(dir_);
}

Status DB::Impl::Replay(uint64_t from_seq, uint64_t from_offset) {
  if (segments_.empty()) return Status::OK();
  const uint64_t newest = segments_.rbegin()->first;
  for (auto& [seq, seg] : segments_) {
    if (seq < from_seq) continue;
    uint64_t start = seq == from_seq ? from_offset : kSegmentHeaderSize;
    KVB_RETURN_IF_ERROR(ReplaySegment(seg.get(), start, seq == newest));
  }
  return Status::OK();
}

namespace {
// The log position a checkpoint covers, as CurrentLsn() spells it.
uint64_t CoveredLsn(const CheckpointImage& img) {
  return (uint64_t{img.header.covered_seq} << 32) | img.header.covered_offset;
}
}  // namespace

Status DB::Impl::Open() {
  env_ = options_.env != nullptr ? options_.env : Env::Default();
  KVB_RETURN_IF_ERROR(ValidateOptions());
  KVB_RETURN_IF_ERROR(PrepareDirectory());
  std::vector<DiskSegment> disk;
  bool has_index = false;
  KVB_RETURN_IF_ERROR(ScanDirectory(&disk, &has_index));
  if (!options_.read_only) {
    KVB_ASSIGN_OR_RETURN(lock_, env_->LockFile(Path(kLockName)));
    if (env_->FileExists(Path(kIndexTmpName))) {
      KVB_RETURN_IF_ERROR(env_->RemoveFile(Path(kIndexTmpName)));
    }
  }
  KVB_RETURN_IF_ERROR(OpenSegmentFiles(&disk));
  CheckpointImage img;
  bool usable = false;
  if (has_index && !ignore_checkpoint_) {
    KVB_RETURN_IF_ERROR(LoadCheckpointFile(&img, &disk, &usable));
  }
  const bool rebuild = !usable && !disk.empty();
  if (rebuild) rebuilds_.fetch_add(1);
  KVB_RETURN_IF_ERROR(AdoptSegments(&disk, usable ? &img : nullptr));
  KVB_RETURN_IF_ERROR(
      RecoverTail(usable ? &img : nullptr, rebuild, !disk.empty()));
  for (auto& [seq, seg] : segments_) {
    if (seq != segments_.rbegin()->first) seg->MarkSealed();
  }
  open_.store(true, std::memory_order_release);
  // What the checkpoint on disk covers; the background thread or Close
  // writes a new one once the log has grown past it.
  last_ckpt_lsn_.store(usable ? CoveredLsn(img) : 0);
  bool write_checkpoint = rebuild;
  if (!options_.read_only) {
    Status s = FinishWritableOpen(&write_checkpoint);
    if (!s.ok()) {
      open_.store(false);
      return s;
    }
  }
  if (!usable && !write_checkpoint) last_ckpt_lsn_.store(CurrentLsn());
  StartBackground();
  return Status::OK();
}

Status DB::Impl::PrepareDirectory() {
  auto st = env_->Stat(dir_);
  if (st.ok()) {
    if (st->is_dir) return Status::OK();
    return Status::InvalidArgument("linhash: not a directory: " + dir_);
  }
  if (!st.status().IsNotFound()) return st.status();
  if (options_.read_only || !options_.create_if_missing) {
    return Status::NotFound("linhash: no database at " + dir_);
  }
  // Under a new directory every file's SyncDir(dir_) is worthless until the
  // directory itself is durable.
  return env_->CreateDirsDurably(dir_);
}

// Seeds the hash, replays the log after what the checkpoint `img` covers (all
// of it without one) and counts a recovery if anything had to be redone.
Status DB::Impl::RecoverTail(const CheckpointImage* img, bool rebuild,
                             bool had_segments) {
  if (img != nullptr) {
    hash_seed_ = img->header.hash_seed;
    checkpoint_number_ = img->header.checkpoint_number;
  } else {
    std::random_device rd;
    hash_seed_ = (uint64_t{rd()} << 32) | rd();
  }
  key_count_.store(index_.count());
  const uint64_t from_seq = img ? img->header.covered_seq : 0;
  const uint64_t from_off =
      img ? img->header.covered_offset : kSegmentHeaderSize;
  const uint64_t replay_start = replayed_.load();
  Status replayed = Replay(from_seq, from_off);
  if (!index_.health().ok()) {
    // The tail touched a chunk of the checkpoint that fails its check.
    checkpoint_damaged_ = index_.health().IsCorruption();
    return replayed.ok() ? index_.health() : replayed;
  }
  KVB_RETURN_IF_ERROR(replayed);
  bool recovered = rebuild || replayed_.load() != replay_start ||
                   (img && CurrentLsn() != CoveredLsn(*img));
  if (recovered && had_segments) recoveries_.fetch_add(1);
  return Status::OK();
}

// Removes what recovery set aside as garbage, starts the first segment of a
// new database and writes a checkpoint after a full rebuild.
Status DB::Impl::FinishWritableOpen(bool* write_checkpoint) {
  for (const std::string& path : garbage_files_) {
    KVB_RETURN_IF_ERROR(env_->RemoveFile(path));
  }
  if (segments_.empty()) {
    std::lock_guard lock(writer_mu_);
    KVB_RETURN_IF_ERROR(NewSegment());
    *write_checkpoint = true;
  }
  // After a full rebuild, make the rebuilt index the new starting point so
  // the next Open is fast (a crash during this only repeats the rebuild).
  // After a tail replay nothing is written here: replaying the same tail
  // again is idempotent, and a checkpoint now would cost a write of the
  // whole index (and a load of every lazily attached chunk).
  if (*write_checkpoint) return Checkpoint();
  return Status::OK();
}

// A repair that renumbered a segment (below) and crashed before removing the
// original leaves two files with one sequence number: the original is the one
// whose id another segment also uses. REQUIRES: segs sorted by sequence.
Status DB::Impl::DropRenumberedOriginals(std::vector<DiskSegment>* segs) {
  if (!options_.repair || options_.read_only) return Status::OK();
  auto id_shared = [&](size_t i) {
    for (size_t j = 0; j < segs->size(); ++j) {
      if (j != i && (*segs)[j].name.id == (*segs)[i].name.id &&
          (*segs)[j].name.seq != (*segs)[i].name.seq) {
        return true;
      }
    }
    return false;
  };
  for (size_t i = 1; i < segs->size(); ++i) {
    if ((*segs)[i].name.seq != (*segs)[i - 1].name.seq) continue;
    const bool first_shared = id_shared(i - 1);
    if (first_shared == id_shared(i)) continue;  // refused by the caller
    const size_t stale = first_shared ? i - 1 : i;
    const SegmentName n = (*segs)[stale].name;
    garbage_files_.push_back(Path(SegmentFileName(n.id, n.seq)));
    recovery_notes_.push_back("repair: removing " + garbage_files_.back() +
                              " (already copied under a new id)");
    segs->erase(segs->begin() + static_cast<long>(stale));
    --i;
  }
  return Status::OK();
}

// Gives segment `d` (newer than another segment with the same id, a state
// older versions could leave after a crash during compaction) an unused id: a
// full copy under the new name and header is made durable, then the original
// is removed.
Status DB::Impl::RenumberSegment(DiskSegment* d, uint32_t new_id) {
  const std::string from = Path(SegmentFileName(d->name.id, d->name.seq));
  const std::string to = Path(SegmentFileName(new_id, d->name.seq));
  KVB_ASSIGN_OR_RETURN(auto out, env_->OpenFile(to, OpenMode::kCreateNew));
  KVB_RETURN_IF_ERROR(out->Append(EncodeSegmentHeader(new_id, d->name.seq)));
  KVB_RETURN_IF_ERROR(CopyRange(d->file.get(), kSegmentHeaderSize, d->size,
                                out.get(), "renumbering " + from));
  KVB_RETURN_IF_ERROR(out->Sync());
  KVB_RETURN_IF_ERROR(out->Close());
  KVB_RETURN_IF_ERROR(env_->SyncDir(dir_));
  d->file.reset();
  KVB_ASSIGN_OR_RETURN(d->file, env_->OpenFile(to, OpenMode::kReadWrite));
  KVB_RETURN_IF_ERROR(env_->RemoveFile(from));
  KVB_RETURN_IF_ERROR(env_->SyncDir(dir_));
  recovery_notes_.push_back("repair: segment " + from + " renumbered as " + to);
  d->name.id = new_id;
  return Status::OK();
}

// Refuses (or, with repair, renumbers) a segment whose id an older surviving
// segment already uses.
Status DB::Impl::CheckUniqueIds(std::vector<DiskSegment>* disk) {
  std::vector<bool> used(kMaxSegmentId + 1, false);
  for (const DiskSegment& d : *disk) used[d.name.id] = true;
  std::vector<bool> seen(kMaxSegmentId + 1, false);
  for (DiskSegment& d : *disk) {
    if (!seen[d.name.id]) {
      seen[d.name.id] = true;
      continue;
    }
    const std::string path = Path(SegmentFileName(d.name.id, d.name.seq));
    if (!options_.repair || options_.read_only) {
      return Status::Corruption("linhash: duplicate segment id in " + path +
                                " (open read-write with repair to renumber "
                                "it)");
    }
    uint32_t id = 0;
    while (id <= kMaxSegmentId && used[id]) ++id;
    if (id > kMaxSegmentId)
      return Status::NoSpace("linhash: no free segment id to renumber " + path);
    KVB_RETURN_IF_ERROR(RenumberSegment(&d, id));
    used[id] = seen[id] = true;
  }
  return Status::OK();
}

Status DB::Impl::AdoptSegments(std::vector<DiskSegment>* disk,
                               const CheckpointImage* img) {
  KVB_RETURN_IF_ERROR(DropGarbageSources(disk, img));
  KVB_RETURN_IF_ERROR(CheckUniqueIds(disk));
  for (DiskSegment& d : *disk) {
    const SegmentEntry* entry = nullptr;
    if (img != nullptr) {
      for (const SegmentEntry& e : img->segments) {
        if (e.seq == d.name.seq) entry = &e;
      }
    }
    auto seg = std::make_shared<Segment>(
        d.name.id, d.name.seq, Path(SegmentFileName(d.name.id, d.name.seq)),
        std::move(d.file), d.size, options_.read_backend == ReadBackend::kMmap,
        options_.write_buffer_size, &index_mu_);
    if (entry != nullptr) {
      seg->put_records = entry->put_records;
      seg->delete_records = entry->delete_records;
      seg->dead_keys = entry->dead_keys;
      seg->dead_bytes = entry->dead_bytes;
    }
    seg_table_[d.name.id] = seg.get();
    segments_[d.name.seq] = std::move(seg);
  }
  return Status::OK();
}

// Older than the covered position but not in the checkpoint's table: a
// compaction source whose removal was cut short after the checkpoint that
// dropped it. Nothing refers to it; it is removed once Open succeeds.
Status DB::Impl::DropGarbageSources(std::vector<DiskSegment>* disk,
                                    const CheckpointImage* img) {
  if (img == nullptr) return Status::OK();
  auto listed = [&](uint64_t seq) {
    for (const SegmentEntry& e : img->segments) {
      if (e.seq == seq) return true;
    }
    return false;
  };
  std::vector<DiskSegment> kept;
  for (DiskSegment& d : *disk) {
    if (!listed(d.name.seq) && d.name.seq < img->header.covered_seq) {
      d.file.reset();
      garbage_files_.push_back(Path(SegmentFileName(d.name.id, d.name.seq)));
      continue;
    }
    kept.push_back(std::move(d));
  }
  *disk = std::move(kept);
  return Status::OK();
}

}  // namespace kvb::linhash
