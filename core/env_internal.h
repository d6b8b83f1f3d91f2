// Internals shared by the Env implementations in core/. Not for engines.
#ifndef KVB_CORE_ENV_INTERNAL_H_
#define KVB_CORE_ENV_INTERNAL_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace kvb::internal {

// Canonical spelling of a path for use as a map key: repeated and trailing
// slashes removed ("/a//b/" -> "/a/b"). "." and ".." components are kept as
// written, not resolved.
std::string NormalizePath(std::string_view path);

// The one refusal every Env gives for a symbolic link it will not follow:
// InvalidArgument("<what> <path>: is a symbolic link (not followed)").
Status SymlinkRefused(std::string_view what, std::string_view path);

}  // namespace kvb::internal

#endif  // KVB_CORE_ENV_INTERNAL_H_
