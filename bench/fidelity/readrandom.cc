// readrandom — an independent minimal reader, to check kvbench's read figures.
//
// It shares no code with kvbench: its own keys, values, load, shuffle and
// timing, and each engine opened directly with the settings kvbench's adapter
// uses by default (adapters/*_adapter.cc): LMDB with MDB_NOTLS|MDB_NOSYNC, a
// 1 GiB map and one reset/renewed read transaction per thread; LevelDB and
// RocksDB with a 64 MiB block cache, 10-bit Bloom filters, 64 MiB memtables,
// no compression (RocksDB: 2 background jobs). The run is kvbench's
// read-heavy shape: load N keys in random order (one write per key, no sync),
// close, reopen, then T threads read every key once in a shuffled order and
// check its value. Prints one line: engine, keys, threads, load seconds, read
// seconds, gets/s, bad reads.
//
//   readrandom ENGINE DIR KEYS THREADS      (ENGINE: lmdb, leveldb, rocksdb;
//                                            DIR must not exist)
#include <lmdb.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifdef KVB_FIDELITY_LEVELDB
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#endif
#ifdef KVB_FIDELITY_ROCKSDB
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#endif

namespace {

constexpr size_t kKeyBytes = 16, kValueBytes = 128;

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// 16 hex digits of a scrambled id: distinct for distinct ids, unordered.
void KeyOf(uint64_t id, char* out) {
  static const char kHex[] = "0123456789abcdef";
  uint64_t h = Mix(id);
  for (size_t i = 0; i < kKeyBytes; ++i) out[i] = kHex[(h >> (4 * i)) & 15];
}

// The id in the first 8 bytes, then a pattern of it.
void ValueOf(uint64_t id, char* out) {
  uint64_t x = id;
  for (size_t i = 0; i < kValueBytes; i += 8) {
    std::memcpy(out + i, &x, 8);
    x = Mix(x);
  }
}

bool ValueIs(uint64_t id, const char* v, size_t n) {
  uint64_t got;
  if (n != kValueBytes) return false;
  std::memcpy(&got, v, 8);
  return got == id;
}

// One engine: open, put, a per-thread reader, close.
class Store {
 public:
  virtual ~Store() = default;
  virtual bool Put(const char* k, const char* v) = 0;
  // Reads key `k` on this thread's reader; false if absent or failed.
  virtual bool Get(int thread, const char* k, uint64_t id) = 0;
};

class Lmdb : public Store {
 public:
  Lmdb(const std::string& dir, int threads) : readers_(threads, nullptr) {
    Check(mdb_env_create(&env_), "create");
    Check(mdb_env_set_maxreaders(env_, 126), "maxreaders");
    Check(mdb_env_set_mapsize(env_, size_t{1} << 30), "mapsize");
    Check(mdb_env_open(env_, dir.c_str(), MDB_NOTLS | MDB_NOSYNC, 0644),
          "open");
    MDB_txn* txn;
    Check(mdb_txn_begin(env_, nullptr, 0, &txn), "txn");
    Check(mdb_dbi_open(txn, nullptr, 0, &dbi_), "dbi");
    Check(mdb_txn_commit(txn), "commit");
  }
  ~Lmdb() override {
    for (MDB_txn* t : readers_)
      if (t) mdb_txn_abort(t);
    mdb_env_sync(env_, 1);
    mdb_env_close(env_);
  }
  bool Put(const char* k, const char* v) override {
    MDB_txn* txn;
    if (mdb_txn_begin(env_, nullptr, 0, &txn) != 0) return false;
    MDB_val key{kKeyBytes, const_cast<char*>(k)};
    MDB_val val{kValueBytes, const_cast<char*>(v)};
    if (mdb_put(txn, dbi_, &key, &val, 0) != 0) {
      mdb_txn_abort(txn);
      return false;
    }
    return mdb_txn_commit(txn) == 0;
  }
  bool Get(int thread, const char* k, uint64_t id) override {
    MDB_txn*& txn = readers_[thread];
    int rc = txn ? mdb_txn_renew(txn)
                 : mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc != 0) return false;
    MDB_val key{kKeyBytes, const_cast<char*>(k)}, val;
    bool ok = mdb_get(txn, dbi_, &key, &val) == 0 &&
              ValueIs(id, static_cast<const char*>(val.mv_data), val.mv_size);
    mdb_txn_reset(txn);
    return ok;
  }

 private:
  static void Check(int rc, const char* what) {
    if (rc == 0) return;
    std::fprintf(stderr, "readrandom: lmdb %s: %s\n", what, mdb_strerror(rc));
    std::exit(1);
  }
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  std::vector<MDB_txn*> readers_;
};

#ifdef KVB_FIDELITY_LEVELDB
class LevelDb : public Store {
 public:
  explicit LevelDb(const std::string& dir)
      : cache_(leveldb::NewLRUCache(64 << 20)),
        filter_(leveldb::NewBloomFilterPolicy(10)) {
    leveldb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = 64 << 20;
    o.compression = leveldb::kNoCompression;
    o.block_cache = cache_.get();
    o.filter_policy = filter_.get();
    leveldb::DB* db;
    leveldb::Status s = leveldb::DB::Open(o, dir, &db);
    if (!s.ok()) {
      std::fprintf(stderr, "readrandom: leveldb: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    db_.reset(db);
  }
  ~LevelDb() override { db_.reset(); }
  bool Put(const char* k, const char* v) override {
    return db_->Put({}, {k, kKeyBytes}, {v, kValueBytes}).ok();
  }
  bool Get(int, const char* k, uint64_t id) override {
    std::string v;
    return db_->Get({}, {k, kKeyBytes}, &v).ok() &&
           ValueIs(id, v.data(), v.size());
  }

 private:
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
};
#endif

#ifdef KVB_FIDELITY_ROCKSDB
class RocksDb : public Store {
 public:
  explicit RocksDb(const std::string& dir) {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = 64 << 20;
    o.max_background_jobs = 2;
    o.compression = rocksdb::kNoCompression;
    o.bottommost_compression = rocksdb::kNoCompression;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = rocksdb::NewLRUCache(64 << 20);
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    rocksdb::DB* db;
    rocksdb::Status s = rocksdb::DB::Open(o, dir, &db);
    if (!s.ok()) {
      std::fprintf(stderr, "readrandom: rocksdb: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    db_.reset(db);
  }
  ~RocksDb() override {
    (void)db_->SyncWAL();
    (void)db_->Close();
  }
  bool Put(const char* k, const char* v) override {
    return db_->Put({}, {k, kKeyBytes}, {v, kValueBytes}).ok();
  }
  bool Get(int, const char* k, uint64_t id) override {
    rocksdb::PinnableSlice v;
    return db_->Get({}, db_->DefaultColumnFamily(), {k, kKeyBytes}, &v).ok() &&
           ValueIs(id, v.data(), v.size());
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};
#endif

std::unique_ptr<Store> Open(const std::string& engine, const std::string& dir,
                            int threads) {
  if (engine == "lmdb") return std::make_unique<Lmdb>(dir, threads);
#ifdef KVB_FIDELITY_LEVELDB
  if (engine == "leveldb") return std::make_unique<LevelDb>(dir);
#endif
#ifdef KVB_FIDELITY_ROCKSDB
  if (engine == "rocksdb") return std::make_unique<RocksDb>(dir);
#endif
  std::fprintf(stderr, "readrandom: unknown or unbuilt engine '%s'\n",
               engine.c_str());
  std::exit(2);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       since)
      .count();
}

std::vector<uint64_t> Shuffled(uint64_t n, uint64_t seed) {
  std::vector<uint64_t> ids(n);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(seed));
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: readrandom ENGINE DIR KEYS THREADS\n");
    return 2;
  }
  const std::string engine = argv[1], dir = argv[2];
  char* end;
  const long long keys = std::strtoll(argv[3], &end, 10);
  const long threads = std::strtol(argv[4], &end, 10);
  if (keys <= 0 || threads <= 0 || threads > 64) {
    std::fprintf(stderr, "readrandom: KEYS and THREADS must be positive\n");
    return 2;
  }
  if (std::filesystem::exists(dir)) {
    std::fprintf(stderr, "readrandom: %s exists; give a new directory\n",
                 dir.c_str());
    return 2;
  }
  std::filesystem::create_directories(dir);
  const uint64_t n = static_cast<uint64_t>(keys);
  auto t0 = std::chrono::steady_clock::now();
  {
    std::unique_ptr<Store> s = Open(engine, dir, 1);
    char k[kKeyBytes], v[kValueBytes];
    for (uint64_t id : Shuffled(n, 1)) {
      KeyOf(id, k);
      ValueOf(id, v);
      if (!s->Put(k, v)) {
        std::fprintf(stderr, "readrandom: put failed\n");
        return 1;
      }
    }
  }
  const double load_s = Seconds(t0);
  std::unique_ptr<Store> s = Open(engine, dir, static_cast<int>(threads));
  const std::vector<uint64_t> order = Shuffled(n, 2);
  std::atomic<uint64_t> bad{0};
  auto t1 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (long t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      uint64_t from = n * t / threads, to = n * (t + 1) / threads, wrong = 0;
      char k[kKeyBytes];
      for (uint64_t i = from; i < to; ++i) {
        KeyOf(order[i], k);
        if (!s->Get(static_cast<int>(t), k, order[i])) ++wrong;
      }
      bad += wrong;
    });
  }
  for (std::thread& th : pool) th.join();
  const double read_s = Seconds(t1);
  s.reset();
  std::printf(
      "engine=%s keys=%llu threads=%ld load_s=%.2f read_s=%.3f gets_per_s=%.0f "
      "bad=%llu\n",
      engine.c_str(), static_cast<unsigned long long>(n), threads, load_s,
      read_s, static_cast<double>(n) / read_s,
      static_cast<unsigned long long>(bad.load()));
  std::filesystem::remove_all(dir);
  return bad.load() == 0 ? 0 : 1;
}
