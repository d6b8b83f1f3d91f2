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
    issued_[id].store(version, std::memory_order_relaxed);
    committed_[id].store(version << 1 | (deleted ? 1 : 0),
                         std::memory_order_relaxed);
  }

  // Starts a write of `id` and returns its version; pair with EndWrite on the
  // same thread.
  uint32_t BeginWrite(uint64_t id) {
    if (lock_writes_) Stripe(id).lock();
    uint32_t v = issued_[id].load(std::memory_order_relaxed) + 1;
    issued_[id].store(v, std::memory_order_release);
    return v;
  }
  // `applied` = the engine acknowledged the write; a failed write leaves
  // `committed` alone.
  void EndWrite(uint64_t id, uint32_t version, bool deleted, bool applied) {
    if (applied) {
      committed_[id].store(version << 1 | (deleted ? 1 : 0),
                           std::memory_order_release);
    }
    if (lock_writes_) Stripe(id).unlock();
  }

  // Before a read: the committed word to judge against.
  uint32_t ReadFloor(uint64_t id) const {
    return committed_[id].load(std::memory_order_acquire);
  }
  ReadCheck CheckFound(uint64_t id, uint32_t floor, uint32_t version) const {
    uint32_t issued = issued_[id].load(std::memory_order_acquire);
    if (version > issued) return ReadCheck::kUnknownVersion;
    uint32_t fv = floor >> 1;
    bool deleted = floor & 1;
    if (deleted ? version <= fv : version < fv) return ReadCheck::kStale;
    return ReadCheck::kOk;
  }
  ReadCheck CheckAbsent(uint64_t id, uint32_t floor) const {
    if (floor == 0 || (floor & 1)) return ReadCheck::kOk;
    if (issued_[id].load(std::memory_order_acquire) > (floor >> 1))
      return ReadCheck::kOk;
    return ReadCheck::kMissing;
  }

  void Prefetch(uint64_t id) const {
    __builtin_prefetch(&issued_[id]);
    __builtin_prefetch(&committed_[id]);
  }

  // Quiescent accessors (no writer running).
  uint32_t Committed(uint64_t id) const {
    return committed_[id].load(std::memory_order_relaxed);
  }
  uint32_t Issued(uint64_t id) const {
    return issued_[id].load(std::memory_order_relaxed);
  }

 private:
  static constexpr size_t kStripes = 4096;
  std::mutex& Stripe(uint64_t id) { return stripes_[id & (kStripes - 1)]; }

  uint64_t capacity_;
  bool lock_writes_;
  std::unique_ptr<std::atomic<uint32_t>[]> issued_;
  std::unique_ptr<std::atomic<uint32_t>[]> committed_;
  std::unique_ptr<std::mutex[]> stripes_;
};

}  // namespace kvb

#endif  // KVB_WORKLOADS_VERSION_TRACKER_H_
