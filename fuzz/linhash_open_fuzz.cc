// linhash open/recovery on arbitrary files: parts = [segment 1, segment 2,
// index.lhx] (fuzz_util.h container; an empty part is a missing file). Flags:
// bit 0 repair, bit 1 read-only, bit 2 a second segment id other than 1. The
// database is opened in a fresh in-memory Env, iterated, read back, written
// once and closed; any outcome but a crash or a leak is fine, except that every
// key the iterator returns must be readable with Get.
#include <cstdint>
#include <string>

#include "core/env.h"
#include "engines/linhash/format.h"
#include "engines/linhash/linhash.h"
#include "fuzz/fuzz_util.h"

namespace kvb::linhash {
namespace {

void Exercise(DB* db, bool read_only) {
  std::string value;
  std::unique_ptr<Iterator> it = db->NewIterator();
  int n = 0;
  while (it->Next() && n++ < 10000) {
    std::string key(it->key());
    // The record was just read by the iterator, so a Get of its key can only
    // fail with Corruption (a newer slot for the same hash pointing at damage).
    Status s = db->Get(key, &value);
    if (!s.ok() && !s.IsCorruption() && !s.IsNotFound()) {
      fuzz::Fail("Get of an iterated key", s);
    }
  }
  it.reset();
  db->Get("k1", &value).IgnoreError();
  bool found = false;
  db->Has("k2", &found).IgnoreError();
  if (!read_only) {
    db->Put("fuzz-key", "fuzz-value").IgnoreError();
    db->Delete("k1").IgnoreError();
  }
  db->Close().IgnoreError();
}

}  // namespace
}  // namespace kvb::linhash

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvb;
  fuzz::Parts in = fuzz::SplitParts(data, size, 3);
  std::unique_ptr<Env> env = NewMemEnv();
  const std::string dir = "/db";
  if (!env->CreateDirs(dir).ok()) fuzz::Fail("mkdir");
  const uint32_t id2 = (in.flags & 4) != 0 ? 7 : 1;
  if (!in.parts[0].empty()) {
    fuzz::MustWriteFile(
        env.get(), JoinPath(dir, linhash::SegmentFileName(0, 1)), in.parts[0]);
  }
  if (!in.parts[1].empty()) {
    fuzz::MustWriteFile(env.get(),
                        JoinPath(dir, linhash::SegmentFileName(id2, 2)),
                        in.parts[1]);
  }
  if (!in.parts[2].empty()) {
    fuzz::MustWriteFile(env.get(), JoinPath(dir, linhash::kIndexName),
                        in.parts[2]);
  }
  linhash::Options opts;
  opts.env = env.get();
  opts.repair = (in.flags & 1) != 0;
  opts.read_only = (in.flags & 2) != 0;
  opts.read_backend = linhash::ReadBackend::kPread;
  opts.checkpoint_interval_ms = 0;
  opts.write_buffer_size = 4096;
  auto db = linhash::DB::Open(dir, opts);
  if (db.ok()) linhash::Exercise(db->get(), opts.read_only);
  return 0;
}
