// Registration hooks of the built-in adapters. Each adapter's .cc defines its
// Add function, which appends one AdapterInfo; registry.cc calls every hook
// whose adapter was built (CMake defines KVB_HAVE_<NAME>) and lists the others
// with built = false. Internal to adapters/: the harness uses registry.h.
#ifndef KVB_ADAPTERS_BUILTIN_H_
#define KVB_ADAPTERS_BUILTIN_H_

#include <vector>

#include "adapters/registry.h"

namespace kvb::adapters_internal {

void AddNullAdapter(std::vector<AdapterInfo>* out);
void AddMemoryAdapter(std::vector<AdapterInfo>* out);
void AddFilesFloorAdapter(std::vector<AdapterInfo>* out);
void AddRocksDbAdapter(std::vector<AdapterInfo>* out);   // KVB_HAVE_ROCKSDB
void AddLevelDbAdapter(std::vector<AdapterInfo>* out);   // KVB_HAVE_LEVELDB
void AddLmdbAdapter(std::vector<AdapterInfo>* out);      // KVB_HAVE_LMDB
void AddSqliteAdapter(std::vector<AdapterInfo>* out);    // KVB_HAVE_SQLITE
void AddLinhashAdapter(std::vector<AdapterInfo>* out);   // KVB_HAVE_LINHASH
void AddTypedmapAdapter(std::vector<AdapterInfo>* out);  // KVB_HAVE_TYPEDMAP
void AddFileperkeyAdapter(
    std::vector<AdapterInfo>* out);  // KVB_HAVE_FILEPERKEY

}  // namespace kvb::adapters_internal

#endif  // KVB_ADAPTERS_BUILTIN_H_
