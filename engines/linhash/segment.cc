#include "engines/linhash/segment.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace kvb::linhash {
namespace {

// New mappings are made once this many flushed bytes are unmapped, so the
// active segment is mapped in bounded pieces and no mapping ever reserves more
// than the segment's size.
constexpr uint64_t kMapStep = uint64_t{16} << 20;
// No single mapping is larger than this (a sealed 4 GiB segment is mapped in 16
// pieces).
constexpr uint64_t kMaxRegion = uint64_t{256} << 20;
constexpr size_t kPreadGuess = 512;

}  // namespace

Segment::Segment(uint32_t id, uint64_t seq, std::string path,
                 std::unique_ptr<File> file, uint64_t size, bool use_mmap,
                 size_t buffer_size, RwLock* readers)
    : id_(id),
      seq_(seq),
      path_(std::move(path)),
      file_(std::move(file)),
      readers_(readers),
      use_mmap_(use_mmap),
      appended_end_(size),
      synced_end_(size),
      flushed_end_(size),
      buf_(buffer_size > 0 ? new char[buffer_size] : nullptr),
      buf_cap_(buffer_size) {
  for (;;) {
    uint64_t s = 0;
    uint64_t e = 0;
    auto map = MaybeMap(size, true, &s, &e);
    if (!map) break;
    regions_.push_back({s, e, std::move(map)});
    mapped_end_ = e;
  }
}

Segment::~Segment() { file_->Close().IgnoreError(); }

std::unique_ptr<MappedRegion> Segment::MaybeMap(uint64_t flushed, bool force,
                                                uint64_t* start,
                                                uint64_t* end) {
  *start = mapped_end_;
  *end = mapped_end_;
  if (!use_mmap_ || flushed <= mapped_end_) return nullptr;
  if (!force && flushed - mapped_end_ < kMapStep) return nullptr;
  const uint64_t end_here = std::min(flushed, mapped_end_ + kMaxRegion);
  auto r = file_->Map(mapped_end_, end_here - mapped_end_);
  if (!r.ok()) {
    use_mmap_ = false;  // e.g. the in-memory Env: fall back to pread for good
    return nullptr;
  }
  *end = end_here;
  return std::move(r).value();
}

const Segment::Region* Segment::FindRegion(uint64_t offset) const {
  auto it =
      std::upper_bound(regions_.begin(), regions_.end(), offset,
                       [](uint64_t o, const Region& r) { return o < r.start; });
  if (it == regions_.begin()) return nullptr;
  --it;
  return offset < it->end ? &*it : nullptr;
}

Status Segment::ReadRecord(uint64_t offset, bool verify, std::string* scratch,
                           RecordView* rec) const {
  return Read(offset, verify ? Part::kVerified : Part::kWhole, scratch, rec);
}

void Segment::Prefetch(uint64_t offset) const {
  if (offset >= mapped_end_) return;
  const Region* r = FindRegion(offset);
  if (r == nullptr) return;
  const char* p = r->map->data() + (offset - r->start);
  // Header, key and the start of the value: a 16/128-byte record spans up to
  // three lines. A prefetch past the mapping's end is harmless (no fault).
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
  __builtin_prefetch(p + 128);
}

Status Segment::ReadKey(uint64_t offset, std::string* scratch,
                        RecordView* rec) const {
  return Read(offset, Part::kKey, scratch, rec);
}

Status Segment::Read(uint64_t offset, Part part, std::string* scratch,
                     RecordView* rec) const {
  auto parse = [part, rec](std::string_view data, size_t* need) {
    if (part == Part::kKey) return ParseRecordKey(data, rec, need);
    return ParseRecord(data, part == Part::kVerified, rec, need);
  };
  size_t need = 0;
  if (offset < kSegmentHeaderSize)
    return Status::Corruption("record offset in header");
  if (offset < mapped_end_) {
    const Region* r = FindRegion(offset);
    if (r != nullptr) {
      std::string_view view(r->map->data() + (offset - r->start),
                            r->end - offset);
      ParseResult p = parse(view, &need);
      if (p == ParseResult::kOk) return Status::OK();
      if (p == ParseResult::kBad)
        return Status::Corruption("bad record in " + path_);
    }
  }
  if (offset < flushed_end_) {
    uint64_t avail = flushed_end_ - offset;
    size_t want = static_cast<size_t>(
        std::min<uint64_t>(avail, std::max(need, kPreadGuess)));
    for (int attempt = 0; attempt < 2; ++attempt) {
      scratch->resize(want);
      size_t got = 0;
      KVB_RETURN_IF_ERROR(file_->ReadAt(offset, want, scratch->data(), &got));
      ParseResult p = parse(std::string_view(scratch->data(), got), &need);
      if (p == ParseResult::kOk) return Status::OK();
      if (p == ParseResult::kBad || need > avail || got < want) break;
      want = need;
    }
    return Status::Corruption("bad record in " + path_);
  }
  uint64_t pos = offset - flushed_end_;
  size_t len = buf_len_.load(std::memory_order_acquire);
  if (pos >= len)
    return Status::Corruption("record offset beyond the end of " + path_);
  std::string_view view(buf_.get() + pos, len - pos);
  if (parse(view, &need) != ParseResult::kOk) {
    return Status::Corruption("bad record in the buffer of " + path_);
  }
  return Status::OK();
}

Status Segment::WriteThrough(std::string_view data) {
  KVB_RETURN_IF_ERROR(file_->WriteAt(flushed_end_, data));
  uint64_t s = 0;
  uint64_t e = 0;
  const uint64_t target = flushed_end_ + data.size();
  auto map = MaybeMap(target, false, &s, &e);
  Publish(target, std::move(map), s, e);
  return Status::OK();
}

void Segment::Publish(uint64_t new_flushed, std::unique_ptr<MappedRegion> map,
                      uint64_t map_start, uint64_t map_end) {
  std::unique_lock lock(*readers_);
  flushed_end_ = new_flushed;
  buf_len_.store(0, std::memory_order_release);
  if (map) {
    regions_.push_back({map_start, map_end, std::move(map)});
    mapped_end_ = map_end;
  }
}

Status Segment::Flush() {
  size_t len = buf_len_.load(std::memory_order_relaxed);
  if (len == 0) return Status::OK();
  // Readers may copy from the buffer meanwhile; the pwrite only reads it.
  return WriteThrough(std::string_view(buf_.get(), len));
}

Status Segment::Append(std::string_view records) {
  size_t len = buf_len_.load(std::memory_order_relaxed);
  if (records.size() > buf_cap_) {
    KVB_RETURN_IF_ERROR(Flush());
    KVB_RETURN_IF_ERROR(WriteThrough(records));
  } else {
    if (len + records.size() > buf_cap_) {
      KVB_RETURN_IF_ERROR(Flush());
      len = 0;
    }
    std::memcpy(buf_.get() + len, records.data(), records.size());
    buf_len_.store(len + records.size(), std::memory_order_release);
  }
  appended_end_ += records.size();
  return Status::OK();
}

Status Segment::Sync() {
  KVB_RETURN_IF_ERROR(Flush());
  return DataSync(flushed_end_);
}

Status Segment::DataSync(uint64_t covered) {
  Status s = file_->DataSync();
  if (!s.ok()) {
    sync_failed_.store(true, std::memory_order_release);
    return s;
  }
  uint64_t prev = synced_end_.load(std::memory_order_relaxed);
  while (prev < covered && !synced_end_.compare_exchange_weak(
                               prev, covered, std::memory_order_acq_rel)) {
  }
  return s;
}

Status Segment::RewriteUnsynced() {
  KVB_RETURN_IF_ERROR(Flush());
  std::string buf;
  for (uint64_t pos = synced_end(); pos < flushed_end_;) {
    buf.resize(std::min<uint64_t>(flushed_end_ - pos, uint64_t{1} << 20));
    size_t got = 0;
    KVB_RETURN_IF_ERROR(file_->ReadAt(pos, buf.size(), buf.data(), &got));
    if (got == 0) break;  // shorter than we wrote: recovery cuts the tail
    KVB_RETURN_IF_ERROR(file_->WriteAt(pos, std::string_view(buf.data(), got)));
    pos += got;
  }
  return DataSync(flushed_end_);
}

Status Segment::Seal() {
  KVB_RETURN_IF_ERROR(Sync());
  sealed_ = true;
  uint64_t s = 0;
  uint64_t e = 0;
  for (;;) {
    auto map = MaybeMap(flushed_end_, true, &s, &e);
    if (!map) break;
    Publish(flushed_end_, std::move(map), s, e);
  }
  return Status::OK();
}

Status Segment::TruncateTo(uint64_t size) {
  KVB_RETURN_IF_ERROR(file_->Truncate(size));
  return ForgetTail(size);
}

Status Segment::ForgetTail(uint64_t size) {
  std::unique_lock lock(*readers_);
  // Drop mappings past the cut; records beyond it are no longer referenced.
  while (!regions_.empty() && regions_.back().end > size) regions_.pop_back();
  mapped_end_ = regions_.empty() ? 0 : regions_.back().end;
  flushed_end_ = size;
  appended_end_ = size;
  return Status::OK();
}

LogReader::LogReader(const File* file, uint64_t start, uint64_t end)
    : file_(file), pos_(start), end_(end) {}

bool LogReader::Fill(uint64_t need) {
  if (pos_ >= buf_start_ && pos_ + need <= buf_start_ + buf_.size())
    return true;
  uint64_t want =
      std::min<uint64_t>(std::max<uint64_t>(need, 1 << 20), end_ - pos_);
  buf_.resize(want);
  size_t got = 0;
  io_ = file_->ReadAt(pos_, want, buf_.data(), &got);
  buf_.resize(io_.ok() ? got : 0);
  buf_start_ = pos_;
  return io_.ok() && got >= need;
}

LogReader::Result LogReader::Next(RecordView* rec, uint64_t* offset) {
  *offset = pos_;
  if (pos_ >= end_) return Result::kEnd;
  uint64_t need = std::min<uint64_t>(kMaxRecordHeader, end_ - pos_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!Fill(need)) return Result::kDamaged;
    std::string_view view(buf_.data() + (pos_ - buf_start_),
                          buf_.size() - (pos_ - buf_start_));
    size_t n = 0;
    ParseResult p = ParseRecord(view, true, rec, &n);
    if (p == ParseResult::kOk) {
      pos_ += rec->size;
      return Result::kRecord;
    }
    if (p == ParseResult::kBad || n > end_ - pos_) return Result::kDamaged;
    need = n;
  }
  return Result::kDamaged;
}

}  // namespace kvb::linhash
