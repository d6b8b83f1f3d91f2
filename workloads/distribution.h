// Request distributions: which key id the next operation touches.
//
// Kinds (YCSB names and semantics, see /work/shared/specs/harness-anchors.md §1.2):
//   uniform            every id in [0, n) equally likely;
//   zipfian            Zipf(theta) over ids, id 0 hottest (Gray et al.'s generator, as
//                      YCSB's ZipfianGenerator); theta in (0, 1);
//   scrambled_zipfian  YCSB's default "zipfian": Zipf(theta) over a fixed 10^10-item
//                      space, hashed onto the run's fixed id space [0, max_n), so hot
//                      keys are scattered; an id >= the current n is redrawn (as
//                      YCSB's nextKeynum), so a rank keeps its key all run; theta
//                      0.99 by default;
//   latest             YCSB's SkewedLatest: newest ids hottest (n-1 - Zipf);
//   hotspot            hot_op_fraction of ops go uniformly to the first
//                      hot_data_fraction of ids, the rest uniformly to the others
//                      (YCSB 0.2/0.8 defaults);
//   sequential         ids in order, wrapping, each thread starting at its own offset.
// n grows while a run inserts; draws are always < the current n. Zipfian kinds
// are sized for the final n (YCSB's "keyspace = records + inserts" fudge) and
// redraw values >= current n, so the popular set does not shift as inserts
// arrive. Thread safety: ZipfianTable is immutable after construction and
// shared; a KeyChooser belongs to one thread.
#ifndef KVB_WORKLOADS_DISTRIBUTION_H_
#define KVB_WORKLOADS_DISTRIBUTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "workloads/random.h"

namespace kvb {

enum class DistKind : uint8_t {
  kUniform,
  kZipfian,
  kScrambledZipfian,
  kLatest,
  kHotspot,
  kSequential
};
std::string_view DistKindName(DistKind k);
Result<DistKind> ParseDistKind(std::string_view s);

struct DistSpec {
  DistKind kind = DistKind::kUniform;
  double zipf_theta = 0.99;
  double hot_data_fraction = 0.2;
  double hot_op_fraction = 0.8;
};

// Sum_{i=1..n} i^-theta. Exact up to 10^6 terms, then the midpoint-rule
// integral of the tail (relative error < 1e-9 for theta in (0,1)), so 10^10
// items cost milliseconds.
double Zeta(uint64_t n, double theta);

// Gray et al.'s constant-time Zipf sampler ("Quickly generating billion-record
// synthetic databases", SIGMOD'94), the algorithm of YCSB's ZipfianGenerator.
// Returns ranks in [0, n).
class ZipfianTable {
 public:
  ZipfianTable(uint64_t n, double theta);
  uint64_t Sample(double u) const {
    double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < half_pow_theta_) return 1;
    auto r = static_cast<uint64_t>(
        static_cast<double>(n_) * __builtin_pow(eta_ * u - eta_ + 1.0, alpha_));
    return r < n_ ? r : n_ - 1;
  }
  uint64_t n() const { return n_; }
  double theta() const { return theta_; }
  double zetan() const { return zetan_; }

 private:
  uint64_t n_;
  double theta_, zetan_, alpha_, eta_, half_pow_theta_;
};

// The item space of YCSB's ScrambledZipfianGenerator.
inline constexpr uint64_t kScrambledItemSpace = 10000000000ull;

// One thread's key chooser. `max_n` is the largest id count the run can reach
// (loaded keys plus inserts); the zipfian table is built for it and may be
// shared between threads, and scrambled ranks are hashed onto [0, max_n).
class KeyChooser {
 public:
  KeyChooser(const DistSpec& spec, std::shared_ptr<const ZipfianTable> table,
             uint64_t max_n, uint64_t thread_index, uint64_t thread_count);
  // Makes the table a spec needs for ids up to max_n (null for kinds without
  // one).
  static std::shared_ptr<const ZipfianTable> MakeTable(const DistSpec& spec,
                                                       uint64_t max_n);

  // An id in [0, n); REQUIRES n > 0.
  uint64_t Next(Rng& rng, uint64_t n) {
    if (!ring_.empty()) {
      for (int tries = 0; tries < 64; ++tries) {
        uint64_t raw = ring_[pos_++ & ring_mask_];
        uint64_t id;
        if (Map(raw, n, &id)) return id;
      }
    }
    return NextSlow(rng, n);
  }

  // Draws `count` (rounded up to a power of two) raw samples now, so that
  // Next() during a timed phase is a table read and a multiply instead of a
  // pow() (Zipf) per call. The samples are reused cyclically if a phase needs
  // more. A no-op for kinds that are already cheap.
  void Pregenerate(Rng& rng, uint64_t count);

 private:
  uint64_t Raw(Rng& rng) const;
  // Maps a raw sample to an id below n; false if the sample must be redrawn.
  bool Map(uint64_t raw, uint64_t n, uint64_t* id) const {
    switch (spec_.kind) {
      case DistKind::kZipfian:
        *id = raw;
        return raw < n;
      case DistKind::kLatest:
        *id = n - 1 - raw;
        return raw < n;
      case DistKind::kScrambledZipfian:
        // Hashed onto the fixed id space, not the current n: with inserts
        // arriving, hashing onto n would move every rank to another key.
        *id = ScaleBelow(raw, max_n_);
        return *id < n;
      default:
        *id = ScaleBelow(raw, max_n_);
        return true;  // uniform: hashed onto the current n
    }
  }
  uint64_t NextSlow(Rng& rng, uint64_t n);

  DistSpec spec_;
  std::shared_ptr<const ZipfianTable> table_;
  uint64_t max_n_;
  uint64_t seq_;
  std::vector<uint64_t> ring_;
  uint64_t ring_mask_ = 0;
  uint64_t pos_ = 0;
};

}  // namespace kvb

#endif  // KVB_WORKLOADS_DISTRIBUTION_H_
