#include "core/status.h"

#include <cerrno>
#include <cstring>

#include "core/names.h"

namespace kvb {

constexpr NameTable<StatusCode, 10> kStatusCodeNames{{{
    {StatusCode::kOk, "ok"},
    {StatusCode::kNotFound, "not_found"},
    {StatusCode::kCorruption, "corruption"},
    {StatusCode::kInvalidArgument, "invalid_argument"},
    {StatusCode::kIOError, "io_error"},
    {StatusCode::kBusy, "busy"},
    {StatusCode::kNotSupported, "not_supported"},
    {StatusCode::kNoSpace, "no_space"},
    {StatusCode::kAborted, "aborted"},
    {StatusCode::kFailedPrecondition, "failed_precondition"},
}}};

std::string_view StatusCodeName(StatusCode code) {
  return kStatusCodeNames.Name(code, "unknown");
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
