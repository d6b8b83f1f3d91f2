// A one-line progress display on stderr for long phases.
// Shown only when enabled (stderr is a terminal and not --quiet) and the phase
// has run for more than 2 s, so short phases and logs stay clean. Redrawn at
// most 4 times a second. Thread safety: used by the one thread that supervises
// a phase.
#ifndef KVB_HARNESS_PROGRESS_H_
#define KVB_HARNESS_PROGRESS_H_

#include <cstdint>
#include <string>

namespace kvb {

class Progress {
 public:
  Progress(std::string label, uint64_t expected, bool enabled);
  void Update(uint64_t done, double elapsed_s);
  // Clears the line if one was drawn.
  void Finish();

 private:
  std::string label_;
  uint64_t expected_;
  bool enabled_;
  bool drawn_ = false;
  double last_draw_ = 0;
};

// True when stderr is a terminal.
bool StderrIsTerminal();

}  // namespace kvb

#endif  // KVB_HARNESS_PROGRESS_H_
