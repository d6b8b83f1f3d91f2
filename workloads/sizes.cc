#include "workloads/sizes.h"

#include <charconv>
#include <cmath>

namespace kvb {
namespace {

bool ParseU32(std::string_view s, uint32_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseDouble(std::string_view s, double* out) {
  std::string copy(s);
  char* end = nullptr;
  *out = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size() &&
         std::isfinite(*out);
}

Result<SizeDist> ParseHistogram(std::string_view text, std::string_view whole) {
  SizeDist d;
  std::vector<double> weights;
  double total = 0;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view()
                                           : text.substr(comma + 1);
    size_t colon = item.find(':');
    uint32_t size;
    double w;
    if (colon == std::string_view::npos ||
        !ParseU32(item.substr(0, colon), &size) ||
        !ParseDouble(item.substr(colon + 1), &w) || w < 0) {
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
  size_t dash = text.find('-');
  uint32_t lo, hi;
  if (dash == std::string_view::npos) {
    if (!ParseU32(text, &lo)) {
      return Status::InvalidArgument(
          "bad size '" + std::string(text) +
          "' (expected N, A-B or hist:SIZE:WEIGHT,...)");
    }
    return SizeDist::Fixed(lo);
  }
  if (!ParseU32(text.substr(0, dash), &lo) ||
      !ParseU32(text.substr(dash + 1), &hi) || lo > hi) {
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
