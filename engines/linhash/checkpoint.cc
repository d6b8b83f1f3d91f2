// Checkpoints: the whole index plus per-segment accounting, written LMDB-style
// — the log the checkpoint covers is fsynced first, then the checkpoint goes to
// a temporary file that is fsynced and renamed over index.lhx, then the
// directory is fsynced. A crash at any point leaves either the previous
// checkpoint or the new one, each consistent with a durable log.
#include <cstring>

#include "core/checksum.h"
#include "core/coding.h"
#include "engines/linhash/db_impl.h"

namespace kvb::linhash {
namespace {

uint64_t Pad8(uint64_t n) { return (n + 7) / 8 * 8; }

uint64_t ChunkCount(const IndexHeader& h) {
  return LinearIndex::ChunksFor(h.num_primary) +
         LinearIndex::ChunksFor(h.num_overflow);
}

// Layout after the header: segment table, free list (u32, padded to 8 bytes),
// chunk checksums (u32, padded to 8 bytes), buckets.
uint64_t TablesSize(uint64_t segments, uint64_t free_count, uint64_t chunks) {
  return segments * kSegmentEntrySize + Pad8(free_count * 4) + Pad8(chunks * 4);
}

std::string EncodeTables(const CheckpointImage& img) {
  std::string t;
  for (const SegmentEntry& e : img.segments) EncodeSegmentEntry(e, &t);
  for (uint32_t f : img.free_list) PutFixed32(&t, f);
  t.resize(
      img.segments.size() * kSegmentEntrySize + Pad8(img.free_list.size() * 4),
      '\0');
  for (uint32_t c : img.chunk_crcs) PutFixed32(&t, c);
  t.resize(TablesSize(img.segments.size(), img.free_list.size(),
                      img.chunk_crcs.size()),
           '\0');
  return t;
}

}  // namespace

Status DB::Impl::CaptureLocked(CheckpointImage* img) {
  // Every chunk must be in memory (and verified) before the index can be
  // written out; a chunk that failed its check must never be persisted.
  img->buckets.clear();
  KVB_RETURN_IF_ERROR(index_.SnapshotBuckets(&img->buckets));
  index_.ReleaseSource();
  IndexHeader& h = img->header;
  h.level = index_.level();
  h.split = index_.split();
  h.num_primary = index_.num_primary();
  h.num_overflow = index_.num_overflow();
  h.num_free = index_.num_free();
  h.key_count = index_.count();
  h.hash_seed = hash_seed_;
  Segment* a = active();
  h.covered_seq = a != nullptr ? a->seq() : 0;
  h.covered_offset = a != nullptr ? a->end() : 0;
  h.segment_count = static_cast<uint32_t>(segments_.size());
  h.checkpoint_number = ++checkpoint_number_;
  h.load_factor_permille =
      static_cast<uint32_t>(options_.load_factor * 1000 + 0.5);
  img->segments.clear();
  for (const auto& [seq, seg] : segments_) {
    SegmentEntry e;
    e.id = seg->id();
    e.flags = seg->sealed() ? 1 : 0;
    e.seq = seq;
    e.size = seg->end();
    e.put_records = seg->put_records;
    e.delete_records = seg->delete_records;
    e.dead_keys = seg->dead_keys;
    e.dead_bytes = seg->dead_bytes;
    img->segments.push_back(e);
  }
  img->free_list = index_.free_list();
  return Status::OK();
}

void DB::Impl::SealImage(CheckpointImage* img) {
  img->chunk_crcs = LinearIndex::ChunkChecksums(
      img->buckets.data(), img->header.num_primary, img->header.num_overflow,
      img->header.checkpoint_number);
  img->header.tables_crc = MaskCrc(Crc32c(EncodeTables(*img)));
}

Status DB::Impl::WriteCheckpointFile(const std::string& dir,
                                     const CheckpointImage& img) {
  const std::string tmp = JoinPath(dir, kIndexTmpName);
  {
    KVB_ASSIGN_OR_RETURN(auto file, env_->OpenFile(tmp, OpenMode::kTruncate));
    KVB_RETURN_IF_ERROR(file->Append(EncodeIndexHeader(img.header)));
    KVB_RETURN_IF_ERROR(file->Append(EncodeTables(img)));
    KVB_RETURN_IF_ERROR(file->Append(img.buckets));
    KVB_RETURN_IF_ERROR(file->Sync());
    KVB_RETURN_IF_ERROR(file->Close());
  }
  KVB_RETURN_IF_ERROR(env_->RenameFile(tmp, JoinPath(dir, kIndexName)));
  return env_->SyncDir(dir);
}

Status DB::Impl::Checkpoint() {
  KVB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only)
    return Status::FailedPrecondition("linhash: opened read-only");
  std::lock_guard ck(ckpt_mu_);
  CheckpointImage img;
  std::shared_ptr<Segment> head;
  uint64_t head_end = 0;
  {
    std::lock_guard lock(writer_mu_);
    if (!bg_error_.ok()) return bg_error_;
    if (!segments_.empty()) {
      head = segments_.rbegin()->second;
      Status s = head->Flush();
      if (!s.ok()) return SetBackgroundError(s);
      head_end = head->flushed_end();
    }
    KVB_RETURN_IF_ERROR(CaptureLocked(&img));
  }
  // The log must be durable up to the position the checkpoint covers before the
  // checkpoint can be. Earlier segments were fsynced when they were sealed; the
  // fdatasync runs outside the writer lock so writers are not stalled behind
  // it.
  if (head != nullptr) {
    syncs_.fetch_add(1, std::memory_order_relaxed);
    Status s = head->DataSync(head_end);
    if (!s.ok()) {
      std::lock_guard lock(writer_mu_);
      return SetBackgroundError(s);
    }
  }
  {
    std::lock_guard lock(sync_mu_);
    uint64_t lsn = (img.header.covered_seq << 32) | img.header.covered_offset;
    durable_lsn_ = std::max(durable_lsn_, lsn);
  }
  SealImage(&img);
  KVB_RETURN_IF_ERROR(WriteCheckpointFile(dir_, img));
  last_ckpt_lsn_.store((img.header.covered_seq << 32) |
                       img.header.covered_offset);
  checkpoints_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

Status DB::Impl::ParseCheckpoint(const File& file, uint64_t file_size,
                                 CheckpointImage* img,
                                 uint64_t* buckets_offset) {
  std::string data(kIndexHeaderSize, '\0');
  size_t got = 0;
  KVB_RETURN_IF_ERROR(file.ReadAt(0, data.size(), data.data(), &got));
  data.resize(got);
  KVB_RETURN_IF_ERROR(DecodeIndexHeader(data, &img->header));
  const IndexHeader& h = img->header;
  uint64_t tables = TablesSize(h.segment_count, h.num_free, ChunkCount(h));
  uint64_t buckets = (h.num_primary + h.num_overflow) * sizeof(Bucket);
  if (file_size != kIndexHeaderSize + tables + buckets) {
    return Status::Corruption("index file size does not match its header");
  }
  data.resize(kIndexHeaderSize + tables);
  KVB_RETURN_IF_ERROR(file.ReadAt(kIndexHeaderSize, tables,
                                  data.data() + kIndexHeaderSize, &got));
  if (got != tables) return Status::Corruption("index file truncated");
  *buckets_offset = kIndexHeaderSize + tables;
  std::string_view t(data.data() + kIndexHeaderSize, tables);
  if (UnmaskCrc(h.tables_crc) != Crc32c(t)) {
    return Status::Corruption("index segment table checksum mismatch");
  }
  img->segments.clear();
  for (uint32_t i = 0; i < h.segment_count; ++i) {
    img->segments.push_back(
        DecodeSegmentEntry(t.data() + i * kSegmentEntrySize));
    const SegmentEntry& e = img->segments.back();
    if (e.id > kMaxSegmentId || e.seq == 0 || e.size < kSegmentHeaderSize ||
        e.size > kMaxSegmentSizeLimit ||
        (i > 0 && e.seq <= img->segments[i - 1].seq)) {
      return Status::Corruption("index segment table entry invalid");
    }
  }
  img->free_list.resize(h.num_free);
  for (uint64_t i = 0; i < h.num_free; ++i) {
    img->free_list[i] =
        DecodeFixed32(t.data() + h.segment_count * kSegmentEntrySize + i * 4);
  }
  const char* crcs =
      t.data() + h.segment_count * kSegmentEntrySize + Pad8(h.num_free * 4);
  img->chunk_crcs.resize(ChunkCount(h));
  for (uint64_t i = 0; i < img->chunk_crcs.size(); ++i) {
    img->chunk_crcs[i] = DecodeFixed32(crcs + i * 4);
  }
  if (h.segment_count > 0) {
    const SegmentEntry& last = img->segments.back();
    if (last.seq != h.covered_seq || last.size != h.covered_offset) {
      return Status::Corruption(
          "index covered position does not match its segment table");
    }
  }
  return Status::OK();
}

}  // namespace kvb::linhash
