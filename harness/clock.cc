#include "harness/clock.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

namespace kvb::clock {

bool g_use_tsc = false;
double g_ns_per_tick = 1.0;

namespace {

bool InvariantTsc() {
#if defined(__x86_64__)
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      return line.find(" constant_tsc") != std::string::npos &&
             line.find(" nonstop_tsc") != std::string::npos;
    }
  }
#endif
  return false;
}

void Calibrate() {
  const char* env = std::getenv("KVB_CLOCK");
  if (env != nullptr && std::string(env) == "monotonic") return;
  if (!InvariantTsc()) return;
#if defined(__x86_64__)
  // Two measurements bracketing a 20 ms spin; the ratio is stable to ~1e-5.
  uint64_t ns0 = MonotonicNs();
  uint64_t t0 = __rdtsc();
  while (MonotonicNs() - ns0 < 20000000) {
  }
  uint64_t ns1 = MonotonicNs();
  uint64_t t1 = __rdtsc();
  if (t1 <= t0) return;
  g_ns_per_tick = static_cast<double>(ns1 - ns0) / static_cast<double>(t1 - t0);
  g_use_tsc = true;
#endif
}

}  // namespace

void Init() {
  static std::once_flag once;
  std::call_once(once, Calibrate);
}

std::string Describe() {
  if (!g_use_tsc) return "clock_gettime(CLOCK_MONOTONIC)";
  char buf[64];
  std::snprintf(buf, sizeof buf, "rdtsc (%.4f GHz, calibrated)",
                1.0 / g_ns_per_tick);
  return buf;
}

}  // namespace kvb::clock
