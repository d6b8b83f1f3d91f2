// A crafted checkpoint whose overflow chain forms a cycle, with every CRC
// valid (issue 14, defect 4): Open, Get, Has and Put must end with Corruption
// (or, once the damaged checkpoint is dropped, rebuild from the log), never
// spin. The checkpoint is edited byte by byte as FORMAT.md describes it.
#include <catch2/catch.hpp>
#include <string>

#include "core/checksum.h"
#include "core/coding.h"
#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/index.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

uint64_t OneChain(std::string_view) { return 0x1234; }

uint64_t Pad8(uint64_t n) { return (n + 7) / 8 * 8; }

std::string ReadAll(Env* env, const std::string& path) {
  auto f = env->OpenFile(path, OpenMode::kReadOnly);
  REQUIRE(f.ok());
  auto size = (*f)->Size();
  REQUIRE(size.ok());
  std::string out(*size, '\0');
  size_t got = 0;
  REQUIRE_OK((*f)->ReadAt(0, out.size(), out.data(), &got));
  return out;
}

// Links the last bucket of the chain that starts at primary bucket `p` back to
// its first overflow bucket, then recomputes the chunk table, the tables CRC
// and the header CRC.
std::string MakeCycle(std::string ck, uint64_t p) {
  const uint32_t c = DecodeFixed32(&ck[28]);
  const uint64_t n = DecodeFixed64(&ck[40]);
  const uint64_t o = DecodeFixed64(&ck[48]);
  const uint64_t f = DecodeFixed64(&ck[56]);
  const uint64_t salt = DecodeFixed64(&ck[96]);
  const uint64_t chunks = LinearIndex::ChunksFor(n) + LinearIndex::ChunksFor(o);
  const uint64_t table = 256 + 64 * uint64_t{c} + Pad8(4 * f);
  const uint64_t first_bucket = table + Pad8(4 * chunks);
  REQUIRE(ck.size() == first_bucket + 128 * (n + o));
  auto* buckets = reinterpret_cast<Bucket*>(&ck[first_bucket]);
  REQUIRE(buckets[p].next != 0);
  Bucket* tail = &buckets[p];
  while (tail->next != 0) tail = &buckets[n + tail->next - 1];
  tail->next = buckets[p].next;
  const auto crcs = LinearIndex::ChunkChecksums(&ck[first_bucket], n, o, salt);
  REQUIRE(crcs.size() == chunks);
  for (uint64_t k = 0; k < chunks; ++k)
    EncodeFixed32(&ck[table + 4 * k], crcs[k]);
  EncodeFixed32(&ck[108], MaskCrc(Crc32c(&ck[256], first_bucket - 256)));
  EncodeFixed32(&ck[252], MaskCrc(Crc32c(ck.data(), 252)));
  return ck;
}

TEST_CASE(
    "a checkpoint with a cyclic overflow chain is Corruption, not a "
    "hang") {
  std::unique_ptr<Env> env = NewMemEnv();
  const std::string dir = "/db";
  Options o;
  o.env = env.get();
  o.TEST_hash = OneChain;  // every key in one chain
  {
    auto db = DB::Open(dir, o);
    REQUIRE(db.ok());
    for (int i = 0; i < 50; ++i) {  // five full buckets
      REQUIRE_OK((*db)->Put("key-" + std::to_string(i), "v"));
    }
    REQUIRE_OK((*db)->Close());
  }
  const std::string path = dir + "/index.lhx";
  const std::string ck = ReadAll(env.get(), path);
  const uint32_t level = DecodeFixed32(&ck[24]);
  const uint64_t split = DecodeFixed64(&ck[32]);
  uint64_t home = 0x1234 & ((uint64_t{1} << level) - 1);
  if (home < split) home = 0x1234 & ((uint64_t{1} << (level + 1)) - 1);
  {
    auto f = env->OpenFile(path, OpenMode::kTruncate);
    REQUIRE(f.ok());
    REQUIRE_OK((*f)->Append(MakeCycle(ck, home)));
    REQUIRE_OK((*f)->Sync());
  }

  auto db = DB::Open(dir, o);  // verifies CRCs and link ranges: all valid
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  std::string v;
  CHECK((*db)->Get("absent", &v).IsCorruption());
  bool found = false;
  CHECK((*db)->Has("absent", &found).IsCorruption());
  CHECK((*db)->Put("new", "v").IsCorruption());
  // Close may succeed (it writes no checkpoint from a damaged index).
  (*db)->Close().IgnoreError();
  db->reset();

  // The handle removed the damaged checkpoint: the next Open rebuilds.
  auto again = DB::Open(dir, o);
  INFO(again.status().ToString());
  REQUIRE(again.ok());
  CHECK((*again)->GetMetrics().full_rebuilds == 1);
  for (int i = 0; i < 50; ++i) {
    REQUIRE_OK((*again)->Get("key-" + std::to_string(i), &v));
  }
  CHECK((*again)->Get("new", &v).IsNotFound());
  REQUIRE_OK((*again)->Close());
}

}  // namespace
}  // namespace kvb::linhash
