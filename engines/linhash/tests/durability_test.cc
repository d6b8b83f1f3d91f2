// Process-crash safety with default options (issue 14 defect 7, issue 17 item
// 1): every acknowledged write has reached the file system (write(2) returned)
// before Put/Delete/Write returns, and a failed append fails the call that
// owns the data, stickily. A "process crash" here is an Env that refuses every
// later call (so Close writes nothing) without a power loss: what the Env
// holds is what the kernel would hold after kill -9.
#include <catch2/catch.hpp>
#include <string>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

using FOp = FaultInjectionEnv::Op;

std::string Key(int i) { return "key-" + std::to_string(i); }
std::string Val(int i) { return "value-" + std::to_string(i); }

struct Fixture {
  std::unique_ptr<Env> mem = NewMemEnv();
  FaultInjectionEnv env{mem.get()};
  std::string dir = "/db";
  Options opts;
  std::unique_ptr<DB> db;

  Fixture() { opts.env = &env; }
  void Open() {
    auto r = DB::Open(dir, opts);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    db = std::move(r).value();
  }
  // kill -9: nothing the handle does afterwards reaches the files.
  void KillProcess() {
    env.FailAlways(FOp::kAny, Status::IOError("process killed"));
    db.reset();
    env.ClearFaults();
  }
};

TEST_CASE(
    "default options: every acknowledged write survives a process "
    "crash") {
  Fixture fx;
  fx.Open();
  for (int i = 0; i < 1000; ++i) REQUIRE_OK(fx.db->Put(Key(i), Val(i)));
  REQUIRE_OK(fx.db->Delete(Key(7)));
  WriteBatch b;
  b.Put("batch", "v");
  b.Delete(Key(8));
  REQUIRE_OK(fx.db->Write(b));
  fx.KillProcess();

  fx.Open();
  CHECK(fx.db->Count() == 999);
  std::string v;
  for (int i = 0; i < 1000; ++i) {
    Status s = fx.db->Get(Key(i), &v);
    if (i == 7 || i == 8) {
      REQUIRE(s.IsNotFound());
    } else {
      REQUIRE_OK(s);
      REQUIRE(v == Val(i));
    }
  }
  REQUIRE_OK(fx.db->Get("batch", &v));
}

TEST_CASE(
    "ENOSPC on the k-th append fails that call, stickily, and loses "
    "nothing acknowledged") {
  for (uint64_t k : {0, 1, 17, 300}) {
    INFO("append " << k);
    Fixture fx;
    fx.Open();
    fx.env.FailOnce(FOp::kWriteAt, k, Status::NoSpace("injected ENOSPC"),
                    ".lhlog");
    int acked = 0;
    Status s;
    for (; acked < 1000; ++acked) {
      s = fx.db->Put(Key(acked), Val(acked));
      if (!s.ok()) break;
    }
    // The call whose record did not reach the file gets the error ...
    REQUIRE(static_cast<uint64_t>(acked) == k);
    CHECK(s.IsNoSpace());
    // ... and every later write is refused, even once the disk has room.
    CHECK(fx.db->Put("later", "x").IsFailedPrecondition());
    CHECK(fx.db->Delete(Key(0)).IsFailedPrecondition());
    fx.KillProcess();

    fx.Open();
    CHECK(fx.db->Count() == static_cast<uint64_t>(acked));
    std::string v;
    for (int i = 0; i < acked; ++i) {
      REQUIRE_OK(fx.db->Get(Key(i), &v));
      REQUIRE(v == Val(i));
    }
    CHECK(fx.db->Get(Key(acked), &v).IsNotFound());
    REQUIRE_OK(fx.db->Close());
  }
}

TEST_CASE(
    "an explicit append buffer is not process-crash safe (as "
    "documented)") {
  Fixture fx;
  fx.opts.write_buffer_size = 256 << 10;
  fx.Open();
  for (int i = 0; i < 1000; ++i) REQUIRE_OK(fx.db->Put(Key(i), Val(i)));
  fx.KillProcess();
  fx.Open();
  // The buffered records never reached the file.
  CHECK(fx.db->Count() < 1000);
}

}  // namespace
}  // namespace kvb::linhash
