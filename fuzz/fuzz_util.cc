#include "fuzz/fuzz_util.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace kvb::fuzz {

Parts SplitParts(const uint8_t* data, size_t size, size_t max_parts) {
  Parts out;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (!in.empty()) {
    out.flags = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
  }
  for (size_t i = 0; i < max_parts; ++i) {
    if (in.size() < 4) {
      out.parts.emplace_back();
      continue;
    }
    uint32_t len = static_cast<uint8_t>(in[0]) |
                   static_cast<uint8_t>(in[1]) << 8 |
                   static_cast<uint8_t>(in[2]) << 16 |
                   static_cast<uint32_t>(static_cast<uint8_t>(in[3])) << 24;
    in.remove_prefix(4);
    size_t n = std::min<size_t>(len, in.size());
    out.parts.push_back(in.substr(0, n));
    in.remove_prefix(n);
  }
  return out;
}

std::string JoinParts(uint8_t flags, const std::vector<std::string>& parts) {
  std::string out(1, static_cast<char>(flags));
  for (const std::string& p : parts) {
    uint32_t n = static_cast<uint32_t>(p.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
    out += p;
  }
  return out;
}

void MustWriteFile(Env* env, const std::string& path, std::string_view data) {
  Status s = env->CreateDirs(DirName(path));
  if (s.ok()) {
    auto f = env->OpenFile(path, OpenMode::kTruncate);
    s = f.status();
    if (s.ok()) s = (*f)->Append(data);
    if (s.ok()) s = (*f)->Close();
  }
  if (!s.ok()) Fail("writing a fuzz input file", s);
}

void Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "FUZZ PROPERTY VIOLATED: %s %s\n", what,
               s.ok() ? "" : s.ToString().c_str());
  std::abort();
}

}  // namespace kvb::fuzz
