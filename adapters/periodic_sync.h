// kvb::PeriodicSync — a background thread that calls a sync function every
// `interval`.
//
// Adapters use it for durability=periodic:MS on engines that have no background
// sync of their own (RocksDB's and LevelDB's write-ahead logs, LMDB with
// MDB_NOSYNC, SQLite, the file-per-key stores): the window of loss after a
// power failure is then bounded by MS (plus the time one sync takes). Errors of the sync function are
// counted (failures()); the next explicit Sync() or Close() of the adapter
// reports the problem anyway.
//
// Thread safety: Start/Stop from the owner (Open/Close); the sync function runs
// on the background thread concurrently with the adapter's operations, so it
// must be thread-safe.
#ifndef KVB_ADAPTERS_PERIODIC_SYNC_H_
#define KVB_ADAPTERS_PERIODIC_SYNC_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "adapters/adapter.h"
#include "core/status.h"

namespace kvb {

class PeriodicSync {
 public:
  PeriodicSync() = default;
  ~PeriodicSync() { Stop(); }
  PeriodicSync(const PeriodicSync&) = delete;
  PeriodicSync& operator=(const PeriodicSync&) = delete;

  void Start(std::chrono::milliseconds interval, std::function<Status()> sync) {
    Stop();
    stop_ = false;
    thread_ = std::thread([this, interval, sync = std::move(sync)] {
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
        lock.unlock();
        Status s = sync();
        if (!s.ok()) failures_.fetch_add(1, std::memory_order_relaxed);
        syncs_.fetch_add(1, std::memory_order_relaxed);
        lock.lock();
      }
    });
  }

  // Starts only for the periodic class (every c.period_ms): the one class
  // that syncs in the background.
  void StartIfPeriodic(const DurabilityClass& c, std::function<Status()> sync) {
    if (c.level == Durability::kPeriodic)
      Start(std::chrono::milliseconds(c.period_ms), std::move(sync));
  }

  // Joins the thread; returns once no sync call is running. Safe to call twice.
  void Stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  uint64_t failures() const {
    return failures_.load(std::memory_order_relaxed);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_PERIODIC_SYNC_H_
