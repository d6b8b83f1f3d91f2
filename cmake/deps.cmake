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

find_path(ROCKSDB_INCLUDE rocksdb/db.h)
find_library(ROCKSDB_LIB rocksdb)
find_path(LEVELDB_INCLUDE leveldb/db.h)
find_library(LEVELDB_LIB leveldb)
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
