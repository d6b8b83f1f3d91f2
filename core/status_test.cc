#include "core/status.h"

#include <catch2/catch.hpp>
#include <cerrno>

#include "core/result.h"

namespace kvb {
namespace {

TEST_CASE("OK status has no message and prints OK", "[status]") {
  Status s;
  CHECK(s.ok());
  CHECK(s.code() == StatusCode::kOk);
  CHECK(s.message().empty());
  CHECK(s.ToString() == "OK");
  CHECK(Status::OK().ok());
}

TEST_CASE("every code has a stable name and predicate", "[status]") {
  CHECK(StatusCodeName(StatusCode::kNotFound) == "not_found");
  CHECK(StatusCodeName(StatusCode::kFailedPrecondition) ==
        "failed_precondition");
  CHECK(Status::NotFound().IsNotFound());
  CHECK(Status::Corruption("x").IsCorruption());
  CHECK(Status::InvalidArgument("x").IsInvalidArgument());
  CHECK(Status::IOError("x").IsIOError());
  CHECK(Status::Busy("x").IsBusy());
  CHECK(Status::NotSupported("x").IsNotSupported());
  CHECK(Status::NoSpace("x").IsNoSpace());
  CHECK(Status::Aborted("x").IsAborted());
  CHECK(Status::FailedPrecondition("x").IsFailedPrecondition());
  CHECK_FALSE(Status::NotFound().ok());
}

TEST_CASE("ToString joins the code name and the message", "[status]") {
  CHECK(Status::NotFound().ToString() == "not_found");
  CHECK(Status::Corruption("bad magic").ToString() == "corruption: bad magic");
  CHECK(Status::NotFound("").message().empty());
}

TEST_CASE("FromErrno maps errno values to codes and keeps errno", "[status]") {
  CHECK(Status::FromErrno(ENOENT, "open /x").IsNotFound());
  CHECK(Status::FromErrno(ENOSPC, "write /x").IsNoSpace());
  CHECK(Status::FromErrno(EDQUOT, "write /x").IsNoSpace());
  CHECK(Status::FromErrno(EWOULDBLOCK, "lock").IsBusy());
  CHECK(Status::FromErrno(EAGAIN, "lock").IsBusy());
  CHECK(Status::FromErrno(EINVAL, "x").IsInvalidArgument());
  CHECK(Status::FromErrno(ENAMETOOLONG, "x").IsInvalidArgument());
  CHECK(Status::FromErrno(ENOTDIR, "x").IsInvalidArgument());
  CHECK(Status::FromErrno(EISDIR, "x").IsInvalidArgument());
  CHECK(Status::FromErrno(EIO, "x").IsIOError());
  CHECK(Status::FromErrno(EACCES, "x").IsIOError());
  Status s = Status::FromErrno(EACCES, "open /x");
  CHECK(s.sys_errno() == EACCES);
  CHECK(s.ToString() == "io_error: open /x: Permission denied");
  CHECK(Status::IOError("x").sys_errno() == 0);
}

TEST_CASE("WithContext prefixes the message and keeps code and errno",
          "[status]") {
  Status s = Status::FromErrno(ENOENT, "open /x").WithContext("loading index");
  CHECK(s.IsNotFound());
  CHECK(s.sys_errno() == ENOENT);
  CHECK(s.message() == "loading index: open /x: No such file or directory");
  CHECK(Status::NotFound().WithContext("get").message() == "get");
  CHECK(Status::OK().WithContext("anything").ok());
  CHECK(Status::OK().WithContext("anything").message().empty());
}

TEST_CASE("copies share the message; equality compares codes", "[status]") {
  Status a = Status::Corruption("checksum mismatch");
  Status b = a;
  CHECK(b.message() == "checksum mismatch");
  CHECK(a == b);
  CHECK(Status::Corruption("other") == a);
  CHECK_FALSE(Status::IOError("checksum mismatch") == a);
}

Status FailsWith(Status s) {
  KVB_RETURN_IF_ERROR(s);
  return Status::Aborted("not reached");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  KVB_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST_CASE("KVB_RETURN_IF_ERROR and Result propagate errors", "[status]") {
  CHECK(FailsWith(Status::Busy()).IsBusy());
  CHECK(FailsWith(Status::OK()).IsAborted());
  Result<int> q = Quarter(8);
  REQUIRE(q.ok());
  CHECK(*q == 2);
  CHECK(Quarter(6).status().IsInvalidArgument());
  CHECK(Quarter(6).value_or(-1) == -1);
}

}  // namespace
}  // namespace kvb
