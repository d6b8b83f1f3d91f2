// kvb::Result<T> — a value or an error Status (Abseil StatusOr semantics,
// C++20).
//
// Use it on cold paths (open, recovery, parsing). Hot paths return Status and
// write into a caller-owned buffer instead.
//
//   Result<std::unique_ptr<File>> f = env->OpenFile(path, OpenMode::kReadOnly);
//   if (!f.ok()) return f.status();
//   (*f)->ReadAt(...);
//
// REQUIRES: a Result is never built from an OK Status (that would hold no
// value); doing so is a programming error and turns into an Internal-style
// IOError("Result built from OK").
#ifndef KVB_CORE_RESULT_H_
#define KVB_CORE_RESULT_H_

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>

#include "core/status.h"

namespace kvb {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : value_(value) {}             // NOLINT: implicit
  Result(T&& value) : value_(std::move(value)) {}       // NOLINT: implicit
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit
    assert(!status_.ok());
    if (status_.ok()) status_ = Status::IOError("Result built from OK status");
  }
  template <typename U, typename = std::enable_if_t<
                            std::is_convertible_v<U&&, T> &&
                            !std::is_same_v<std::decay_t<U>, Status>>>
  Result(U&& value) : value_(std::forward<U>(value)) {}  // NOLINT: implicit

  bool ok() const noexcept { return value_.has_value(); }
  const Status& status() const noexcept { return status_; }

  // REQUIRES: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace kvb

#define KVB_CONCAT_INNER_(a, b) a##b
#define KVB_CONCAT_(a, b) KVB_CONCAT_INNER_(a, b)
// KVB_ASSIGN_OR_RETURN(auto file, env->OpenFile(...)); returns the Status on
// error.
#define KVB_ASSIGN_OR_RETURN(lhs, expr) \
  KVB_ASSIGN_OR_RETURN_IMPL_(KVB_CONCAT_(kvb_result_, __LINE__), lhs, expr)
#define KVB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#endif  // KVB_CORE_RESULT_H_
