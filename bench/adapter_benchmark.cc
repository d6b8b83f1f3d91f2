// Micro-benchmarks of every built adapter's Get and Put on a small loaded
// database.
//
// For each adapter spec (default: every built adapter with default options; or
// the specs given by --adapters=SPEC,SPEC,...), a database is created in a
// temporary directory and loaded once with kKeys keys of 16 bytes and values of
// 100 bytes, then these run on it:
//   adapter/<spec>/get   random Get of a loaded key (the value is checked for
//                        length)
//   adapter/<spec>/put   random overwrite of a loaded key with a new 100-byte
//                        value
// at 1 and 2 threads. The null adapter's Get is NotFound by design and measures
// the call cost. Output: Google Benchmark's console table, or JSON with
// --benchmark_format=json.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "adapters/registry.h"

namespace kvb {
namespace {

constexpr int kKeys = 10000;
constexpr size_t kValueSize = 100;

std::string KeyAt(uint64_t i) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llu",
                static_cast<unsigned long long>(i));
  return std::string(buf, 16);
}

std::string ValueAt(uint64_t i, uint64_t version) {
  std::string v(kValueSize, static_cast<char>('a' + (i + version) % 26));
  std::memcpy(v.data(), &i, sizeof(i));
  return v;
}

// One loaded database per spec, shared by that spec's benchmarks and removed at
// exit.
class LoadedDb {
 public:
  static Result<Adapter*> Get(const std::string& spec) {
    static std::mutex mu;
    static std::map<std::string, std::unique_ptr<LoadedDb>> dbs;
    std::lock_guard lock(mu);
    auto it = dbs.find(spec);
    if (it == dbs.end()) {
      auto db = std::make_unique<LoadedDb>();
      KVB_RETURN_IF_ERROR(db->Load(spec));
      it = dbs.emplace(spec, std::move(db)).first;
    }
    return it->second->adapter_.get();
  }

  ~LoadedDb() {
    if (adapter_) adapter_->Close().IgnoreError();
    adapter_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

 private:
  Status Load(const std::string& spec) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "kvb-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      return Status::FromErrno(errno, "mkdtemp");
    dir_ = tmpl;
    KVB_ASSIGN_OR_RETURN(adapter_, OpenAdapter(spec, dir_ + "/db"));
    std::vector<std::string> keys, values;
    std::vector<KeyValue> batch;
    for (int i = 0; i < kKeys; i++) {
      keys.push_back(KeyAt(i));
      values.push_back(ValueAt(i, 0));
    }
    for (int i = 0; i < kKeys; i++) batch.push_back({keys[i], values[i]});
    KVB_RETURN_IF_ERROR(adapter_->WriteBatch(batch));
    return adapter_->Sync();
  }

  std::unique_ptr<Adapter> adapter_;
  std::string dir_;
};

void BM_Get(benchmark::State& state, const std::string& spec,
            bool stores_values) {
  Result<Adapter*> db = LoadedDb::Get(spec);
  if (!db.ok()) {
    state.SkipWithError(db.status().ToString().c_str());
    return;
  }
  std::mt19937_64 rng(state.thread_index() + 1);
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; i++) keys.push_back(KeyAt(rng() % kKeys));
  std::string value;
  size_t n = 0;
  for (auto _ : state) {
    Status s = (*db)->Get(keys[n++ & 1023], &value);
    if (stores_values && (!s.ok() || value.size() != kValueSize)) {
      state.SkipWithError(("get: " + s.ToString()).c_str());
      break;
    }
    benchmark::DoNotOptimize(value.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Put(benchmark::State& state, const std::string& spec) {
  Result<Adapter*> db = LoadedDb::Get(spec);
  if (!db.ok()) {
    state.SkipWithError(db.status().ToString().c_str());
    return;
  }
  std::mt19937_64 rng(state.thread_index() + 100);
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; i++) keys.push_back(KeyAt(rng() % kKeys));
  std::string value = ValueAt(state.thread_index(), 1);
  size_t n = 0;
  for (auto _ : state) {
    Status s = (*db)->Put(keys[n++ & 1023], value);
    if (!s.ok()) {
      state.SkipWithError(("put: " + s.ToString()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * (16 + kValueSize));
}

// Removes --adapters=... from argv (Google Benchmark rejects flags it does not
// know).
std::vector<std::string> TakeSpecs(int* argc, char** argv) {
  std::vector<std::string> specs;
  int out = 1;
  for (int i = 1; i < *argc; i++) {
    std::string_view arg = argv[i];
    if (arg.rfind("--adapters=", 0) == 0) {
      specs = SplitSpecList(arg.substr(sizeof("--adapters=") - 1));
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  if (specs.empty()) {
    for (const AdapterInfo& info : AllAdapters()) {
      if (info.built) specs.push_back(info.name);
    }
  }
  return specs;
}

int Main(int argc, char** argv) {
  std::vector<std::string> specs = TakeSpecs(&argc, argv);
  for (const std::string& spec : specs) {
    Result<AdapterSpec> parsed = ParseAdapterSpec(spec);
    const AdapterInfo* info = parsed.ok() ? FindAdapter(parsed->name) : nullptr;
    if (info == nullptr || !info->built) {
      std::fprintf(stderr, "adapter_benchmark: cannot use '%s'\n",
                   spec.c_str());
      return 2;
    }
    bool stores = info->name != "null";
    benchmark::RegisterBenchmark(("adapter/" + spec + "/get").c_str(), BM_Get,
                                 spec, stores)
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("adapter/" + spec + "/put").c_str(), BM_Put,
                                 spec)
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace
}  // namespace kvb

int main(int argc, char** argv) { return kvb::Main(argc, argv); }
