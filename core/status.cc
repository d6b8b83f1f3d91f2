#include "core/status.h"

#include <cerrno>
#include <cstring>

namespace kvb {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kIOError:
      return "io_error";
    case StatusCode::kBusy:
      return "busy";
    case StatusCode::kNotSupported:
      return "not_supported";
    case StatusCode::kNoSpace:
      return "no_space";
    case StatusCode::kAborted:
      return "aborted";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string_view msg) : code_(code) {
  // OK never carries a message, and plain codes stay allocation-free.
  if (code != StatusCode::kOk && !msg.empty()) {
    msg_ = std::make_shared<const std::string>(msg);
  }
}

namespace {

StatusCode CodeForErrno(int err) {
  switch (err) {
    case ENOENT:
      return StatusCode::kNotFound;
    case ENOSPC:
    case EDQUOT:
      return StatusCode::kNoSpace;
#if EAGAIN != EWOULDBLOCK
    case EWOULDBLOCK:
#endif
    case EAGAIN:
      return StatusCode::kBusy;
    case EINVAL:
    case ENAMETOOLONG:
    case ENOTDIR:
    case EISDIR:
      return StatusCode::kInvalidArgument;
    default:
      return StatusCode::kIOError;
  }
}

// strerror() is not thread-safe; the GNU strerror_r returns the message
// pointer.
std::string ErrnoText(int err) {
  char buf[256];
  buf[0] = '\0';
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  return strerror_r(err, buf, sizeof(buf));
#else
  if (strerror_r(err, buf, sizeof(buf)) != 0)
    return "errno " + std::to_string(err);
  return buf;
#endif
}

}  // namespace

Status Status::FromErrno(int err, std::string_view context) {
  std::string msg(context);
  if (!msg.empty()) msg += ": ";
  msg += ErrnoText(err);
  Status s(CodeForErrno(err), msg);
  s.errno_ = err;
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code_));
  if (msg_) {
    out += ": ";
    out += *msg_;
  }
  return out;
}

Status Status::WithContext(std::string_view prefix) const {
  if (ok()) return *this;
  std::string msg(prefix);
  if (msg_) {
    msg += ": ";
    msg += *msg_;
  }
  Status s(code_, msg);
  s.errno_ = errno_;
  return s;
}

}  // namespace kvb
