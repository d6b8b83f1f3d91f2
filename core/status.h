// kvb::Status — the error convention of every layer of kvbench.
//
// A Status is a code plus an optional message. OK and a plain code (for example
// the NotFound of a missed Get) carry no message and never allocate, so hot
// paths can return them freely. A message is heap-allocated once and shared on
// copy.
//
// Status is [[nodiscard]]: dropping one is a compile warning. To ignore an
// error on purpose, call IgnoreError() where a reviewer can see it.
//
// Thread safety: a Status is an immutable value; copies may be used from any
// thread.
#ifndef KVB_CORE_STATUS_H_
#define KVB_CORE_STATUS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace kvb {

enum class StatusCode : uint8_t {
  kOk = 0,
  kNotFound,    // the key or file does not exist
  kCorruption,  // data on disk failed a check (magic, version, checksum, range)
  kInvalidArgument,  // the caller passed something the contract forbids
  kIOError,          // the OS reported a failure (EIO, EACCES, ...)
  kBusy,             // locked by another process or handle; try later
  kNotSupported,     // the engine or Env cannot do this
  kNoSpace,  // ENOSPC, EDQUOT, or an engine's own capacity limit (map full)
  kAborted,  // the caller cancelled (for example an Update callback)
  kFailedPrecondition,  // the object is in the wrong state (closed, read-only)
};

// Returns a stable lower-case name such as "not_found".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // OK

  static Status OK() noexcept { return Status(); }
  static Status NotFound(std::string_view msg = {}) {
    return Status(StatusCode::kNotFound, msg);
  }
  static Status Corruption(std::string_view msg = {}) {
    return Status(StatusCode::kCorruption, msg);
  }
  static Status InvalidArgument(std::string_view msg = {}) {
    return Status(StatusCode::kInvalidArgument, msg);
  }
  static Status IOError(std::string_view msg = {}) {
    return Status(StatusCode::kIOError, msg);
  }
  static Status Busy(std::string_view msg = {}) {
    return Status(StatusCode::kBusy, msg);
  }
  static Status NotSupported(std::string_view msg = {}) {
    return Status(StatusCode::kNotSupported, msg);
  }
  static Status NoSpace(std::string_view msg = {}) {
    return Status(StatusCode::kNoSpace, msg);
  }
  static Status Aborted(std::string_view msg = {}) {
    return Status(StatusCode::kAborted, msg);
  }
  static Status FailedPrecondition(std::string_view msg = {}) {
    return Status(StatusCode::kFailedPrecondition, msg);
  }
  // Maps an errno value to a code (ENOENT -> NotFound, ENOSPC/EDQUOT ->
  // NoSpace, EWOULDBLOCK/EAGAIN -> Busy, EINVAL/ENAMETOOLONG ->
  // InvalidArgument, ENOTDIR/EISDIR -> InvalidArgument, others -> IOError) and
  // keeps the errno for sys_errno(). The message reads "<context>:
  // <strerror(err)>".
  static Status FromErrno(int err, std::string_view context);

  Status(StatusCode code, std::string_view msg);

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  bool IsNotFound() const noexcept { return code_ == StatusCode::kNotFound; }
  bool IsCorruption() const noexcept {
    return code_ == StatusCode::kCorruption;
  }
  bool IsInvalidArgument() const noexcept {
    return code_ == StatusCode::kInvalidArgument;
  }
  bool IsIOError() const noexcept { return code_ == StatusCode::kIOError; }
  bool IsBusy() const noexcept { return code_ == StatusCode::kBusy; }
  bool IsNotSupported() const noexcept {
    return code_ == StatusCode::kNotSupported;
  }
  bool IsNoSpace() const noexcept { return code_ == StatusCode::kNoSpace; }
  bool IsAborted() const noexcept { return code_ == StatusCode::kAborted; }
  bool IsFailedPrecondition() const noexcept {
    return code_ == StatusCode::kFailedPrecondition;
  }

  // The errno this Status was made from by FromErrno(), or 0.
  int sys_errno() const noexcept { return errno_; }
  // The message without the code; empty for OK and plain codes.
  std::string_view message() const noexcept {
    return msg_ ? std::string_view(*msg_) : std::string_view();
  }
  // "OK", or "<code name>: <message>" (for example "io_error: open /x:
  // Permission denied").
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>"; OK stays OK.
  Status WithContext(std::string_view prefix) const;

  // Marks an error as deliberately ignored.
  void IgnoreError() const noexcept {}

  friend bool operator==(const Status& a, const Status& b) noexcept {
    return a.code_ == b.code_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  int errno_ = 0;
  std::shared_ptr<const std::string> msg_;
};

}  // namespace kvb

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define KVB_RETURN_IF_ERROR(expr)                      \
  do {                                                 \
    ::kvb::Status kvb_status_tmp_ = (expr);            \
    if (!kvb_status_tmp_.ok()) return kvb_status_tmp_; \
  } while (0)

#endif  // KVB_CORE_STATUS_H_
