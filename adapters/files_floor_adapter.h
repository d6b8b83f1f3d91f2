// The file names of the "files-floor" baseline adapter (files_floor_adapter.cc,
// whose header comment is its manual), shared with its test: they must stay
// fileperkey's `escaped` encoding.
#ifndef KVB_ADAPTERS_FILES_FLOOR_ADAPTER_H_
#define KVB_ADAPTERS_FILES_FLOOR_ADAPTER_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace kvb {

// Longest key: a fully escaped name (3 bytes per key byte) fits NAME_MAX.
inline constexpr size_t kFilesFloorMaxKeySize = 85;

// The file name of `key` (fileperkey's escaped encoding, without splitting).
std::string FilesFloorName(std::string_view key);

}  // namespace kvb

#endif  // KVB_ADAPTERS_FILES_FLOOR_ADAPTER_H_
