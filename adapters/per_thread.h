// kvb::PerThread<T> — one resource per (thread, open adapter): LMDB read
// transactions, SQLite connections.
//
// Each thread that calls Local() gets its own T, made on first use by the
// factory given to Reset() and cached in a thread-local table, so the hot
// path takes no lock. The pool owns every T it made:
//   - when a thread exits, its T goes back to the pool's free list and the
//     next new thread reuses it, unless the pool was cleared first;
//   - Clear() destroys every T (the adapter's Close; the engine handle must
//     still be open).
// Pools are told apart by a process-unique id, never by address, so a pool
// that reuses a dead one's memory never sees its stale entries.
//
// Thread safety: Local() may be called from any number of threads at once.
// Reset(), Clear() and ForEach() must not run concurrently with Local() users
// (they run in Open/Close). A T is used only by the thread that holds it, so
// T itself need not be thread-safe.
#ifndef KVB_ADAPTERS_PER_THREAD_H_
#define KVB_ADAPTERS_PER_THREAD_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/result.h"

namespace kvb {

template <typename T>
class PerThread {
 public:
  using Factory = std::function<Result<std::unique_ptr<T>>()>;

  PerThread() = default;
  ~PerThread() { Clear(); }
  PerThread(const PerThread&) = delete;
  PerThread& operator=(const PerThread&) = delete;

  // Starts a new generation of resources made by `factory`. Clears any previous
  // one.
  void Reset(Factory factory) {
    Clear();
    core_ = std::make_shared<Core>();
    core_->id = NextId();
    core_->factory = std::move(factory);
  }

  // Destroys every resource of the current generation.
  void Clear() {
    if (!core_) return;
    std::vector<std::unique_ptr<T>> doomed;
    {
      std::lock_guard lock(core_->mu);
      core_->closed = true;
      core_->free.clear();
      doomed.swap(core_->all);
    }
    // Destroyed outside the lock: a T's destructor may be slow (sqlite3_close).
    doomed.clear();
    core_.reset();
  }

  // This thread's resource, made on first use. Errors are the factory's.
  // REQUIRES: Reset() was called.
  Result<T*> Local() {
    Table& table = ThreadTable();
    for (const Entry& e : table.entries) {
      if (e.id == core_->id) return e.item;
    }
    return Attach(table);
  }

  // Calls fn(T&) for every resource of this generation (all threads' and the
  // free ones). REQUIRES: no concurrent Local() user is inside an operation
  // (Close time).
  template <typename Fn>
  void ForEach(Fn&& fn) {
    if (!core_) return;
    std::lock_guard lock(core_->mu);
    for (const std::unique_ptr<T>& item : core_->all) fn(*item);
  }

  // Number of resources made so far in this generation (for Stats).
  size_t size() const {
    if (!core_) return 0;
    std::lock_guard lock(core_->mu);
    return core_->all.size();
  }

 private:
  struct Core {
    uint64_t id = 0;
    Factory factory;
    mutable std::mutex mu;
    bool closed = false;
    std::vector<std::unique_ptr<T>> all;  // owns every T
    std::vector<T*> free;                 // left behind by exited threads
  };
  struct Entry {
    uint64_t id;
    std::weak_ptr<Core> core;
    T* item;
  };
  // A thread's cache; at thread exit each still-live pool gets its resource
  // back.
  struct Table {
    std::vector<Entry> entries;
    ~Table() {
      for (Entry& e : entries) {
        if (std::shared_ptr<Core> core = e.core.lock()) {
          std::lock_guard lock(core->mu);
          if (!core->closed) core->free.push_back(e.item);
        }
      }
    }
  };

  static uint64_t NextId() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }
  static Table& ThreadTable() {
    static thread_local Table table;
    return table;
  }

  Result<T*> Attach(Table& table) {
    // Forget entries of pools that are gone, so a long-lived thread's table
    // stays short.
    std::erase_if(table.entries,
                  [](const Entry& e) { return e.core.expired(); });
    T* item = nullptr;
    {
      std::lock_guard lock(core_->mu);
      if (!core_->free.empty()) {
        item = core_->free.back();
        core_->free.pop_back();
      }
    }
    if (item == nullptr) {
      Result<std::unique_ptr<T>> made = core_->factory();
      if (!made.ok()) return made.status();
      item = made->get();
      std::lock_guard lock(core_->mu);
      core_->all.push_back(std::move(*made));
    }
    table.entries.push_back(Entry{core_->id, core_, item});
    return item;
  }

  std::shared_ptr<Core> core_;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_PER_THREAD_H_
