# Third-party dependencies, all from Debian packages (scripts/install-deps.sh).
# Reference databases are optional: an absent one is reported by `kvbench list` as not built.
#
# KVB_ENGINES_ONLY looks for the engines' own dependencies only (and Catch2 when their tests
# are built), so an application can build linhash without RocksDB, CLI11 or benchmark.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)  # core: hash.cc
if(NOT KVB_ENGINES_ONLY OR KVB_WITH_TYPEDMAP)
  find_package(nlohmann_json 3 REQUIRED)
endif()
if(NOT KVB_ENGINES_ONLY OR KVB_WITH_FILEPERKEY)
  find_package(ZLIB REQUIRED)
  pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
endif()
if(KVB_ENGINES_ONLY)
  if(KVB_BUILD_TESTS)
    find_package(Catch2 2 REQUIRED)
  endif()
  return()
endif()

find_package(CLI11 QUIET)
find_package(benchmark QUIET)
find_package(Catch2 2 QUIET)

# KVB_REFS_DIR: link RocksDB and LevelDB from scripts/build-release-refs.sh's cache (the directory
# given to its --cache, default ~/.cache/kvbench/refs; scripts/build.sh --release-refs sets it)
# instead of Debian's packages. A library with a finished build there
# (DIR/<package>-<version>/prefix/kvb-refs.stamp; the newest version wins) is linked from it and
# KVB_<NAME>_RELEASE_REF is ON; one without falls back to Debian's with a warning (the results
# still record which build ran: context `libraries`). Unset (the default): Debian's
# librocksdb-dev and libleveldb-dev, exactly as before.
set(KVB_REFS_DIR "" CACHE PATH
    "link rocksdb and leveldb from this scripts/build-release-refs.sh cache (empty: Debian's)")
function(kvb_release_ref pkg header)
  string(TOUPPER ${pkg} upper)
  set(KVB_${upper}_RELEASE_REF OFF PARENT_SCOPE)
  unset(${upper}_INCLUDE CACHE)
  unset(${upper}_LIB CACHE)
  file(GLOB stamps "${KVB_REFS_DIR}/${pkg}-*/prefix/kvb-refs.stamp")
  if(NOT stamps)
    message(WARNING "KVB_REFS_DIR=${KVB_REFS_DIR} holds no finished ${pkg} build, so Debian's "
                    "is linked; run scripts/build-release-refs.sh --cache ${KVB_REFS_DIR}")
    find_path(${upper}_INCLUDE ${header})
    find_library(${upper}_LIB ${pkg})
    return()
  endif()
  list(SORT stamps COMPARE NATURAL)
  list(GET stamps -1 stamp)
  get_filename_component(prefix "${stamp}" DIRECTORY)
  find_path(${upper}_INCLUDE ${header} PATHS ${prefix}/include NO_DEFAULT_PATH)
  find_library(${upper}_LIB ${pkg} PATHS ${prefix}/lib NO_DEFAULT_PATH)
  if(NOT ${upper}_INCLUDE OR NOT ${upper}_LIB)
    message(FATAL_ERROR "${prefix}: no ${header} or lib${pkg}.so; rebuild it with "
                        "scripts/build-release-refs.sh")
  endif()
  set(KVB_${upper}_RELEASE_REF ON PARENT_SCOPE)
  message(STATUS "kvbench ${pkg}: release build ${prefix}")
endfunction()
if(NOT "${KVB_REFS_DIR}" STREQUAL "${KVB_REFS_DIR_APPLIED}")
  # Switched between Debian's and the release builds: forget the old locations.
  foreach(var ROCKSDB_INCLUDE ROCKSDB_LIB LEVELDB_INCLUDE LEVELDB_LIB)
    unset(${var} CACHE)
  endforeach()
  set(KVB_REFS_DIR_APPLIED "${KVB_REFS_DIR}" CACHE INTERNAL "")
endif()
set(KVB_ROCKSDB_RELEASE_REF OFF)
set(KVB_LEVELDB_RELEASE_REF OFF)
if(KVB_REFS_DIR)
  kvb_release_ref(rocksdb rocksdb/db.h)
  kvb_release_ref(leveldb leveldb/db.h)
else()
  find_path(ROCKSDB_INCLUDE rocksdb/db.h)
  find_library(ROCKSDB_LIB rocksdb)
  find_path(LEVELDB_INCLUDE leveldb/db.h)
  find_library(LEVELDB_LIB leveldb)
endif()
find_path(LMDB_INCLUDE lmdb.h)
find_library(LMDB_LIB lmdb)
pkg_check_modules(SQLITE3 QUIET IMPORTED_TARGET sqlite3)

set(KVB_HAVE_ROCKSDB OFF)
set(KVB_HAVE_LEVELDB OFF)
set(KVB_HAVE_LMDB OFF)
set(KVB_HAVE_SQLITE OFF)
if(ROCKSDB_INCLUDE AND ROCKSDB_LIB)
  set(KVB_HAVE_ROCKSDB ON)
endif()
if(LEVELDB_INCLUDE AND LEVELDB_LIB)
  set(KVB_HAVE_LEVELDB ON)
endif()
if(LMDB_INCLUDE AND LMDB_LIB)
  set(KVB_HAVE_LMDB ON)
endif()
if(SQLITE3_FOUND)
  set(KVB_HAVE_SQLITE ON)
endif()
message(STATUS "kvbench reference DBs: rocksdb=${KVB_HAVE_ROCKSDB} leveldb=${KVB_HAVE_LEVELDB} "
               "lmdb=${KVB_HAVE_LMDB} sqlite=${KVB_HAVE_SQLITE}")
