#include "workloads/distribution.h"

#include <cmath>

#include "core/names.h"

namespace kvb {

constexpr NameTable<DistKind, 6> kDistKindNames{{{
    {DistKind::kUniform, "uniform"},
    {DistKind::kZipfian, "zipfian"},
    {DistKind::kScrambledZipfian, "scrambled_zipfian"},
    {DistKind::kLatest, "latest"},
    {DistKind::kHotspot, "hotspot"},
    {DistKind::kSequential, "sequential"},
}}};

std::string_view DistKindName(DistKind k) {
  return kDistKindNames.Name(k, "?");
}

Result<DistKind> ParseDistKind(std::string_view s) {
  if (std::optional<DistKind> k = kDistKindNames.Find(s)) return *k;
  return Status::InvalidArgument("unknown distribution '" + std::string(s) +
                                 "' (" + kDistKindNames.List() + ")");
}

double Zeta(uint64_t n, double theta) {
  constexpr uint64_t kExact = 1000000;
  double sum = 0;
  uint64_t m = n < kExact ? n : kExact;
  // Summed from the small terms up so rounding does not swamp them.
  for (uint64_t i = m; i >= 1; --i)
    sum += std::pow(static_cast<double>(i), -theta);
  if (n > m) {
    double e = 1.0 - theta;
    sum += (std::pow(n + 0.5, e) - std::pow(m + 0.5, e)) / e;
  }
  return sum;
}

ZipfianTable::ZipfianTable(uint64_t n, double theta)
    : n_(n < 1 ? 1 : n), theta_(theta) {
  zetan_ = (n_ == kScrambledItemSpace && theta == 0.99) ? 26.46902820178302
                                                        : Zeta(n_, theta);
  double zeta2 = Zeta(2, theta);
  alpha_ = 1.0 / (1.0 - theta);
  eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n_), 1.0 - theta)) /
         (1.0 - zeta2 / zetan_);
  half_pow_theta_ = 1.0 + std::pow(0.5, theta);
}

std::shared_ptr<const ZipfianTable> KeyChooser::MakeTable(const DistSpec& spec,
                                                          uint64_t max_n) {
  switch (spec.kind) {
    case DistKind::kZipfian:
    case DistKind::kLatest:
      return std::make_shared<ZipfianTable>(max_n, spec.zipf_theta);
    case DistKind::kScrambledZipfian:
      return std::make_shared<ZipfianTable>(kScrambledItemSpace,
                                            spec.zipf_theta);
    default:
      return nullptr;
  }
}

KeyChooser::KeyChooser(const DistSpec& spec,
                       std::shared_ptr<const ZipfianTable> table,
                       uint64_t max_n, uint64_t thread_index,
                       uint64_t thread_count)
    : spec_(spec), table_(std::move(table)), max_n_(max_n), seq_(0) {
  // Sequential threads start spread over the key space rather than all at id 0.
  seq_ = thread_count ? Mix64(thread_index) : 0;
}

uint64_t KeyChooser::Raw(Rng& rng) const {
  switch (spec_.kind) {
    case DistKind::kZipfian:
    case DistKind::kLatest:
      return table_->Sample(rng.Unit());
    case DistKind::kScrambledZipfian:
      return Mix64(table_->Sample(rng.Unit()));
    default:
      return rng.Next();
  }
}

void KeyChooser::Pregenerate(Rng& rng, uint64_t count) {
  if (spec_.kind == DistKind::kHotspot || spec_.kind == DistKind::kSequential)
    return;
  uint64_t size = 1;
  while (size < count) size <<= 1;
  ring_.resize(size);
  for (uint64_t& r : ring_) r = Raw(rng);
  ring_mask_ = size - 1;
  pos_ = 0;
}

uint64_t KeyChooser::NextSlow(Rng& rng, uint64_t n) {
  switch (spec_.kind) {
    case DistKind::kUniform:
      return rng.Below(n);
    case DistKind::kZipfian:
      for (;;) {
        uint64_t r = table_->Sample(rng.Unit());
        if (r < n) return r;
      }
    case DistKind::kScrambledZipfian:
      // YCSB hashes the Zipf rank (FNV there, SplitMix here) onto the id
      // space; Map redraws ids not inserted yet.
      for (;;) {
        uint64_t id;
        if (Map(Mix64(table_->Sample(rng.Unit())), n, &id)) return id;
      }
    case DistKind::kLatest:
      for (;;) {
        uint64_t r = table_->Sample(rng.Unit());
        if (r < n) return n - 1 - r;
      }
    case DistKind::kHotspot: {
      auto hot = static_cast<uint64_t>(static_cast<double>(n) *
                                       spec_.hot_data_fraction);
      if (hot == 0) hot = 1;
      if (hot >= n || rng.Unit() < spec_.hot_op_fraction) return rng.Below(hot);
      return hot + rng.Below(n - hot);
    }
    case DistKind::kSequential:
      return seq_++ % n;
  }
  return 0;
}

}  // namespace kvb
