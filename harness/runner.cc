#include "harness/runner.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/registry.h"
#include "adapters/typed_record.h"
#include "core/hash.h"
#include "harness/acked_inserts.h"
#include "harness/clock.h"
#include "harness/histogram.h"
#include "harness/probes.h"
#include "harness/progress.h"
#include "workloads/keyset.h"
#include "workloads/random.h"
#include "workloads/user_record.h"
#include "workloads/value_codec.h"
#include "workloads/version_tracker.h"

namespace kvb {
namespace {

namespace fs = std::filesystem;

// Histogram slots: one per op type plus whole write batches of the load phase.
constexpr int kBatchSlot = kOpTypes;
constexpr int kSlots = kOpTypes + 1;
constexpr size_t kMaxErrorMessages = 5;
// Request keys drawn ahead per phase: 32 MiB over all threads (they count in
// the process's RSS), never fewer than 2^20 per thread.
constexpr uint64_t kDrawBudget = uint64_t{1} << 22;
constexpr uint64_t kMinDraws = uint64_t{1} << 20;

std::string SlotName(int slot) {
  return slot == kBatchSlot
             ? "batch"
             : std::string(OpTypeName(static_cast<OpType>(slot)));
}

double Seconds(uint64_t ticks) {
  return clock::TicksToNs(static_cast<double>(ticks)) / 1e9;
}

// State shared by the threads of one phase.
struct Shared {
  Adapter* db = nullptr;
  const WorkloadSpec* spec = nullptr;
  const KeySet* keys = nullptr;
  const ValueCodec* codec = nullptr;
  VersionTracker* tracker = nullptr;
  std::shared_ptr<const ZipfianTable> table;
  bool verify = true;
  std::atomic<uint64_t> next_insert{
      0};              // ids below this have been handed to a writer
  AckedInserts acked;  // ids below acked.Limit() have been written
  uint64_t capacity = 0;
  std::atomic<bool> stop{false};
  uint64_t sample_mask = 0;  // time op i when (i & sample_mask) == 0
  // value_kind=struct: the record codec (null for bytes), and the adapter's
  // native struct access (null: records travel as JSON the worker encodes).
  const RecordCodec* records = nullptr;
  TypedRecordAccess* typed = nullptr;
};

// The entries one Scan returned, copied into one buffer (no allocation per
// entry once it has grown), so they can be checked after the clock stops:
// the engine's views are valid only inside its callback.
class ScanEntries {
 public:
  void Clear() {
    bytes_.clear();
    sizes_.clear();
  }
  void Add(std::string_view key, std::string_view value) {
    bytes_.append(key).append(value);
    sizes_.push_back({static_cast<uint32_t>(key.size()),
                      static_cast<uint32_t>(value.size())});
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    size_t at = 0;
    for (const auto& [k, v] : sizes_) {
      std::string_view all(bytes_);
      fn(all.substr(at, k), all.substr(at + k, v));
      at += size_t{k} + v;
    }
  }

 private:
  std::string bytes_;
  std::vector<std::pair<uint32_t, uint32_t>> sizes_;  // key, value lengths
};

// One thread's generator, buffers, histograms and counters.
class Worker {
 public:
  Worker(Shared* shared, const OpMix& mix, uint32_t index, uint32_t threads)
      : s_(shared),
        rng_(StreamSeed(shared->spec->seed, 1000 + index)),
        arrivals_(StreamSeed(shared->spec->seed, 3000 + index)),
        chooser_(shared->spec->request, shared->table, shared->capacity, index,
                 threads),
        ops_(mix) {
    for (int i = 0; i < kOpTypes; ++i) {
      if (mix.weight[i] > 0) hist_[i] = std::make_unique<Histogram>();
    }
    // A scan's entries are only copied while the clock runs; they are checked
    // after it stops (CheckScan).
    scan_cb_ = [this](std::string_view key, std::string_view value) {
      ++scanned_;
      if (s_->verify) scan_entries_.Add(key, value);
      return true;
    };
  }

  // Draws request keys ahead of a mix phase (see KeyChooser::Pregenerate).
  void Pregenerate(uint64_t draws) { chooser_.Pregenerate(rng_, draws); }

  Histogram& Hist(int slot) {
    if (!hist_[slot]) hist_[slot] = std::make_unique<Histogram>();
    return *hist_[slot];
  }
  const std::array<std::unique_ptr<Histogram>, kSlots>& hists() const {
    return hist_;
  }
  const std::array<std::unique_ptr<Histogram>, kSlots>& service() const {
    return service_;
  }
  VerifyCounts& verify() { return verify_; }
  uint64_t errors() const { return errors_; }
  // The thread's role ("" without roles). A stoppable worker ends its mix
  // loop as soon as Shared::stop is set (read-while-writing's writer).
  void SetRole(std::string role, bool stoppable) {
    role_ = std::move(role);
    stoppable_ = stoppable;
  }
  const std::string& role() const { return role_; }
  // Seconds from the phase's start to this thread's end (RunPhase sets it).
  double elapsed_s = 0;
  const std::vector<std::string>& messages() const { return messages_; }
  std::atomic<uint64_t>& done() { return done_; }
  uint64_t done_count() const { return done_.load(std::memory_order_relaxed); }

  // Loads ids[begin, end) with version 1; batches when `batch` > 1 (struct
  // values are never batched).
  void Load(const std::vector<uint32_t>& ids, uint64_t begin, uint64_t end,
            uint32_t batch) {
    if (s_->records) return LoadEach<true>(ids, begin, end);
    if (batch > 1) return LoadBatched(ids, begin, end, batch);
    LoadEach(ids, begin, end);
  }

  // Prefetches the metadata of ids[i + 16] and ids[i + 8] (lists are known in
  // advance).
  void PrefetchAhead(const std::vector<uint32_t>& ids, uint64_t i,
                     uint64_t end) {
    if (i + 16 < end) s_->keys->PrefetchIndex(ids[i + 16]);
    if (i + 8 < end) {
      s_->keys->PrefetchKey(ids[i + 8]);
      if (s_->verify) s_->tracker->Prefetch(ids[i + 8]);
    }
  }

  // Reads ids[begin, end), each checked.
  void ReadList(const std::vector<uint32_t>& ids, uint64_t begin,
                uint64_t end) {
    if (s_->records) return ReadEach<true>(ids, begin, end);
    ReadEach(ids, begin, end);
  }

  // `n` ops from the mix (or until `deadline` ticks when non-zero). Open loop
  // when `interval` > 0: op i is due at start + i * interval and its latency
  // counts from then.
  void RunMix(uint64_t n, uint64_t deadline, uint64_t start,
              uint64_t interval) {
    // One check per phase: the byte path's loop is the same code as before.
    if (s_->records) {
      if (interval > 0)
        return RunMixLoop<true, true>(n, deadline, start, interval);
      return RunMixLoop<false, true>(n, deadline, start, interval);
    }
    if (interval > 0) {
      RunMixLoop<true>(n, deadline, start, interval);
    } else {
      RunMixLoop<false>(n, deadline, start, interval);
    }
  }

  // Checks every id in [begin, end) exactly (no writer runs).
  void VerifyAll(uint64_t begin, uint64_t end) {
    if (s_->records) return VerifyEach<true>(begin, end);
    VerifyEach(begin, end);
  }

 private:
  // The list-driven loops, for byte values or (kRecords) struct values. Only
  // the engine call is timed: keys, values and checks stay outside.
  template <bool kRecords = false>
  void LoadEach(const std::vector<uint32_t>& ids, uint64_t begin,
                uint64_t end) {
    Histogram& h = Hist(static_cast<int>(OpType::kInsert));
    for (uint64_t i = begin; i < end; ++i) {
      uint64_t id = ids[i];
      PrefetchAhead(ids, i, end);
      const std::string_view key = s_->keys->KeyInto(id, &key_);
      if constexpr (kRecords) {
        s_->records->Make(id, 1, &rec_);
      } else {
        s_->codec->Encode(s_->keys->hash(id, key), 1, &value_);
      }
      const bool timed = (i & s_->sample_mask) == 0;
      uint64_t t0 = Now(timed);
      Status st = kRecords ? PutRecord(key) : s_->db->Put(key, value_);
      if (timed) h.Record(clock::Ticks() - t0);
      if (st.ok()) {
        s_->tracker->Set(id, 1, false);
      } else {
        Error(st);
      }
      done_.store(i - begin + 1, std::memory_order_relaxed);
    }
  }

  template <bool kRecords = false>
  void ReadEach(const std::vector<uint32_t>& ids, uint64_t begin,
                uint64_t end) {
    Histogram& h = Hist(static_cast<int>(OpType::kRead));
    for (uint64_t i = begin; i < end; ++i) {
      uint64_t id = ids[i];
      PrefetchAhead(ids, i, end);
      uint32_t floor = Floor(id);
      const bool timed = (i & s_->sample_mask) == 0;
      const std::string_view key = s_->keys->KeyInto(id, &key_);
      uint64_t t0 = Now(timed);
      Status st = GetValue<kRecords>(key);
      if (timed) h.Record(clock::Ticks() - t0);
      CheckRead<kRecords>(id, key, floor, st);
      done_.store(i - begin + 1, std::memory_order_relaxed);
    }
  }

  template <bool kRecords = false>
  void VerifyEach(uint64_t begin, uint64_t end) {
    Histogram& h = Hist(static_cast<int>(OpType::kRead));
    for (uint64_t id = begin; id < end; ++id) {
      uint32_t floor = Floor(id);
      const std::string_view key = s_->keys->KeyInto(id, &key_);
      uint64_t t0 = clock::Ticks();
      Status st = GetValue<kRecords>(key);
      h.Record(clock::Ticks() - t0);
      CheckRead<kRecords>(id, key, floor, st);
      done_.store(id - begin + 1, std::memory_order_relaxed);
    }
  }

  // Reads `key` into read_ (bytes) or got_ (kRecords).
  template <bool kRecords>
  Status GetValue(std::string_view key) {
    if constexpr (kRecords) return GetRecord(key);
    return s_->db->Get(key, &read_);
  }

  template <bool kOpenLoop, bool kRecords = false>
  void RunMixLoop(uint64_t n, uint64_t deadline, uint64_t start,
                  uint64_t interval) {
    const uint64_t loaded_cap = s_->capacity;
    // Open loop: each thread's arrivals are a Poisson process of mean gap
    // `interval` from its own random stream, so threads are neither
    // phase-aligned nor periodic, and the request stream is the closed
    // loop's.
    double arrival = static_cast<double>(start);
    for (uint64_t i = 0; i < n; ++i) {
      if (deadline != 0 && (i & 255) == 0 && clock::Ticks() >= deadline) break;
      if (stoppable_ && s_->stop.load(std::memory_order_relaxed)) break;
      OpType op = ops_.Next(rng_.Next());
      timed_ = kOpenLoop || (i & s_->sample_mask) == 0;
      uint64_t due = 0;
      if constexpr (kOpenLoop) {
        arrival +=
            -std::log1p(-arrivals_.Unit()) * static_cast<double>(interval);
        due = static_cast<uint64_t>(arrival);
        if (!WaitUntil(due, stoppable_ ? &s_->stop : nullptr)) break;
      }
      // Only acknowledged inserts: a key another thread has claimed but not
      // yet written is not there to read.
      uint64_t limit = std::min(s_->acked.Limit(), loaded_cap);
      if (op == OpType::kInsert) {
        uint64_t id = s_->next_insert.fetch_add(1, std::memory_order_relaxed);
        if (id < loaded_cap) {
          Write<kRecords>(OpType::kInsert, id, false, due);
          s_->acked.Ack(id);
        } else {
          // The id space is exhausted (far more inserts than the mix
          // predicted): update.
          Write<kRecords>(OpType::kUpdate, chooser_.Next(rng_, limit), false,
                          due);
        }
      } else {
        uint64_t id = chooser_.Next(rng_, limit);
        switch (op) {
          case OpType::kRead:
            Read<kRecords>(id, due);
            break;
          case OpType::kUpdate:
            Write<kRecords>(OpType::kUpdate, id, false, due);
            break;
          case OpType::kDelete:
            Write<kRecords>(OpType::kDelete, id, true, due);
            break;
          case OpType::kReadModifyWrite:
            ReadModifyWrite<kRecords>(id, due);
            break;
          case OpType::kScan:
            Scan(id, due);
            break;
          case OpType::kInsert:
            break;
        }
      }
      done_.store(i + 1, std::memory_order_relaxed);
    }
  }

  // Sleeps through long waits (so idle harness threads leave the CPU to the
  // engine) and spins the last stretch for precision.
  // Sleeps until shortly before `due`, then spins: only the last 20 us are
  // spun, so on a small machine the engines' background threads keep their
  // cores (a 200 us spin starved them on 2 cores).
  // Sleeps are at most 1 ms long, so a `stop` (when given) ends the wait
  // within ~1 ms: false then.
  static bool WaitUntil(uint64_t due, const std::atomic<bool>* stop) {
    static const uint64_t kSpin = clock::NsToTicks(20000);
    static const uint64_t kMaxSleep = clock::NsToTicks(1000000);
    // The default 50 us timer slack would make every sleep overshoot the spin.
    static thread_local const bool kSlackSet =
        prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL) == 0;
    (void)kSlackSet;
    for (;;) {
      if (stop != nullptr && stop->load(std::memory_order_relaxed))
        return false;
      uint64_t now = clock::Ticks();
      if (now >= due) return true;
      if (due - now > kSpin) {
        const uint64_t nap = std::min(due - now - kSpin / 2, kMaxSleep);
        std::this_thread::sleep_for(std::chrono::nanoseconds(
            static_cast<int64_t>(clock::TicksToNs(nap))));
      }
    }
  }

  uint64_t Now(bool timed) const { return timed ? clock::Ticks() : 0; }

  // The committed word a read is judged against; unread (0) when reads are
  // not checked, so an unverified loop touches no per-key harness state.
  uint32_t Floor(uint64_t id) const {
    return s_->verify ? s_->tracker->ReadFloor(id) : 0;
  }

  // Open loop records both the intended-start latency (under the op's name) and
  // the service time (under "<op>_service"), like YCSB's
  // measurement.interval=both.
  void Record(OpType op, uint64_t t0, uint64_t t1, uint64_t due) {
    if (!timed_) return;
    int slot = static_cast<int>(op);
    if (due) {
      hist_[slot]->Record(t1 > due ? t1 - due : 0);
      if (!service_[slot]) service_[slot] = std::make_unique<Histogram>();
      service_[slot]->Record(t1 - t0);
    } else {
      hist_[slot]->Record(t1 - t0);
    }
  }

  template <bool kRecords = false>
  void Read(uint64_t id, uint64_t due) {
    uint32_t floor = Floor(id);
    const std::string_view key = s_->keys->KeyInto(id, &key_);
    uint64_t t0 = Now(timed_);
    Status st = GetValue<kRecords>(key);
    uint64_t t1 = Now(timed_);
    Record(OpType::kRead, t0, t1, due);
    CheckRead<kRecords>(id, key, floor, st);
  }

  template <bool kRecords = false>
  void Write(OpType op, uint64_t id, bool del, uint64_t due) {
    if constexpr (kRecords) return WriteRecord(op, id, del, due);
    uint32_t version = s_->tracker->BeginWrite(id);
    const std::string_view key = s_->keys->KeyInto(id, &key_);
    if (!del) s_->codec->Encode(s_->keys->hash(id, key), version, &value_);
    uint64_t t0 = Now(timed_);
    Status st = del ? s_->db->Delete(key) : s_->db->Put(key, value_);
    uint64_t t1 = Now(timed_);
    s_->tracker->EndWrite(id, version, del, st.ok());
    Record(op, t0, t1, due);
    if (!st.ok()) Error(st);
  }

  template <bool kRecords = false>
  void ReadModifyWrite(uint64_t id, uint64_t due) {
    if constexpr (kRecords) return RecordReadModifyWrite(id, due);
    // The write lock is held across read and write, so the read must see the
    // newest state.
    uint32_t version = s_->tracker->BeginWrite(id);
    uint32_t floor = Floor(id);
    const std::string_view key = s_->keys->KeyInto(id, &key_);
    s_->codec->Encode(s_->keys->hash(id, key), version, &value_);
    uint64_t t0 = Now(timed_);
    Status rs = s_->db->Get(key, &read_);
    Status ws = s_->db->Put(key, value_);
    uint64_t t1 = Now(timed_);
    s_->tracker->EndWrite(id, version, false, ws.ok());
    Record(OpType::kReadModifyWrite, t0, t1, due);
    CheckRead(id, key, floor, rs);
    if (!ws.ok()) Error(ws);
  }

  void Scan(uint64_t id, uint64_t due) {
    uint32_t len = s_->spec->scan_length.Pick(rng_.Next());
    const std::string_view key = s_->keys->KeyInto(id, &key_);
    scan_entries_.Clear();
    uint64_t t0 = Now(timed_);
    Status st = s_->db->Scan(key, len, scan_cb_);
    uint64_t t1 = Now(timed_);
    Record(OpType::kScan, t0, t1, due);
    if (!st.ok()) Error(st);
    scan_entries_.ForEach([this](std::string_view k, std::string_view v) {
      CheckScanned(k, v);
    });
  }

  void CheckScanned(std::string_view key, std::string_view value) {
    uint32_t version;
    switch (
        s_->codec->Verify(KeyHash32(key, s_->spec->seed), value, &version)) {
      case VerifyResult::kOk:
        ++verify_.verified;
        break;
      case VerifyResult::kWrongKey:
        ++verify_.wrong_key;
        break;
      case VerifyResult::kCorrupt:
        ++verify_.corrupt;
        break;
    }
  }

  // Judges a read of key `id` (`key`: its bytes, for byte values; struct
  // values are checked by id) against `floor` (Floor(id) before the read).
  template <bool kRecords = false>
  void CheckRead(uint64_t id, std::string_view key, uint32_t floor,
                 const Status& st) {
    if (!s_->verify) {
      if (!st.ok() && !st.IsNotFound()) Error(st);
      return;
    }
    if (st.IsNotFound()) {
      if (s_->tracker->CheckAbsent(id, floor) == ReadCheck::kOk) {
        ++verify_.absent_ok;
      } else {
        ++verify_.missing;
        Note("missing key id " + std::to_string(id));
      }
      return;
    }
    if (!st.ok()) return Error(st);
    uint32_t version = 0;
    VerifyResult vr;
    if constexpr (kRecords) {
      vr = got_decoded_ ? s_->records->Verify(id, got_, &version, &scratch_)
                        : VerifyResult::kCorrupt;
    } else {
      vr = s_->codec->Verify(s_->keys->hash(id, key), read_, &version);
    }
    switch (vr) {
      case VerifyResult::kWrongKey:
        ++verify_.wrong_key;
        return Note("value of another key returned for key id " +
                    std::to_string(id));
      case VerifyResult::kCorrupt:
        ++verify_.corrupt;
        return Note("corrupt value for key id " + std::to_string(id));
      case VerifyResult::kOk:
        break;
    }
    switch (s_->tracker->CheckFound(id, floor, version)) {
      case ReadCheck::kOk:
        ++verify_.verified;
        break;
      case ReadCheck::kStale:
        ++verify_.stale;
        Note("stale version " + std::to_string(version) + " for key id " +
             std::to_string(id));
        break;
      default:
        ++verify_.unknown_version;
        Note("unwritten version " + std::to_string(version) + " for key id " +
             std::to_string(id));
        break;
    }
  }

  // ---- Struct values (value_kind=struct). A byte adapter gets the record as
  // JSON, encoded and decoded inside the timed call, as an application would
  // pay it; a native adapter (TypedRecordAccess) gets the struct itself.

  // Stores rec_ under `key`.
  Status PutRecord(std::string_view key) {
    if (s_->typed != nullptr) return s_->typed->PutRecord(key, rec_);
    KVB_RETURN_IF_ERROR(EncodeRecordJson(rec_, &value_));
    return s_->db->Put(key, value_);
  }
  // Reads `key` into got_. A JSON value that does not decode sets
  // got_decoded_ = false, which verification counts as corrupt.
  Status GetRecord(std::string_view key) {
    got_decoded_ = true;
    if (s_->typed != nullptr) return s_->typed->GetRecord(key, &got_);
    Status st = s_->db->Get(key, &read_);
    if (st.ok()) got_decoded_ = DecodeRecordJson(read_, &got_).ok();
    return st;
  }
  Status DeleteRecord(std::string_view key) {
    return s_->typed != nullptr ? s_->typed->DeleteRecord(key)
                                : s_->db->Delete(key);
  }

  // The mix's writes (see Write, ReadModifyWrite for the byte versions).
  void WriteRecord(OpType op, uint64_t id, bool del, uint64_t due) {
    uint32_t version = s_->tracker->BeginWrite(id);
    if (!del) s_->records->Make(id, version, &rec_);
    const std::string_view key = s_->keys->KeyInto(id, &key_);
    uint64_t t0 = Now(timed_);
    Status st = del ? DeleteRecord(key) : PutRecord(key);
    uint64_t t1 = Now(timed_);
    s_->tracker->EndWrite(id, version, del, st.ok());
    Record(op, t0, t1, due);
    if (!st.ok()) Error(st);
  }

  void RecordReadModifyWrite(uint64_t id, uint64_t due) {
    uint32_t version = s_->tracker->BeginWrite(id);
    uint32_t floor = Floor(id);
    s_->records->Make(id, version, &rec_);
    const std::string_view key = s_->keys->KeyInto(id, &key_);
    uint64_t t0 = Now(timed_);
    Status rs = GetRecord(key);
    Status ws = PutRecord(key);
    uint64_t t1 = Now(timed_);
    s_->tracker->EndWrite(id, version, false, ws.ok());
    Record(OpType::kReadModifyWrite, t0, t1, due);
    CheckRead<true>(id, {}, floor, rs);
    if (!ws.ok()) Error(ws);
  }

  void LoadBatched(const std::vector<uint32_t>& ids, uint64_t begin,
                   uint64_t end, uint32_t batch) {
    std::vector<std::string> values(batch), keys(batch);
    std::vector<KeyValue> pairs;
    pairs.reserve(batch);
    Histogram& h = Hist(kBatchSlot);
    for (uint64_t i = begin; i < end; i += batch) {
      uint64_t stop = std::min<uint64_t>(end, i + batch);
      pairs.clear();
      for (uint64_t j = i; j < stop; ++j) {
        std::string& v = values[j - i];
        const std::string_view key = s_->keys->KeyInto(ids[j], &keys[j - i]);
        s_->codec->Encode(s_->keys->hash(ids[j], key), 1, &v);
        pairs.push_back(KeyValue{key, v});
      }
      uint64_t t0 = clock::Ticks();
      Status st = s_->db->WriteBatch(pairs);
      h.Record(clock::Ticks() - t0);
      if (st.ok()) {
        for (uint64_t j = i; j < stop; ++j) s_->tracker->Set(ids[j], 1, false);
      } else {
        Error(st);
      }
      done_.store(stop - begin, std::memory_order_relaxed);
    }
  }

  void Error(const Status& st) {
    ++errors_;
    if (messages_.size() < kMaxErrorMessages)
      messages_.push_back(st.ToString());
  }
  void Note(std::string msg) {
    if (messages_.size() < kMaxErrorMessages)
      messages_.push_back(std::move(msg));
  }

  Shared* s_;
  Rng rng_;
  Rng arrivals_;  // open-loop arrival gaps, apart from the request stream
  KeyChooser chooser_;
  OpChooser ops_;
  std::array<std::unique_ptr<Histogram>, kSlots> hist_;
  std::array<std::unique_ptr<Histogram>, kSlots> service_;
  VerifyCounts verify_;
  uint64_t errors_ = 0;
  uint64_t scanned_ = 0;
  std::string role_;
  bool stoppable_ = false;
  bool timed_ = true;
  std::vector<std::string> messages_;
  std::string value_, read_;
  // The current key, copied or spelled here before each engine call
  // (KeySet::KeyInto), so the engine gets bytes already in this core's cache.
  std::string key_;
  TypedRecord rec_, got_, scratch_;  // value_kind=struct: written, read, check
  bool got_decoded_ = true;
  ScanCallback scan_cb_;
  ScanEntries scan_entries_;  // the current scan's entries, checked after it
  alignas(64) std::atomic<uint64_t> done_{0};
};

// Runs `body(worker_index)` on `threads` threads while the calling thread
// samples progress and the per-second series; fills the phase's ops, wall and
// CPU time.
template <typename Body>
void RunPhase(const std::string& label,
              std::vector<std::unique_ptr<Worker>>& workers,
              uint64_t expected_ops, bool progress, PhaseResult* phase,
              Body body) {
  double cpu0 = probes::ProcessCpuSeconds();
  std::atomic<uint32_t> ready{0};
  std::atomic<bool> go{false};
  std::atomic<uint32_t> finished{0};
  std::vector<std::thread> threads;
  uint64_t start = 0;  // written before `go` is released
  // Each thread stamps its own finish: the supervisor only polls every 20 ms.
  std::vector<uint64_t> ends(workers.size(), 0);
  for (size_t t = 0; t < workers.size(); ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      body(t, start);
      ends[t] = clock::Ticks();
      finished.fetch_add(1, std::memory_order_release);
    });
  }
  while (ready.load() < workers.size()) std::this_thread::yield();
  const io::Counters io0 = io::Read();
  start = clock::Ticks();
  go.store(true, std::memory_order_release);

  auto total_done = [&] {
    uint64_t n = 0;
    for (auto& w : workers) n += w->done().load(std::memory_order_relaxed);
    return n;
  };
  Progress bar(label, expected_ops, progress);
  uint64_t last_second_ops = 0;
  double next_second = 1.0;
  while (finished.load(std::memory_order_acquire) < workers.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    double elapsed = Seconds(clock::Ticks() - start);
    uint64_t n = total_done();
    if (elapsed >= next_second) {
      phase->ops_per_second.push_back(n - last_second_ops);
      last_second_ops = n;
      next_second += 1.0;
    }
    bar.Update(n, elapsed);
  }
  for (auto& th : threads) th.join();
  phase->io = io::Delta(io0, io::Read());
  uint64_t end = *std::max_element(ends.begin(), ends.end());
  for (size_t t = 0; t < workers.size(); ++t)
    workers[t]->elapsed_s = Seconds(ends[t] - start);
  bar.Finish();
  uint64_t n = total_done();
  if (n > last_second_ops) phase->ops_per_second.push_back(n - last_second_ops);
  phase->ops = n;
  phase->wall_s = Seconds(end - start);
  phase->cpu_s = probes::ProcessCpuSeconds() - cpu0;
  phase->rss_end_bytes = probes::CurrentRssBytes();
}

// Exported histograms: 128 buckets per power of two (0.8 % wide at most), a
// few hundred non-empty buckets for a typical op type.
constexpr int kExportSubBits = 7;

LatencySummary Summarise(const Histogram& h) {
  auto ns = [](uint64_t ticks) {
    return clock::TicksToNs(static_cast<double>(ticks));
  };
  LatencySummary s;
  s.count = h.count();
  s.mean_ns = clock::TicksToNs(h.mean());
  s.min_ns = ns(h.min());
  s.p50_ns = ns(h.Percentile(50));
  s.p90_ns = ns(h.Percentile(90));
  s.p99_ns = ns(h.Percentile(99));
  s.p999_ns = ns(h.Percentile(99.9));
  s.p9999_ns = ns(h.Percentile(99.99));
  s.max_ns = ns(h.max());
  for (const Histogram::Range& r : h.Export(kExportSubBits))
    s.buckets.push_back({ns(r.lo), ns(r.hi), r.count});
  return s;
}

// Per role: threads, ops, the role's wall time and its merged histograms.
void CollectRoles(std::vector<std::unique_ptr<Worker>>& workers,
                  PhaseResult* phase) {
  std::map<std::string, std::vector<const Worker*>> by_role;
  for (auto& w : workers) {
    if (!w->role().empty()) by_role[w->role()].push_back(w.get());
  }
  for (const auto& [role, members] : by_role) {
    RoleResult& r = phase->roles[role];
    for (int slot = 0; slot < kSlots; ++slot) {
      Histogram merged, service;
      for (const Worker* w : members) {
        r.ops += slot == 0 ? w->done_count() : 0;
        if (slot == 0) r.wall_s = std::max(r.wall_s, w->elapsed_s);
        if (w->hists()[slot]) merged.Merge(*w->hists()[slot]);
        if (w->service()[slot]) service.Merge(*w->service()[slot]);
      }
      if (merged.count() > 0) r.latency[SlotName(slot)] = Summarise(merged);
      if (service.count() > 0)
        r.latency[SlotName(slot) + "_service"] = Summarise(service);
    }
    r.threads = static_cast<uint32_t>(members.size());
  }
}

// Merges the workers' histograms, counters and errors into the phase and the
// repetition.
void Collect(std::vector<std::unique_ptr<Worker>>& workers, PhaseResult* phase,
             RepResult* rep) {
  for (int slot = 0; slot < kSlots; ++slot) {
    Histogram merged, service;
    for (auto& w : workers) {
      if (w->hists()[slot]) merged.Merge(*w->hists()[slot]);
      if (w->service()[slot]) service.Merge(*w->service()[slot]);
    }
    if (merged.count() > 0) phase->latency[SlotName(slot)] = Summarise(merged);
    if (service.count() > 0)
      phase->latency[SlotName(slot) + "_service"] = Summarise(service);
  }
  CollectRoles(workers, phase);
  for (auto& w : workers) {
    phase->errors += w->errors();
    rep->verify.Add(w->verify());
    for (const std::string& m : w->messages()) {
      if (rep->error_messages.size() < kMaxErrorMessages) {
        rep->error_messages.push_back(phase->name + ": " + m);
      }
    }
  }
  rep->errors += phase->errors;
}

std::vector<std::unique_ptr<Worker>> MakeWorkers(Shared* shared,
                                                 uint32_t threads,
                                                 const OpMix* force_mix,
                                                 uint64_t draws) {
  const WorkloadSpec& spec = *shared->spec;
  std::vector<std::unique_ptr<Worker>> workers;
  static const OpMix kOverwrite = [] {
    OpMix m;
    m[OpType::kUpdate] = 1;
    return m;
  }();
  for (uint32_t t = 0; t < threads; ++t) {
    const OpMix* mix = &spec.mix;
    std::string role;
    const bool writer = !force_mix && spec.readers > 0 && t == spec.readers;
    if (force_mix) {
      mix = force_mix;
    } else if (spec.readers > 0) {
      mix = writer ? &kOverwrite : &spec.mix;
      role = writer ? "writer" : "reader";
    } else if (!spec.roles.empty() && threads >= spec.roles.size()) {
      mix = &spec.roles[t % spec.roles.size()];
      role = spec.role_names[t % spec.roles.size()];
    }
    workers.push_back(std::make_unique<Worker>(shared, *mix, t, threads));
    workers.back()->SetRole(role, writer);
    if (draws > 0) workers.back()->Pregenerate(draws);
  }
  return workers;
}

std::pair<uint64_t, uint64_t> Share(uint64_t total, uint32_t threads,
                                    uint32_t t) {
  uint64_t base = total / threads, extra = total % threads;
  uint64_t begin = t * base + std::min<uint64_t>(t, extra);
  return {begin, begin + base + (t < extra ? 1 : 0)};
}

std::vector<uint32_t> Permutation(uint64_t n, bool shuffle, uint64_t seed) {
  std::vector<uint32_t> ids(n);
  std::iota(ids.begin(), ids.end(), 0);
  if (shuffle) {
    Rng rng(seed);
    for (uint64_t i = n; i > 1; --i) std::swap(ids[i - 1], ids[rng.Below(i)]);
  }
  return ids;
}

std::string Sanitize(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return out;
}

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

// --reuse support: the tracker state of a loaded database lives in a file
// beside its directory (DIR.kvbench-reuse), never inside it: engines may
// refuse a directory holding files they did not write (linhash does).
std::string StateFile(const std::string& dir) { return dir + ".kvbench-reuse"; }

bool LoadState(const std::string& dir, const std::string& sig,
               VersionTracker* tracker, uint64_t* next_insert) {
  std::ifstream in(StateFile(dir), std::ios::binary);
  std::string header;
  if (!in || !std::getline(in, header) || header != sig) return false;
  uint64_t next = 0;
  in.read(reinterpret_cast<char*>(&next), sizeof next);
  std::vector<uint32_t> words(2 * tracker->capacity());
  in.read(reinterpret_cast<char*>(words.data()), words.size() * 4);
  if (!in) return false;
  for (uint64_t i = 0; i < tracker->capacity(); ++i) {
    uint32_t committed = words[2 * i], issued = words[2 * i + 1];
    tracker->Set(i, committed >> 1, committed & 1);
    // Restore issued too, so a failed write's version is not reused.
    while (tracker->Issued(i) < issued)
      tracker->EndWrite(i, tracker->BeginWrite(i), false, false);
  }
  *next_insert = next;
  return true;
}

Status SaveState(const std::string& dir, const std::string& sig,
                 const VersionTracker& tracker, uint64_t next_insert) {
  std::ofstream out(StateFile(dir), std::ios::binary | std::ios::trunc);
  out << sig << '\n';
  out.write(reinterpret_cast<const char*>(&next_insert), sizeof next_insert);
  for (uint64_t i = 0; i < tracker.capacity(); ++i) {
    uint32_t w[2] = {tracker.Committed(i), tracker.Issued(i)};
    out.write(reinterpret_cast<const char*>(w), sizeof w);
  }
  if (!out) return Status::IOError("cannot write " + StateFile(dir));
  return Status::OK();
}

// One repetition of one point, step by step (see the order in runner.h).
class PointRun {
 public:
  PointRun(const RunSettings& settings, const PointSpec& point, int repetition)
      : settings_(settings), point_(point) {
    rep_.point = point;
    rep_.repetition = repetition;
    rep_.engine_spec = point.engine_spec;
  }

  RepResult& rep() { return rep_; }

  // The class the adapter runs at: the engine spec's own, else the
  // workload's. A baseline that keeps nothing (null, memory) runs at memory
  // whatever the workload asks, with a note; a class the adapter refuses
  // leaves *refused set (the point is skipped with that reason).
  Status ChooseDurability(AdapterSpec* aspec, std::string* refused) {
    if (aspec->options.count("durability")) return Status::OK();
    aspec->options["durability"] = spec_.durability;
    const AdapterInfo* info = FindAdapter(aspec->name);
    if (info == nullptr || !info->built) return Status::OK();
    KVB_ASSIGN_OR_RETURN(DurabilityClass want,
                         ParseDurabilityClass(spec_.durability));
    Status s = CheckProvides(info->durability, info->name, want);
    if (s.ok()) return Status::OK();
    if (!info->capabilities.persistent) {
      aspec->options["durability"] = "memory";
      rep_.notes.push_back("not persistent: ran at durability=memory, not " +
                           want.ToString());
      return Status::OK();
    }
    *refused = std::string(s.message());
    return Status::OK();
  }

  // The class and settings actually used, and every option, for the results.
  Status RecordEngineSettings() {
    KVB_ASSIGN_OR_RETURN(OptionMap opts, ResolvedOptions(adapter_spec_));
    KVB_ASSIGN_OR_RETURN(DurabilityClass d,
                         ParseDurabilityClass(opts["durability"]));
    rep_.durability = d.ToString();
    if (const AdapterInfo* info = FindAdapter(rep_.engine)) {
      std::string settings(WayOf(info->durability, d.level).settings);
      size_t ms = settings.find("MS");
      if (ms != std::string::npos && d.level == Durability::kPeriodic)
        settings.replace(ms, 2, std::to_string(d.period_ms));
      rep_.durability_settings = settings;
    }
    rep_.engine_options.insert(opts.begin(), opts.end());
    return Status::OK();
  }

  // Resolves the workload, makes the adapter, generates keys; decides skips.
  Status Setup() {
    KVB_ASSIGN_OR_RETURN(spec_, ResolveWorkload(point_));
    if (rep_.repetition > 0 && settings_.seed_per_repetition &&
        !settings_.reuse)
      spec_.seed =
          StreamSeed(spec_.seed, static_cast<uint64_t>(rep_.repetition));
    KVB_ASSIGN_OR_RETURN(AdapterSpec aspec,
                         ParseAdapterSpec(point_.engine_spec));
    std::string refused;
    KVB_RETURN_IF_ERROR(ChooseDurability(&aspec, &refused));
    adapter_spec_ = aspec.ToString();
    rep_.engine = aspec.name;
    rep_.workload = spec_.name;
    rep_.params = DescribeParams(spec_);
    rep_.threads = spec_.threads;
    rep_.name = BenchmarkName(spec_.name, point_.engine_spec, spec_.keys,
                              spec_.threads);
    rep_.primary_phase = spec_.shape == RunShape::kNone ? "load" : "run";
    if (!refused.empty()) return Skip(refused);
    KVB_ASSIGN_OR_RETURN(caps_, CapabilitiesOf(adapter_spec_));
    KVB_RETURN_IF_ERROR(RecordEngineSettings());
    if (spec_.NeedsScan() && !caps_.ordered)
      return Skip("engine has no ordered scan");
    if (spec_.threads > 1 && !caps_.thread_safe) {
      return Skip("engine is not thread-safe");
    }
    // Everything generated here is outside every timed phase.
    capacity_ = spec_.KeyCapacity();
    KVB_ASSIGN_OR_RETURN(
        keys_,
        KeySet::Build(
            capacity_, spec_.key_size, spec_.ordered_keys, spec_.seed,
            KeySet::StorageFor(capacity_, spec_.key_size)));
    codec_ = std::make_unique<ValueCodec>(spec_.seed, spec_.value_size);
    tracker_ = std::make_unique<VersionTracker>(
        capacity_, spec_.threads > 1 && spec_.Writes());
    SetupShared();
    if (spec_.value_kind == ValueKind::kStruct) SetupRecords();
    load_sig_ =
        "kvbench-reuse-1 " + aspec.ToString() +
        " keys=" + std::to_string(spec_.keys) +
        " key_size=" + spec_.key_size.ToString() +
        " value_size=" + spec_.value_size.ToString() +
        " ordered=" + std::to_string(spec_.ordered_keys) +
        " seed=" + std::to_string(spec_.seed) +
        " capacity=" + std::to_string(capacity_) +
        (spec_.value_kind == ValueKind::kStruct ? " value_kind=struct" : "");
    return Status::OK();
  }

  // Chooses the directory (fresh, or a reusable loaded one) and opens it.
  Status Open() {
    reuse_ = settings_.reuse && caps_.persistent;
    dir_ =
        settings_.data_dir + "/" +
        (reuse_ ? Sanitize(point_.engine_spec + "-" + spec_.name) + "-" +
                      std::to_string(Hash64(load_sig_) & 0xffffffff)
                : Sanitize(rep_.name) + "-r" + std::to_string(rep_.repetition));
    uint64_t restored_next = 0;
    if (reuse_) {
      loaded_ = LoadState(dir_, load_sig_, tracker_.get(), &restored_next);
      if (loaded_) {
        rep_.notes.push_back("reused the loaded database in " + dir_);
        // Consumed: a run that dies before Cleanup saves it again leaves no
        // record, so the next run reloads instead of trusting a stale one.
        KVB_RETURN_IF_ERROR(probes::RemoveTree(StateFile(dir_)));
      }
    }
    if (!loaded_) {
      KVB_RETURN_IF_ERROR(probes::RemoveTree(dir_));
      KVB_RETURN_IF_ERROR(probes::RemoveTree(StateFile(dir_)));
    }
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir_));
    Status st = OpenDb();
    if (!st.ok()) return st.WithContext("open " + point_.engine_spec);
    open_ = true;
    if (records_) {
      // Known once open: whether the adapter stores struct values natively.
      const bool native = shared_.typed != nullptr;
      rep_.params["struct_path"] = native ? "native" : "json";
      rep_.notes.push_back(
          native ? "struct values stored natively (no JSON in the harness)"
                 : "struct values stored as JSON, encoded/decoded in each "
                   "timed op");
    }
    shared_.next_insert.store(loaded_ ? restored_next : spec_.keys);
    shared_.acked.Reset(shared_.next_insert.load(), capacity_);
    return Status::OK();
  }

  void Load() {
    if (!spec_.load || loaded_) return;
    std::vector<uint32_t> order = Permutation(
        spec_.keys, !spec_.ordered_keys, StreamSeed(spec_.seed, 0x6c6f6164));
    uint32_t batch = spec_.batch_load && caps_.batch ? spec_.batch_size : 1;
    if (spec_.batch_load && !caps_.batch) {
      rep_.notes.push_back("no native batch: loaded with Put");
    }
    PhaseResult& load = Phase("load", spec_.keys, nullptr, 0,
                              [&](Worker& w, uint32_t t, uint64_t) {
                                auto [b, e] = Share(spec_.keys, Threads(), t);
                                w.Load(order, b, e, batch);
                              });
    // A bulk load counts as done when it is durable: the final sync is timed
    // with it.
    auto t0 = std::chrono::steady_clock::now();
    Status ss = db_->Sync();
    if (spec_.shape == RunShape::kNone) load.wall_s += MsSince(t0) / 1000;
    Check(ss, "sync after load");
    // Every key at version 1: read-only phases can be judged without the
    // per-key slots (VersionTracker::MarkUniform checks the claim).
    if (load.errors == 0) tracker_->MarkUniform(spec_.keys, 1);
  }

  // Brings the engine to the workload's state (EngineState) after the load,
  // outside every timed phase: Settle() for settled (timed as settle_ms),
  // Close and a new open for reopened (reopen_ms).
  void ReachEngineState() {
    rep_.engine_state = std::string(EngineStateName(spec_.state));
    if (!open_ || spec_.state == EngineState::kFresh) return;
    if (spec_.state == EngineState::kSettled) {
      auto t0 = std::chrono::steady_clock::now();
      Check(db_->Settle(), "settle after load");
      rep_.settle_ms = MsSince(t0);
      return;
    }
    if (!caps_.persistent) {
      rep_.notes.push_back("not persistent: close/reopen skipped");
      return;
    }
    Check(db_->Close(), "close after load");
    open_ = Reopen("reopen after load", &rep_.reopen_ms);
  }

  // The run's mix (reads for read-all), discarded from the results' figures.
  void Warmup() {
    if (!open_ || spec_.shape == RunShape::kNone) return;
    if (settings_.warmup_ops == 0 && settings_.warmup_seconds <= 0) return;
    OpMix reads;
    reads[OpType::kRead] = 1;
    const OpMix* mix =
        spec_.shape == RunShape::kReadAllShuffled ? &reads : nullptr;
    uint64_t n = settings_.warmup_ops ? settings_.warmup_ops : UINT64_MAX - 1;
    uint64_t deadline =
        settings_.warmup_seconds > 0
            ? clock::Ticks() + clock::NsToTicks(settings_.warmup_seconds * 1e9)
            : 0;
    Phase("warmup", settings_.warmup_ops, mix, Draws(n, "warmup"),
          [&](Worker& w, uint32_t t, uint64_t) {
            auto [b, e] = Share(n, Threads(), t);
            w.RunMix(e - b, deadline, 0, 0);
          });
  }

  void MakeCacheCold() {
    if (!open_ || spec_.shape == RunShape::kNone || !settings_.cold_cache)
      return;
    if (!caps_.persistent) {
      rep_.notes.push_back("not persistent: cold cache not applicable");
      return;
    }
    const std::string caveat = probes::ColdCacheCaveat(dir_);
    if (!caveat.empty()) rep_.notes.push_back(caveat);
    Status cs = db_->Close();
    probes::EvictResult ev;
    Status es = cs.ok() ? probes::EvictFromPageCache(dir_, &ev) : cs;
    rep_.cache_eviction =
        ev.method + " (" + std::to_string(ev.files) + " files)";
    rep_.resident_after_evict = probes::ResidentFraction(dir_);
    if (!es.ok()) rep_.notes.push_back("cache eviction: " + es.ToString());
    double ms = 0;
    open_ = Reopen("reopen for cold cache", &ms);
    if (rep_.reopen_ms < 0) rep_.reopen_ms = ms;
  }

  void Measure() {
    if (!open_) return;
    rep_.state_figures = db_->StateFigures();
    if (caps_.persistent && spec_.shape != RunShape::kNone)
      rep_.resident_at_run_start = probes::ResidentFraction(dir_);
    if (spec_.shape == RunShape::kReadAllShuffled) {
      std::vector<uint32_t> order = Permutation(
          spec_.keys, true, StreamSeed(spec_.seed, 0x72656164));  // "read"
      Phase("run", spec_.keys, nullptr, 0,
            [&](Worker& w, uint32_t t, uint64_t) {
              auto [b, e] = Share(spec_.keys, Threads(), t);
              w.ReadList(order, b, e);
            });
    } else if (spec_.shape == RunShape::kMix && spec_.readers > 0) {
      MeasureReadWhileWriting();
    } else if (spec_.shape == RunShape::kMix) {
      uint64_t ops = spec_.RunOps();
      uint64_t interval = 0;
      if (settings_.target_rate > 0) {
        interval = clock::NsToTicks(1e9 * Threads() / settings_.target_rate);
        if (interval == 0) interval = 1;
        rep_.notes.push_back(
            "open loop: Poisson arrivals per thread (exponential gaps), "
            "latency from each op's intended start");
      }
      Phase("run", ops, nullptr, Draws(ops, "run"),
            [&](Worker& w, uint32_t t, uint64_t start) {
              auto [b, e] = Share(ops, Threads(), t);
              w.RunMix(e - b, 0, start, interval);
            });
    }
  }

  // Readers share the run's ops (closed loop, or open loop at --target-rate
  // over the readers); the writer overwrites at write_rate until the last
  // reader is done.
  void MeasureReadWhileWriting() {
    const uint64_t ops = spec_.RunOps();
    const uint32_t readers = spec_.readers;
    uint64_t read_interval = 0, write_interval = 0;
    if (settings_.target_rate > 0) {
      read_interval = std::max<uint64_t>(
          1, clock::NsToTicks(1e9 * readers / settings_.target_rate));
    }
    if (spec_.write_rate > 0) {
      write_interval =
          std::max<uint64_t>(1, clock::NsToTicks(1e9 / spec_.write_rate));
    }
    rep_.notes.push_back(
        "read-while-writing: " + std::to_string(readers) +
        " reader thread(s) share the run's ops; one writer overwrites " +
        (spec_.write_rate > 0 ? "at " + std::to_string(static_cast<uint64_t>(
                                            spec_.write_rate)) +
                                    " ops/s (open loop, Poisson arrivals)"
                              : std::string("as fast as it can")) +
        " until they finish");
    std::atomic<uint32_t> left{readers};
    shared_.stop.store(false);
    PhaseResult& phase =
        Phase("run", ops, nullptr, Draws(ops * (readers + 1) / readers, "run"),
              [&](Worker& w, uint32_t t, uint64_t start) {
                if (t == readers) {
                  w.RunMix(UINT64_MAX - 1, 0, start, write_interval);
                  return;
                }
                auto [b, e] = Share(ops, readers, t);
                w.RunMix(e - b, 0, start, read_interval);
                if (left.fetch_sub(1) == 1) shared_.stop.store(true);
              });
    auto writer = phase.roles.find("writer");
    if (writer != phase.roles.end())
      writer->second.target_rate = spec_.write_rate;
    auto reader = phase.roles.find("reader");
    if (reader != phase.roles.end())
      reader->second.target_rate = settings_.target_rate;
  }

  // --memory-limit: the group's charge as the measured phase ends.
  void RecordCgroupAtRunEnd() {
    if (settings_.memory_cgroup.dir.empty()) return;
    CgroupMemoryFigures f = settings_.memory_cgroup.Read();
    rep_.memory_cap.limit_bytes = settings_.memory_limit;  // so RepToJson keeps it
    rep_.memory_cap.run_end_bytes = f.current_bytes;
    rep_.memory_cap.run_end_file_bytes = f.file_bytes;
    rep_.memory_cap.run_end_anon_bytes = f.anon_bytes;
  }

  // Sync, stats, logical bytes, close, allocated bytes.
  void CloseAndMeasureFiles() {
    if (open_) {
      rep_.engine_stats = db_->Stats();
      Check(db_->Sync(), "sync");
    }
    std::string key;
    for (uint64_t id = 0; id < IdLimit(); ++id) {
      uint32_t c = tracker_->Committed(id);
      if (c != 0 && !(c & 1)) {
        rep_.logical_bytes +=
            keys_.key(id, &key).size() + ValueBytes(id, c >> 1);
      }
    }
    // A non-persistent engine forgets everything at Close: check it first.
    if (open_ && spec_.final_verify && !caps_.persistent) VerifyAll();
    Check(db_->Close(), "close");
    Result<uint64_t> bytes = db_->BytesOnDisk();
    if (bytes.ok()) rep_.bytes_on_disk = static_cast<int64_t>(*bytes);
    Result<uint64_t> logs = db_->InfoLogBytes();
    if (logs.ok()) rep_.info_log_bytes = static_cast<int64_t>(*logs);
    if (rep_.bytes_on_disk > 0 && rep_.logical_bytes > 0) {
      rep_.space_amp =
          static_cast<double>(rep_.bytes_on_disk) / rep_.logical_bytes;
    }
  }

  void FinalVerify() {
    if (!open_ || !spec_.final_verify || !caps_.persistent) return;
    if (!Reopen("reopen for verify", &rep_.verify_reopen_ms)) return;
    VerifyAll();
    Check(db_->Close(), "close after verify");
  }

  void Cleanup() {
    rep_.peak_rss_bytes = probes::RepetitionPeakRssBytes();
    Status s;
    if (reuse_) {
      s = SaveState(dir_, load_sig_, *tracker_, shared_.next_insert.load());
    } else if (!settings_.keep_data) {
      s = probes::RemoveTree(dir_);
    }
    if (!s.ok()) rep_.notes.push_back(s.ToString());
  }

 private:
  Status Skip(std::string reason) {
    rep_.skipped = true;
    rep_.skip_reason = std::move(reason);
    return Status::OK();
  }

  void SetupShared() {
    shared_.db = db_.get();
    shared_.spec = &spec_;
    shared_.keys = &keys_;
    shared_.codec = codec_.get();
    shared_.tracker = tracker_.get();
    shared_.table = KeyChooser::MakeTable(spec_.request, capacity_);
    shared_.capacity = capacity_;
    // The null adapter stores nothing, so there is nothing to check.
    shared_.verify = settings_.verify && rep_.engine != "null";
    rep_.verify.enabled = shared_.verify;
    if (!settings_.verify) {
      rep_.notes.push_back(
          "verification off (--verify off): reads unchecked, no per-key "
          "harness state read in read paths");
    } else if (!shared_.verify) {
      rep_.notes.push_back("verification off: the null adapter stores nothing");
    }
    shared_.sample_mask =
        settings_.latency_sample > 1 ? settings_.latency_sample - 1 : 0;
    if (shared_.sample_mask) {
      rep_.notes.push_back("latency timed on 1 op in " +
                           std::to_string(settings_.latency_sample));
    }
  }

  // value_kind=struct: native struct storage where the adapter offers it, else
  // JSON through Put/Get; the results say which (param struct_path).
  void SetupRecords() {
    records_ = std::make_unique<RecordCodec>(spec_.seed);
    shared_.records = records_.get();
    if (spec_.batch_load) {
      rep_.notes.push_back("struct values: loaded one record at a time");
    }
  }

  // The logical size of a stored value: the bytes, or the record's JSON.
  uint64_t ValueBytes(uint64_t id, uint32_t version) const {
    if (!records_) return codec_->Length(keys_.hash(id), version);
    TypedRecord r;
    std::string json;
    records_->Make(id, version, &r);
    return EncodeRecordJson(r, &json).ok() ? json.size() : 0;
  }

  uint32_t Threads() const { return spec_.threads; }
  // Request ids drawn ahead per thread for a phase of `ops`: each thread's
  // share plus 1/8 for redrawn ids. A phase that needs more than the budget
  // replays the drawn ids cyclically, and the results say so.
  uint64_t Draws(uint64_t ops, const std::string& phase) {
    const uint64_t share = ops / Threads();
    const uint64_t want = share + share / 8 + 64;
    const uint64_t cap = std::max(kMinDraws, kDrawBudget / Threads());
    if (want > cap) {
      rep_.notes.push_back(phase + ": request keys replay cyclically after " +
                           std::to_string(cap) + " draws per thread");
    }
    return std::min(want, cap);
  }
  uint64_t IdLimit() const {
    return std::min(shared_.next_insert.load(), capacity_);
  }

  // Records a failed engine call as an error of the repetition.
  void Check(const Status& s, const std::string& what) {
    if (s.ok()) return;
    ++rep_.errors;
    rep_.error_messages.push_back(what + ": " + s.ToString());
  }

  // Opens the adapter on dir_ (the previous one, if any, is closed) and points
  // the workers' shared state at it. On failure db_ stays the closed one, on
  // which Close and BytesOnDisk still work.
  Status OpenDb() {
    Result<std::unique_ptr<Adapter>> db =
        settings_.open_adapter ? settings_.open_adapter(adapter_spec_, dir_)
                               : OpenAdapter(adapter_spec_, dir_);
    if (!db.ok()) return db.status();
    db_ = std::move(*db);
    shared_.db = db_.get();
    if (records_) shared_.typed = db_->typed_records();
    return Status::OK();
  }

  bool Reopen(const std::string& what, double* ms) {
    auto t0 = std::chrono::steady_clock::now();
    Status os = OpenDb();
    *ms = MsSince(t0);
    Check(os, what);
    return os.ok();
  }

  void VerifyAll() {
    const uint64_t limit = IdLimit();
    Phase("verify", limit, nullptr, 0, [&](Worker& w, uint32_t t, uint64_t) {
      auto [b, e] = Share(limit, Threads(), t);
      w.VerifyAll(b, e);
    });
  }

  // Runs one phase on fresh workers and folds its results into rep_.
  template <typename Body>
  PhaseResult& Phase(const std::string& name, uint64_t expected,
                     const OpMix* mix, uint64_t draws, Body body) {
    rep_.phases.push_back(PhaseResult{});
    PhaseResult& phase = rep_.phases.back();
    phase.name = name;
    auto workers = MakeWorkers(&shared_, Threads(), mix, draws);
    std::string label = spec_.name + "/" + point_.engine_spec + " " + name;
    // Only the primary phase's worker threads are counted (harness/icount.h).
    icount::PhaseCounter counter(name == rep_.primary_phase
                                     ? settings_.count_instructions
                                     : icount::Mode::kOff,
                                 workers.size());
    RunPhase(label, workers, expected, settings_.progress, &phase,
             [&](size_t t, uint64_t start) {
               counter.ThreadBegin(t);
               body(*workers[t], static_cast<uint32_t>(t), start);
               counter.ThreadEnd(t);
             });
    if (counter.active()) RecordInstructions(&counter);
    Collect(workers, &phase, &rep_);
    return phase;
  }

  void RecordInstructions(icount::PhaseCounter* counter) {
    Result<uint64_t> n =
        counter->Finish(rep_.name + "/rep:" + std::to_string(rep_.repetition));
    if (!n.ok()) {
      rep_.notes.push_back("instructions not counted: " +
                           n.status().ToString());
      return;
    }
    rep_.instructions = static_cast<int64_t>(*n);
    rep_.instruction_counter = icount::ModeName(settings_.count_instructions);
  }

  const RunSettings& settings_;
  const PointSpec& point_;
  RepResult rep_;
  WorkloadSpec spec_;
  std::string adapter_spec_;     // with the workload's durability
  std::unique_ptr<Adapter> db_;  // open from Open(); closed ones stay here
  Capabilities caps_;
  uint64_t capacity_ = 0;
  KeySet keys_;
  std::unique_ptr<ValueCodec> codec_;
  std::unique_ptr<RecordCodec> records_;  // value_kind=struct only
  std::unique_ptr<VersionTracker> tracker_;
  Shared shared_;
  std::string load_sig_;
  std::string dir_;
  bool reuse_ = false;
  bool loaded_ = false;
  bool open_ = false;
};

}  // namespace

void VerifyCounts::Add(const VerifyCounts& o) {
  verified += o.verified;
  missing += o.missing;
  stale += o.stale;
  wrong_key += o.wrong_key;
  corrupt += o.corrupt;
  unknown_version += o.unknown_version;
  absent_ok += o.absent_ok;
}

const PhaseResult* RepResult::Phase(const std::string& n) const {
  for (const PhaseResult& p : phases) {
    if (p.name == n) return &p;
  }
  return nullptr;
}

std::string BenchmarkName(const std::string& workload,
                          const std::string& engine_spec, uint64_t keys,
                          uint32_t threads) {
  return workload + "/" + engine_spec + "/keys:" + std::to_string(keys) +
         "/threads:" + std::to_string(threads);
}

RepResult FailedRepetition(const PointSpec& p, int r, const Status& why) {
  RepResult bad;
  bad.point = p;
  bad.repetition = r;
  bad.engine_spec = p.engine_spec;
  bad.workload = p.workload;
  Result<WorkloadSpec> w = ResolveWorkload(p);
  bad.threads = w.ok() ? w->threads : 1;
  bad.name = BenchmarkName(p.workload, p.engine_spec, w.ok() ? w->keys : 0,
                           bad.threads);
  bad.errors = 1;
  bad.error_messages.push_back(why.ToString());
  bad.primary_phase = "run";
  return bad;
}

Result<WorkloadSpec> ResolveWorkload(const PointSpec& point) {
  KVB_ASSIGN_OR_RETURN(WorkloadSpec spec, FindPreset(point.workload));
  for (const auto& [k, v] : point.params)
    KVB_RETURN_IF_ERROR(ApplyParam(&spec, k, v));
  KVB_RETURN_IF_ERROR(Validate(spec));
  return spec;
}

Runner::Runner(RunSettings settings) : settings_(std::move(settings)) {
  clock::Init();
}

Status Runner::Check(const PointSpec& point) const {
  Result<WorkloadSpec> spec = ResolveWorkload(point);
  if (!spec.ok()) return spec.status();
  Result<AdapterSpec> as = ParseAdapterSpec(point.engine_spec);
  if (!as.ok()) return as.status();
  const AdapterInfo* info = FindAdapter(as->name);
  if (info == nullptr) {
    std::string known;
    for (const AdapterInfo& a : AllAdapters())
      known += (known.empty() ? "" : ", ") + a.name;
    return Status::InvalidArgument("unknown engine '" + as->name +
                                   "' (known: " + known + ")");
  }
  if (!info->built) {
    return Status::NotSupported("engine '" + as->name +
                                "' was not built (library missing)");
  }
  // Checks its options without opening anything.
  return CheckAdapterSpec(point.engine_spec);
}

Result<RepResult> Runner::RunOnce(const PointSpec& point, int repetition) {
  auto t0 = std::chrono::steady_clock::now();
  probes::ResetPeakRss();  // peak_rss_bytes is this repetition's own
  PointRun run(settings_, point, repetition);
  KVB_RETURN_IF_ERROR(run.Setup());
  if (run.rep().skipped) return std::move(run.rep());
  KVB_RETURN_IF_ERROR(run.Open());
  run.Load();
  run.ReachEngineState();
  run.Warmup();
  run.MakeCacheCold();
  run.Measure();
  run.RecordCgroupAtRunEnd();
  run.CloseAndMeasureFiles();
  run.FinalVerify();
  run.Cleanup();
  run.rep().total_s = MsSince(t0) / 1000;
  return std::move(run.rep());
}

}  // namespace kvb
