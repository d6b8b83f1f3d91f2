// VersionTracker — what the harness knows about each key, so a read can be
// judged stale or missing, not only well-formed (ValueCodec does that part).
//
// Per key id two 32-bit words: `issued`, the newest version handed to a writer,
// and `committed`, (version << 1 | deleted) of the newest write that returned.
// Deletes consume a version too. When several threads may write, writers of one
// key are serialised by a striped lock held across the engine call
// (BeginWrite..EndWrite); different keys never contend on it beyond stripe
// collisions (4096 stripes). This keeps "newest committed write" well defined,
// because two unserialised writers of one key may be applied in either order.
// The cost is one uncontended mutex per write, and it does mean engines never
// see two simultaneous writes of the same key from this harness.
//
// A read that starts after a write returned must see that write or a newer one:
//   found version v: ok if floor <= v <= issued-at-end (v > floor when floor is
//   a delete);
//                    v < floor is stale; v > issued is a value that was never
//                    written;
//   not found:       ok if the key was never written, was deleted, or a write
//   began meanwhile;
//                    otherwise missing.
//
// After a clean load every key holds the same version, and read-only phases
// (read-heavy, ycsb-c) keep it so. MarkUniform records that fact; until the
// next BeginWrite, reads of those keys are judged from it and never touch the
// per-key slots, so the harness keeps no per-key memory in the engine's CPU
// caches (at 1 M keys the slots are 8 MB of this machine's 32 MB L3, which
// cost RocksDB's uncached Gets several per cent).
// Thread safety: all methods may be called from any thread.
#ifndef KVB_WORKLOADS_VERSION_TRACKER_H_
#define KVB_WORKLOADS_VERSION_TRACKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace kvb {

enum class ReadCheck : uint8_t { kOk, kStale, kMissing, kUnknownVersion };

class VersionTracker {
 public:
  VersionTracker(uint64_t capacity, bool lock_writes);

  uint64_t capacity() const { return capacity_; }
  // Records that key `id` holds version `version` (the load phase, or a
  // restored state).
  void Set(uint64_t id, uint32_t version, bool deleted) {
    if (uniform_count_.load(std::memory_order_relaxed) != 0)
      uniform_count_.store(0);
    slots_[id].issued.store(version, std::memory_order_relaxed);
    slots_[id].committed.store(version << 1 | (deleted ? 1 : 0),
                               std::memory_order_relaxed);
  }

  // Declares that ids [0, n) hold `version` (not deleted) and the rest were
  // never written. Call with no writer running, after the slots were Set so;
  // returns false (and changes nothing) if any slot disagrees. Ends at the
  // next BeginWrite.
  bool MarkUniform(uint64_t n, uint32_t version);

  // Starts a write of `id` and returns its version; pair with EndWrite on the
  // same thread.
  uint32_t BeginWrite(uint64_t id) {
    // Seq-cst, before the slot changes: a reader that sees this write's
    // effect through the engine then also sees the summary gone.
    if (uniform_count_.load(std::memory_order_relaxed) != 0)
      uniform_count_.store(0);
    if (lock_writes_) Stripe(id).lock();
    uint32_t v = slots_[id].issued.load(std::memory_order_relaxed) + 1;
    slots_[id].issued.store(v, std::memory_order_release);
    return v;
  }
  // `applied` = the engine acknowledged the write; a failed write leaves
  // `committed` alone.
  void EndWrite(uint64_t id, uint32_t version, bool deleted, bool applied) {
    if (applied) {
      slots_[id].committed.store(version << 1 | (deleted ? 1 : 0),
                                 std::memory_order_release);
    }
    if (lock_writes_) Stripe(id).unlock();
  }

  // Before a read: the committed word to judge against.
  uint32_t ReadFloor(uint64_t id) const {
    if (Uniform(id)) return uniform_version_ << 1;
    return slots_[id].committed.load(std::memory_order_acquire);
  }
  ReadCheck CheckFound(uint64_t id, uint32_t floor, uint32_t version) const {
    uint32_t issued = IssuedNow(id);
    if (version > issued) return ReadCheck::kUnknownVersion;
    uint32_t fv = floor >> 1;
    bool deleted = floor & 1;
    if (deleted ? version <= fv : version < fv) return ReadCheck::kStale;
    return ReadCheck::kOk;
  }
  ReadCheck CheckAbsent(uint64_t id, uint32_t floor) const {
    if (floor == 0 || (floor & 1)) return ReadCheck::kOk;
    if (IssuedNow(id) > (floor >> 1)) return ReadCheck::kOk;
    return ReadCheck::kMissing;
  }

  void Prefetch(uint64_t id) const {
    if (!Uniform(id)) __builtin_prefetch(&slots_[id]);
  }

  // Quiescent accessors (no writer running).
  uint32_t Committed(uint64_t id) const {
    return slots_[id].committed.load(std::memory_order_relaxed);
  }
  uint32_t Issued(uint64_t id) const {
    return slots_[id].issued.load(std::memory_order_relaxed);
  }

 private:
  static constexpr size_t kStripes = 4096;
  bool Uniform(uint64_t id) const {
    return id < uniform_count_.load(std::memory_order_acquire);
  }
  uint32_t IssuedNow(uint64_t id) const {
    return Uniform(id) ? uniform_version_
                       : slots_[id].issued.load(std::memory_order_acquire);
  }

  std::mutex& Stripe(uint64_t id) { return stripes_[id & (kStripes - 1)]; }

  uint64_t capacity_;
  bool lock_writes_;
  // Both words of a key share one 8-byte slot, so a check costs one cache
  // line (at 1 M keys the tracker is 8 MB of the L3's 32 MB).
  struct alignas(8) Slot {
    std::atomic<uint32_t> issued{0};
    std::atomic<uint32_t> committed{0};
  };
  std::unique_ptr<Slot[]> slots_;
  std::atomic<uint64_t> uniform_count_{0};  // ids below it: uniform_version_
  uint32_t uniform_version_ = 0;
  std::unique_ptr<std::mutex[]> stripes_;
};

}  // namespace kvb

#endif  // KVB_WORKLOADS_VERSION_TRACKER_H_
