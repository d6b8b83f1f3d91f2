#include "harness/progress.h"

#include <unistd.h>

#include <cstdio>

namespace kvb {

Progress::Progress(std::string label, uint64_t expected, bool enabled)
    : label_(std::move(label)), expected_(expected), enabled_(enabled) {}

void Progress::Update(uint64_t done, double elapsed_s) {
  if (!enabled_ || elapsed_s < 2.0 || elapsed_s - last_draw_ < 0.25) return;
  last_draw_ = elapsed_s;
  double rate = elapsed_s > 0 ? done / elapsed_s : 0;
  if (expected_ > 0) {
    double pct =
        100.0 * static_cast<double>(done) / static_cast<double>(expected_);
    double eta = rate > 0 && done < expected_ ? (expected_ - done) / rate : 0;
    std::fprintf(stderr,
                 "\r\033[K%s: %llu/%llu ops (%.0f%%) %.0f ops/s, %.0fs "
                 "elapsed, ~%.0fs left",
                 label_.c_str(), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(expected_), pct, rate,
                 elapsed_s, eta);
  } else {
    std::fprintf(stderr, "\r\033[K%s: %llu ops %.0f ops/s, %.0fs elapsed",
                 label_.c_str(), static_cast<unsigned long long>(done), rate,
                 elapsed_s);
  }
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  drawn_ = false;
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace kvb
