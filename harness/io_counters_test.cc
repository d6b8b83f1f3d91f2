// The flush counters see calls from our code and from the reference engines'
// shared libraries, and the write figures follow real writes.
#include "harness/io_counters.h"

#include <fcntl.h>
#include <lmdb.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "core/testing/test_util.h"

namespace kvb {
namespace {

TEST_CASE("fsync and fdatasync from our code are counted and still sync") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/f";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  io::Counters a = io::Read();
  REQUIRE(::write(fd, "hello", 5) == 5);
  CHECK(::fsync(fd) == 0);
  CHECK(::fdatasync(fd) == 0);
  CHECK(::fdatasync(fd) == 0);
  io::Counters d = io::Delta(a, io::Read());
  CHECK(d.fsyncs == 1);
  CHECK(d.fdatasyncs == 2);
  CHECK(d.flushes() == 3);
  if (d.proc_io) {
    CHECK(d.write_calls >= 1);
    CHECK(d.write_bytes >= 5);
  }
  ::close(fd);
  // Errors pass through: a bad descriptor is EBADF, and still counted.
  a = io::Read();
  errno = 0;
  CHECK(::fsync(-1) == -1);
  CHECK(errno == EBADF);
  CHECK(io::Delta(a, io::Read()).fsyncs == 1);
}

TEST_CASE("flushes inside a shared library (LMDB) are counted") {
  testing::TempDir dir;
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_open(env, dir.path().c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  REQUIRE(mdb_dbi_open(txn, nullptr, 0, &dbi) == 0);
  char k[] = "key", v[] = "value";
  MDB_val key{3, k}, val{5, v};
  REQUIRE(mdb_put(txn, dbi, &key, &val, 0) == 0);
  io::Counters a = io::Read();
  // LMDB's default (synchronous) commit flushes the data, then the meta page.
  REQUIRE(mdb_txn_commit(txn) == 0);
  io::Counters d = io::Delta(a, io::Read());
  CHECK(d.flushes() >= 1);
  mdb_env_close(env);
}

}  // namespace
}  // namespace kvb
