// Which shared object this process actually loaded a library from, and whether
// that object was built with assertions — detected, not assumed.
//
// A C or C++ `assert` that is compiled in calls glibc's `__assert_fail` (or
// `__assert_perror_fail` / `__assert`) when it fails, so a shared object built
// without NDEBUG imports one of them: its dynamic symbol table holds the name as
// an undefined symbol. A release build (-DNDEBUG) has no such import. The test
// reads the ELF file the loader mapped (its path from dladdr), so it describes
// what this process runs, whichever build the linker or LD_LIBRARY_PATH chose.
// RocksDB's test sync points (rocksdb::SyncPoint) are compiled only without
// NDEBUG too; a library that defines a `SyncPoint` class member is reported as
// having live sync points.
//
// Thread safety: the functions are reentrant; they read files and call dlsym.
#ifndef KVB_HARNESS_LOADED_LIBRARY_H_
#define KVB_HARNESS_LOADED_LIBRARY_H_

#include <string>

#include "core/result.h"

namespace kvb {

struct LoadedLibrary {
  std::string path;          // the shared object's file, symlinks resolved
  bool assertions = false;   // it imports an assertion-failure handler
  bool sync_points = false;  // it defines members of a class named SyncPoint
};

// The shared object that defines `symbol` in this process (looked up with
// dlsym(RTLD_DEFAULT), so the answer is the loader's own resolution) and its
// assertion status. NotFound if no loaded object defines the symbol;
// Corruption/IOError if its file cannot be read as a 64-bit ELF object.
[[nodiscard]] Result<LoadedLibrary> FindLoadedLibrary(
    const std::string& symbol);

// The shared object containing `address` (dladdr) and its assertion status.
[[nodiscard]] Result<LoadedLibrary> LibraryAt(const void* address);

// The ELF file at `path`, read from its .dynsym: `assertions` if it imports
// __assert_fail, __assert_perror_fail or __assert (an undefined entry);
// `sync_points` if it defines a symbol of a class SyncPoint (mangled
// "...9SyncPoint..."). Errors: IOError (cannot read), Corruption (not a
// well-formed ELF64 file or no .dynsym).
[[nodiscard]] Result<LoadedLibrary> InspectSharedObject(
    const std::string& path);

}  // namespace kvb

#endif  // KVB_HARNESS_LOADED_LIBRARY_H_
