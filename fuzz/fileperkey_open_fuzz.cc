// fileperkey open on arbitrary files: parts = [.fpk-meta, path 1, file 1, path
// 2, file 2] (fuzz_util.h container; a path is relative to the base directory,
// its "." / ".." / empty components dropped; an empty meta part means no
// .fpk-meta). Flags: bits 0-1 transform (flat, blocks:2:2, hash:2:1, flat), bit
// 2 escaped encoding, bits 3-4 compression (none, gzip, zlib, zstd), bit 5
// ordered index, bit 6 adopt a directory without metadata, bit 7 checksum
// none (else the default: a CRC-32C trailer for a new uncompressed store, as
// recorded for an existing one). Properties: no crash; every key a walk finds
// reads back OK or with Corruption (a damaged compressed value, a file without
// a valid trailer) through Read and through ReadStream, the two agreeing;
// it maps back to a path; a Write then Read round-trips; Erase works.
#include <cstdint>
#include <string>
#include <vector>

#include "core/env.h"
#include "engines/fileperkey/fileperkey.h"
#include "fuzz/fuzz_util.h"

namespace kvb::fileperkey {
namespace {

constexpr const char* kBase = "/db";

// A relative path made safe for the in-memory Env, or "" if nothing is left.
std::string CleanPath(std::string_view raw) {
  std::string out;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view c = raw.substr(start, end - start);
    if (!c.empty() && c != "." && c != ".." &&
        c.find('\0') == std::string_view::npos) {
      if (!out.empty()) out += '/';
      out.append(c);
    }
    start = end + 1;
  }
  return out;
}

Options MakeOptions(Env* env, uint8_t flags) {
  Options o;
  o.env = env;
  const KeyEncoding enc =
      (flags & 4) != 0 ? KeyEncoding::kEscaped : KeyEncoding::kPlain;
  switch (flags & 3) {
    case 1:
      o.transform = Transform::Blocks(2, 2, enc);
      break;
    case 2:
      o.transform = Transform::Hashed(2, 1, enc);
      break;
    default:
      o.transform = Transform::Flat(enc);
  }
  constexpr Codec kCodecs[] = {Codec::kNone, Codec::kGzip, Codec::kZlib,
                               Codec::kZstd};
  o.compression = kCodecs[(flags >> 3) & 3];
  o.index = (flags & 32) != 0;
  o.adopt_existing = (flags & 64) != 0;
  o.checksum =
      (flags & 128) != 0 ? ValueChecksum::kNone : ValueChecksum::kDefault;
  o.cache_bytes = 1 << 16;
  return o;
}

Status StreamAll(Store* store, const std::string& key, std::string* out) {
  Result<std::unique_ptr<ValueReader>> r = store->ReadStream(key);
  if (!r.ok()) return r.status();
  return ReadAll(r->get(), out);
}

void Exercise(Store* store) {
  std::vector<std::string> keys;
  Status s = store->ForEachKey("", [&](const std::string& k) {
    keys.push_back(k);
    return keys.size() < 1000;
  });
  std::string value;
  for (const std::string& k : keys) {
    KVB_FUZZ_CHECK(store->PathOf(k).ok());
    s = store->Read(k, &value);
    if (!s.ok() && !s.IsCorruption() && !s.IsNotFound())
      fuzz::Fail("Read of a walked key", s);
    std::string streamed;
    Status r = StreamAll(store, k, &streamed);
    if (s.ok() != r.ok() || (s.ok() && streamed != value))
      fuzz::Fail("Read and ReadStream disagree", s.ok() ? r : s);
  }
  if (store->options().index)
    store->IndexKeysAfter("", 100).status().IgnoreError();
  const std::string key = "fuzzkey";
  s = store->Write(key, "fuzz value");
  if (!s.ok()) return;  // e.g. a fuzzed file occupies the key's directory
  s = store->Read(key, &value);
  if (!s.ok() || value != "fuzz value") fuzz::Fail("Read after Write", s);
  store->Erase(key).IgnoreError();
  store->Sync().IgnoreError();
}

}  // namespace
}  // namespace kvb::fileperkey

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvb;
  using namespace kvb::fileperkey;
  fuzz::Parts in = fuzz::SplitParts(data, size, 5);
  std::unique_ptr<Env> env = NewMemEnv();
  if (!env->CreateDirs(kBase).ok()) fuzz::Fail("mkdir");
  if (!in.parts[0].empty()) {
    fuzz::MustWriteFile(env.get(), JoinPath(kBase, kMetaFileName), in.parts[0]);
  }
  for (int i = 1; i <= 3; i += 2) {
    std::string rel = CleanPath(in.parts[i]);
    if (rel.empty() || rel.size() > 1024) continue;
    const std::string path = JoinPath(kBase, rel);
    // A path whose parent is already a file cannot be created; skip it.
    auto st = env->Stat(DirName(path));
    if (st.ok() && !st->is_dir) continue;
    if (!env->CreateDirs(DirName(path)).ok()) continue;
    if (env->FileExists(path)) continue;
    fuzz::MustWriteFile(env.get(), path, in.parts[i + 1]);
  }
  auto store = Store::Open(kBase, MakeOptions(env.get(), in.flags));
  if (store.ok()) Exercise(store->get());
  return 0;
}
