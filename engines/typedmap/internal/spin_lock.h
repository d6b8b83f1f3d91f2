// Internal to the typedmap engine; users include engines/typedmap/typedmap.h.
//
// LockSpinning(mu): locks `mu`, spinning briefly before sleeping on it.
//
// Why: the log mutex and the writer stripes are held for about one write(2)
// (1-2 us here). A waiter that sleeps on the futex and is woken again pays a
// context switch each way, several microseconds on a shared VM, so with two
// writers the log mutex cost more in sleeping than in writing (measured with
// `perf stat -e context-switches` on typedmap_bench gopersist: 97,634 switches
// for 3 x 1 M ops at 2 threads with a plain lock). Spinning is bounded to
// about the length of one write, so with more threads than cores a waiter
// still ends up sleeping instead of burning the core its holder needs.
#ifndef KVB_ENGINES_TYPEDMAP_INTERNAL_SPIN_LOCK_H_
#define KVB_ENGINES_TYPEDMAP_INTERNAL_SPIN_LOCK_H_

#include <mutex>

namespace kvb::typedmap::internal {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// About 2-4 us of pause instructions on current x86 cores.
inline constexpr int kLockSpins = 200;

inline void LockSpinning(std::mutex& mu) {
  for (int i = 0; i < kLockSpins; i++) {
    if (mu.try_lock()) return;
    CpuRelax();
  }
  mu.lock();
}

// A std::lock_guard that locks with LockSpinning.
class SpinningGuard {
 public:
  explicit SpinningGuard(std::mutex& mu) : mu_(mu) { LockSpinning(mu_); }
  ~SpinningGuard() { mu_.unlock(); }
  SpinningGuard(const SpinningGuard&) = delete;
  SpinningGuard& operator=(const SpinningGuard&) = delete;

 private:
  std::mutex& mu_;
};

}  // namespace kvb::typedmap::internal

#endif  // KVB_ENGINES_TYPEDMAP_INTERNAL_SPIN_LOCK_H_
