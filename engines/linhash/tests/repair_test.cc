// Damaged logs with no usable checkpoint (issue 14, defect 1): only a torn
// tail may be cut silently; damage followed by valid records is Corruption
// unless Options::repair, and repair keeps what it cuts in a `.corrupt` file
// beside the segment. Everything goes through the public API and the Env.
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

constexpr int kKeys = 20000;

std::string Key(int i) { return "key-" + std::to_string(i); }
std::string Val(int i) {
  return "value-" + std::to_string(i) + std::string(80, 'v');
}

std::string ReadAll(Env* env, const std::string& path) {
  auto f = env->OpenFile(path, OpenMode::kReadOnly);
  REQUIRE(f.ok());
  auto size = (*f)->Size();
  REQUIRE(size.ok());
  std::string out(*size, '\0');
  size_t got = 0;
  REQUIRE_OK((*f)->ReadAt(0, out.size(), out.data(), &got));
  out.resize(got);
  return out;
}

void WriteAll(Env* env, const std::string& path, const std::string& data) {
  auto f = env->OpenFile(path, OpenMode::kTruncate);
  REQUIRE(f.ok());
  REQUIRE_OK((*f)->Append(data));
  REQUIRE_OK((*f)->Sync());
}

std::vector<std::string> Names(Env* env, const std::string& dir) {
  auto n = env->ListDir(dir);
  REQUIRE(n.ok());
  std::sort(n->begin(), n->end());
  return *n;
}

std::vector<std::string> WithSuffix(Env* env, const std::string& dir,
                                    const std::string& suffix) {
  std::vector<std::string> out;
  for (const std::string& n : Names(env, dir)) {
    if (n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(n);
    }
  }
  return out;
}

struct Fixture {
  std::unique_ptr<Env> env = NewMemEnv();
  std::string dir = "/db";
  Options opts;
  std::string segment;  // path of the newest segment

  Fixture() { opts.env = env.get(); }

  void Load(int keys) {
    auto db = DB::Open(dir, opts);
    REQUIRE(db.ok());
    for (int i = 0; i < keys; ++i) REQUIRE_OK((*db)->Put(Key(i), Val(i)));
    REQUIRE_OK((*db)->Close());
    auto segs = WithSuffix(env.get(), dir, ".lhlog");
    REQUIRE(!segs.empty());
    segment = dir + "/" + segs.back();
  }
  // Flips one byte at `offset` of the newest segment and removes the
  // checkpoint, so Open must replay the whole log.
  std::string FlipAndDropCheckpoint(uint64_t offset) {
    std::string bytes = ReadAll(env.get(), segment);
    REQUIRE(offset < bytes.size());
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0x5a);
    WriteAll(env.get(), segment, bytes);
    REQUIRE_OK(env->RemoveFile(dir + "/index.lhx"));
    return bytes;
  }
};

TEST_CASE(
    "a flipped byte in the middle of the newest segment is Corruption "
    "and the segment is left untouched") {
  Fixture fx;
  fx.Load(kKeys);
  const uint64_t size = ReadAll(fx.env.get(), fx.segment).size();
  const std::string damaged = fx.FlipAndDropCheckpoint(size / 2);
  const auto names = Names(fx.env.get(), fx.dir);

  auto db = DB::Open(fx.dir, fx.opts);
  INFO(db.status().ToString());
  REQUIRE(db.status().IsCorruption());
  CHECK(db.status().ToString().find("repair") != std::string::npos);
  CHECK(ReadAll(fx.env.get(), fx.segment) == damaged);
  CHECK(Names(fx.env.get(), fx.dir) == names);

  Options ro = fx.opts;
  ro.read_only = true;
  CHECK(DB::Open(fx.dir, ro).status().IsCorruption());
  CHECK(ReadAll(fx.env.get(), fx.segment) == damaged);
}

TEST_CASE("Inspect reports damage in the middle of the newest segment") {
  Fixture fx;
  fx.Load(kKeys);
  const uint64_t size = ReadAll(fx.env.get(), fx.segment).size();
  const std::string damaged = fx.FlipAndDropCheckpoint(size / 2);
  std::ostringstream out;
  Status s = Inspect(fx.dir, false, out, fx.env.get());
  INFO(out.str());
  CHECK(s.IsCorruption());
  CHECK(out.str().find("verdict: OK") == std::string::npos);
  CHECK(out.str().find("verdict: ") != std::string::npos);
  CHECK(ReadAll(fx.env.get(), fx.segment) == damaged);
}

TEST_CASE("repair cuts the damaged segment and keeps the cut bytes aside") {
  Fixture fx;
  fx.Load(kKeys);
  const uint64_t size = ReadAll(fx.env.get(), fx.segment).size();
  const std::string damaged = fx.FlipAndDropCheckpoint(size / 2);

  Options o = fx.opts;
  o.repair = true;
  auto db = DB::Open(fx.dir, o);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  const Metrics m = (*db)->GetMetrics();
  const uint64_t kept = (*db)->Count();
  CHECK(kept > 0);
  CHECK(kept < static_cast<uint64_t>(kKeys));
  CHECK(m.replayed_records == kept);
  CHECK(m.repair_cut_bytes > 0);
  CHECK(m.repair_lost_records > 0);
  CHECK(kept + m.repair_lost_records + 1 >= static_cast<uint64_t>(kKeys));
  // Keys are written in order, so the survivors are a prefix.
  std::string v;
  for (int i = 0; i < static_cast<int>(kept); ++i) {
    REQUIRE_OK((*db)->Get(Key(i), &v));
  }
  CHECK((*db)->Get(Key(kKeys - 1), &v).IsNotFound());
  REQUIRE_OK((*db)->Close());

  const auto aside = WithSuffix(fx.env.get(), fx.dir, ".corrupt");
  REQUIRE(aside.size() == 1);
  const std::string saved = ReadAll(fx.env.get(), fx.dir + "/" + aside[0]);
  const std::string segment = ReadAll(fx.env.get(), fx.segment);
  CHECK(saved.size() == m.repair_cut_bytes);
  CHECK(segment.size() + saved.size() == damaged.size());
  CHECK(segment + saved == damaged);

  // The repaired database (with its aside file) opens normally afterwards.
  auto again = DB::Open(fx.dir, fx.opts);
  INFO(again.status().ToString());
  REQUIRE(again.ok());
  CHECK((*again)->Count() == kept);
  std::ostringstream out;
  REQUIRE_OK((*again)->Close());
  CHECK_OK(Inspect(fx.dir, false, out, fx.env.get()));
}

TEST_CASE("a torn tail of the newest segment is still cut without repair") {
  Fixture fx;
  fx.Load(100);
  std::string bytes = ReadAll(fx.env.get(), fx.segment);
  // Half of the last record, then garbage that holds no valid record.
  bytes.resize(bytes.size() - 40);
  bytes += std::string(25, '\xff');
  WriteAll(fx.env.get(), fx.segment, bytes);
  REQUIRE_OK(fx.env->RemoveFile(fx.dir + "/index.lhx"));

  auto db = DB::Open(fx.dir, fx.opts);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  CHECK((*db)->Count() == 99);
  CHECK((*db)->GetMetrics().repair_cut_bytes == 0);
  REQUIRE_OK((*db)->Close());
  CHECK(WithSuffix(fx.env.get(), fx.dir, ".corrupt").empty());
}

TEST_CASE("a torn batch at the tail is cut, not mistaken for damage") {
  Fixture fx;
  fx.Load(100);
  {
    auto db = DB::Open(fx.dir, fx.opts);
    REQUIRE(db.ok());
    WriteBatch b;
    for (int i = 0; i < 50; ++i) b.Put("batch-" + std::to_string(i), Val(i));
    REQUIRE_OK((*db)->Write(b));
    REQUIRE_OK((*db)->Close());
  }
  std::string bytes = ReadAll(fx.env.get(), fx.segment);
  bytes.resize(bytes.size() - 30);  // the batch's last record is torn
  WriteAll(fx.env.get(), fx.segment, bytes);
  REQUIRE_OK(fx.env->RemoveFile(fx.dir + "/index.lhx"));

  auto db = DB::Open(fx.dir, fx.opts);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  CHECK((*db)->Count() == 100);
  bool found = true;
  REQUIRE_OK((*db)->Has("batch-0", &found));
  CHECK(!found);
}

}  // namespace
}  // namespace kvb::linhash
