// linhash_getbench — point-read rates of one linhash database: single Get,
// MultiGet and Has, measured side by side in interleaved rounds (issue 17,
// items 3 and 4). Not a test.
//
//   linhash_getbench [--keys N] [--value-size B] [--rounds R] [--batch K]
//                    [--modes get,multiget,has] [--dir D]
//
// Loads N keys (16 bytes, distinct, random-looking) with B-byte values in
// batches of 1000, closes and reopens (so the log is mapped and the index is
// loaded as after a restart), then runs R rounds; each round times every mode
// once over the same shuffled order of all N keys, one thread. MultiGet takes
// K keys per call. Prints each round and the median per mode in keys/s.
// Build against a linhash without MultiGet (the "before" of a comparison)
// with -DKVB_GETBENCH_NO_MULTIGET.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/env.h"
#include "engines/linhash/linhash.h"

namespace {

using kvb::Status;
using kvb::linhash::DB;
using kvb::linhash::Options;

struct Flags {
  uint64_t keys = 1'000'000;
  size_t value_size = 128;
  int rounds = 3;
  size_t batch = 64;
  std::string modes = "get,multiget,has";
  std::string dir;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--keys") {
      f->keys = std::strtoull(v, nullptr, 10);
    } else if (a == "--value-size") {
      f->value_size = std::strtoull(v, nullptr, 10);
    } else if (a == "--rounds") {
      f->rounds = std::atoi(v);
    } else if (a == "--batch") {
      f->batch = std::strtoull(v, nullptr, 10);
    } else if (a == "--modes") {
      f->modes = v;
    } else if (a == "--dir") {
      f->dir = v;
    } else {
      std::fprintf(stderr, "linhash_getbench: unknown flag %s\n", a.c_str());
      return false;
    }
  }
  if ((argc - 1) % 2 != 0 || f->keys == 0 || f->rounds < 1 || f->batch < 1) {
    std::fprintf(stderr, "linhash_getbench: bad arguments (see the header)\n");
    return false;
  }
  return true;
}

// 16 hex digits of a bijective mix of i: distinct keys, no order.
std::string KeyOf(uint64_t i) {
  uint64_t x = i + 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(x));
  return std::string(buf, 16);
}

bool Check(const Status& s, const char* what) {
  if (s.ok()) return true;
  std::fprintf(stderr, "linhash_getbench: %s: %s\n", what,
               s.ToString().c_str());
  return false;
}

bool Load(const Flags& f, const Options& o) {
  auto db = DB::Open(f.dir, o);
  if (!Check(db.status(), "open")) return false;
  const std::string value(f.value_size, 'v');
  kvb::linhash::WriteBatch b;
  for (uint64_t i = 0; i < f.keys; ++i) {
    b.Put(KeyOf(i), value);
    if (b.Count() == 1000 || i + 1 == f.keys) {
      if (!Check((*db)->Write(b), "write")) return false;
      b.Clear();
    }
  }
  return Check((*db)->Close(), "close");
}

// One timed pass of `mode` over `keys` (views in shuffled order); keys/s.
double Pass(DB* db, const std::string& mode,
            const std::vector<std::string_view>& keys, size_t batch) {
  std::string value;
  bool found = false;
  uint64_t hits = 0;
  std::vector<std::string> values(batch);
  std::vector<Status> st(batch);
  const auto t0 = std::chrono::steady_clock::now();
  if (mode == "get") {
    for (auto k : keys) hits += db->Get(k, &value).ok();
  } else if (mode == "has") {
    for (auto k : keys) hits += db->Has(k, &found).ok() && found;
#ifndef KVB_GETBENCH_NO_MULTIGET
  } else if (mode == "multiget") {
    for (size_t i = 0; i < keys.size(); i += batch) {
      const size_t n = std::min(batch, keys.size() - i);
      db->MultiGet({keys.data() + i, n}, values.data(), st.data())
          .IgnoreError();
      for (size_t j = 0; j < n; ++j) hits += st[j].ok();
    }
#endif
  } else {
    return -1;
  }
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  if (hits != keys.size()) {
    std::fprintf(stderr, "linhash_getbench: %s found %llu of %zu keys\n",
                 mode.c_str(), static_cast<unsigned long long>(hits),
                 keys.size());
    return -1;
  }
  return static_cast<double>(keys.size()) / s;
}

std::vector<std::string> SplitModes(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) return 2;
  const bool own_dir = f.dir.empty();
  if (own_dir) f.dir = "/tmp/linhash_getbench." + std::to_string(getpid());
  Options o;
  o.checkpoint_interval_ms = 0;
  if (!Load(f, o)) return 1;
  auto db = DB::Open(f.dir, o);
  if (!Check(db.status(), "reopen")) return 1;
  std::vector<std::string> keys(f.keys);
  for (uint64_t i = 0; i < f.keys; ++i) keys[i] = KeyOf(i);
  std::shuffle(keys.begin(), keys.end(), std::mt19937_64(42));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  const auto modes = SplitModes(f.modes);
  std::map<std::string, std::vector<double>> rates;
  for (int r = 0; r < f.rounds; ++r) {
    for (const auto& m : modes) {
      const double rate = Pass(db->get(), m, views, f.batch);
      if (rate < 0) return 1;
      rates[m].push_back(rate);
      std::printf("round %d %-8s %12.0f keys/s\n", r + 1, m.c_str(), rate);
    }
  }
  for (const auto& m : modes) {
    auto v = rates[m];
    std::sort(v.begin(), v.end());
    std::printf(
        "median   %-8s %12.0f keys/s (%d rounds, %llu keys, %zu-byte "
        "values)\n",
        m.c_str(), v[v.size() / 2], f.rounds,
        static_cast<unsigned long long>(f.keys), f.value_size);
  }
  Check((*db)->Close(), "close");
  db->reset();
  if (own_dir) {
    kvb::Env* env = kvb::Env::Default();
    auto names = env->ListDir(f.dir);
    if (names.ok()) {
      for (const auto& n : *names)
        env->RemoveFile(f.dir + "/" + n).IgnoreError();
    }
    env->RemoveDir(f.dir).IgnoreError();
  }
  return 0;
}
