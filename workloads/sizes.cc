#include "workloads/sizes.h"

#include <cmath>

#include "core/strings.h"

namespace kvb {
namespace {

bool ParseU32(std::string_view s, uint32_t* out) {
  Result<uint64_t> v = ParseUint(s, "size", 0, UINT32_MAX);
  if (v.ok()) *out = static_cast<uint32_t>(*v);
  return v.ok();
}

// One "SIZE:WEIGHT" item of a histogram.
bool ParseHistItem(std::string_view item, uint32_t* size, double* weight) {
  std::string_view size_text, weight_text;
  if (!SplitOnce(item, ':', &size_text, &weight_text)) return false;
  Result<double> w = ParseDouble(weight_text, "weight");
  if (!w.ok() || !ParseU32(size_text, size)) return false;
  *weight = *w;
  return true;
}

Result<SizeDist> ParseHistogram(std::string_view text, std::string_view whole) {
  SizeDist d;
  std::vector<double> weights;
  double total = 0;
  for (const std::string& item : SplitList(text)) {
    uint32_t size = 0;
    double w = 0;
    if (!ParseHistItem(item, &size, &w)) {
      return Status::InvalidArgument(
          "bad size histogram '" + std::string(whole) +
          "' (expected hist:SIZE:WEIGHT,SIZE:WEIGHT,...)");
    }
    d.hist_sizes.push_back(size);
    weights.push_back(w);
    total += w;
  }
  if (d.hist_sizes.empty() || total <= 0) {
    return Status::InvalidArgument("empty size histogram '" +
                                   std::string(whole) + "'");
  }
  double cum = 0;
  d.min = UINT32_MAX;
  for (size_t i = 0; i < weights.size(); ++i) {
    cum += weights[i] / total;
    d.hist_cum.push_back(
        cum >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(std::ldexp(cum, 64)));
    d.min = std::min(d.min, d.hist_sizes[i]);
    d.max = std::max(d.max, d.hist_sizes[i]);
  }
  return d;
}

}  // namespace

Result<SizeDist> ParseSizeDist(std::string_view text) {
  if (text.substr(0, 5) == "hist:") return ParseHistogram(text.substr(5), text);
  std::string_view lo_text, hi_text;
  uint32_t lo = 0, hi = 0;
  if (!SplitOnce(text, '-', &lo_text, &hi_text)) {
    if (!ParseU32(text, &lo)) {
      return Status::InvalidArgument(
          "bad size '" + std::string(text) +
          "' (expected N, A-B or hist:SIZE:WEIGHT,...)");
    }
    return SizeDist::Fixed(lo);
  }
  if (!ParseU32(lo_text, &lo) || !ParseU32(hi_text, &hi) || lo > hi) {
    return Status::InvalidArgument("bad size range '" + std::string(text) +
                                   "' (expected A-B with A <= B)");
  }
  return SizeDist::Uniform(lo, hi);
}

double SizeDist::Mean() const {
  if (hist_sizes.empty()) return (static_cast<double>(min) + max) / 2;
  double mean = 0, prev = 0;
  for (size_t i = 0; i < hist_sizes.size(); ++i) {
    double c = hist_cum[i] == UINT64_MAX
                   ? 1.0
                   : std::ldexp(static_cast<double>(hist_cum[i]), -64);
    mean += (c - prev) * hist_sizes[i];
    prev = c;
  }
  return mean;
}

std::string SizeDist::ToString() const {
  if (!hist_sizes.empty()) {
    std::string s = "hist:";
    double prev = 0;
    for (size_t i = 0; i < hist_sizes.size(); ++i) {
      double c = hist_cum[i] == UINT64_MAX
                     ? 1.0
                     : std::ldexp(static_cast<double>(hist_cum[i]), -64);
      if (i) s += ',';
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", c - prev);
      s += std::to_string(hist_sizes[i]) + ":" + buf;
      prev = c;
    }
    return s;
  }
  if (min == max) return std::to_string(min);
  return std::to_string(min) + "-" + std::to_string(max);
}

}  // namespace kvb
