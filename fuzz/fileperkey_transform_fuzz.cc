// fileperkey's key transforms (forward and inverse) and key escaping on
// arbitrary bytes, for every built-in layout x encoding. Properties: Validate
// and AppendPath agree; a valid key's path has no "." / ".." / empty component
// and inverts to the key; a path that inverts to a key is exactly that key's
// path (keys and paths correspond one to one); UnescapeKey is the exact inverse
// of EscapeKey.
#include <cstdint>
#include <string>
#include <vector>

#include "engines/fileperkey/transform.h"
#include "fuzz/fuzz_util.h"

namespace kvb::fileperkey {
namespace {

constexpr size_t kMaxPath = 4095;

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    out.emplace_back(
        path.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

void CheckForward(const Transform& t, std::string_view key) {
  std::string path;
  Status s = t.AppendPath(key, kMaxPath, &path);
  Status v = t.Validate(key, kMaxPath);
  if (s.ok() != v.ok())
    fuzz::Fail("Validate and AppendPath disagree", s.ok() ? v : s);
  if (!s.ok()) {
    if (!s.IsInvalidArgument())
      fuzz::Fail("bad key error is not InvalidArgument", s);
    return;
  }
  KVB_FUZZ_CHECK(!path.empty() && path.size() <= kMaxPath && path[0] != '/');
  std::vector<std::string> parts = Split(path);
  for (const std::string& c : parts) {
    KVB_FUZZ_CHECK(!c.empty() && c != "." && c != ".." &&
                   c.size() <= kMaxNameBytes);
    KVB_FUZZ_CHECK(c.find('\0') == std::string::npos);
  }
  auto back = t.Inverse(parts);
  if (!back.ok())
    fuzz::Fail("the path of a valid key does not invert", back.status());
  KVB_FUZZ_CHECK(*back == key);
}

void CheckInverse(const Transform& t, std::string_view path) {
  std::vector<std::string> parts = Split(path);
  auto key = t.Inverse(parts);
  if (!key.ok()) return;
  std::string again;
  Status s = t.AppendPath(*key, kMaxPath, &again);
  if (!s.ok()) fuzz::Fail("a key found on disk is not a valid key", s);
  KVB_FUZZ_CHECK(again == Join(parts));
}

}  // namespace
}  // namespace kvb::fileperkey

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvb::fileperkey;
  if (size > 8192) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (KeyEncoding e : {KeyEncoding::kPlain, KeyEncoding::kEscaped}) {
    for (const Transform& t :
         {Transform::Flat(e), Transform::Blocks(2, 2, e),
          Transform::Blocks(1, 3, e), Transform::Hashed(2, 1, e)}) {
      CheckForward(t, in);
      CheckInverse(t, in);
      bool impossible = false;
      t.PrefixDirs(in, &impossible);
    }
  }
  auto un = UnescapeKey(in);
  if (un.ok()) KVB_FUZZ_CHECK(EscapeKey(*un) == in);
  if (!in.empty()) {
    auto esc = UnescapeKey(EscapeKey(in));
    KVB_FUZZ_CHECK(esc.ok() && *esc == in);
  }
  return 0;
}
