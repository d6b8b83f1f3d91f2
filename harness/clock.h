// Cheap timestamps for per-operation latency.
//
// On x86-64 with an invariant TSC (constant_tsc and nonstop_tsc in
// /proc/cpuinfo) Ticks() is RDTSC: ~7-10 ns here against ~20 ns for
// steady_clock::now(), and the runner takes two per op. RDTSC is not
// serialising, so an op's timestamps may slip by a few cycles into neighbouring
// instructions; at the nanosecond-and-up resolution we report that is noise.
// Elsewhere (or with KVB_CLOCK=monotonic) Ticks() is
// clock_gettime(CLOCK_MONOTONIC) in ns through the vDSO. TicksPerNs() is
// calibrated once against CLOCK_MONOTONIC over ~20 ms. Thread safety: Init()
// once before use (the runner does); then everything is read-only.
#ifndef KVB_HARNESS_CLOCK_H_
#define KVB_HARNESS_CLOCK_H_

#include <cstdint>
#include <ctime>
#include <string>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace kvb::clock {

extern bool g_use_tsc;
extern double g_ns_per_tick;

inline uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t Ticks() {
#if defined(__x86_64__)
  // No lfence: it would make every stamp wait for all earlier loads, halving
  // the harness's ceiling (measured: 27 -> 13.5 M null ops per CPU-second). The
  // price is that a cache miss of the harness's own key lookup just before an
  // op may be charged to that op.
  if (g_use_tsc) return __rdtsc();
#endif
  return MonotonicNs();
}

inline double TicksToNs(double ticks) { return ticks * g_ns_per_tick; }
// Saturates: negative or NaN gives 0, anything beyond 2^64 ticks UINT64_MAX
// (a double outside the integer's range must never reach the cast).
inline uint64_t NsToTicks(double ns) {
  double t = ns / g_ns_per_tick;
  if (!(t > 0)) return 0;
  if (t >= 18446744073709551616.0) return UINT64_MAX;
  return static_cast<uint64_t>(t);
}

// Chooses the source and calibrates; idempotent.
void Init();
// "rdtsc (2.45 GHz)" or "clock_gettime(CLOCK_MONOTONIC)", for the results
// context.
std::string Describe();

}  // namespace kvb::clock

#endif  // KVB_HARNESS_CLOCK_H_
