// Concurrency: atomic Update counters, group commit, Shrink and flushes racing
// with writers. Labelled `sanitize`, so TSan runs it too; sizes are small for
// that reason.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap {
namespace {

constexpr int kThreads = 8;

// prefix + decimal n, written out because g++ 12 warns falsely (-Wrestrict, GCC
// bug 105651) on "literal" + std::to_string(n).
std::string Cat(std::string_view prefix, uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

Options MemOptions(Env* env) {
  Options o;
  o.env = env;
  o.sync_interval =
      std::chrono::milliseconds(1);  // the flusher races with everything
  return o;
}

// Catch2 v2 assertions are not thread-safe: worker threads record problems here
// and the test checks them after joining.
class Failures {
 public:
  void Expect(bool ok, const std::string& what) {
    if (ok) return;
    std::lock_guard lock(mu_);
    if (first_.empty()) first_ = what;
    count_++;
  }
  void ExpectOk(const Status& s) { Expect(s.ok(), s.ToString()); }
  int count() const { return count_; }
  const std::string& first() const { return first_; }

 private:
  std::mutex mu_;
  int count_ = 0;
  std::string first_;
};

#define CHECK_NO_FAILURES(f) \
  do {                       \
    INFO((f).first());       \
    CHECK((f).count() == 0); \
  } while (0)

template <typename F>
void RunThreads(int n, F fn) {
  std::vector<std::thread> threads;
  for (int t = 0; t < n; t++) threads.emplace_back(fn, t);
  for (auto& th : threads) th.join();
}

TEST_CASE(
    "Update counters from 8 threads sum exactly, in memory and after reopen") {
  const Durability levels[] = {Durability::kAsync, Durability::kImmediate,
                               Durability::kFSync};
  for (Durability level : levels) {
    auto env = NewMemEnv();
    constexpr int kCounters = 5;
    const int per_thread = level == Durability::kFSync ? 200 : 1000;
    {
      Store store(MemOptions(env.get()));
      auto counters = store.Map<int64_t>("c");
      REQUIRE_OK(store.Open("/db"));
      Failures failures;
      RunThreads(kThreads, [&](int t) {
        for (int i = 0; i < per_thread; i++) {
          std::string key = Cat("n", (i + t) % kCounters);
          auto r = (*counters)->Update(
              key, [](Updater<int64_t>& u) { u.value++; }, level);
          failures.ExpectOk(r.status());
        }
      });
      CHECK_NO_FAILURES(failures);
      int64_t sum = 0;
      REQUIRE_OK((*counters)->Range([&](std::string_view, int64_t v) {
        sum += v;
        return true;
      }));
      CHECK(sum == int64_t{kThreads} * per_thread);
      REQUIRE_OK(store.Close());
    }
    Store store(MemOptions(env.get()));
    auto counters = store.Map<int64_t>("c");
    REQUIRE_OK(store.Open("/db"));
    int64_t sum = 0;
    REQUIRE_OK((*counters)->Range([&](std::string_view, int64_t v) {
      sum += v;
      return true;
    }));
    CHECK(sum == int64_t{kThreads} * per_thread);
  }
}

TEST_CASE(
    "concurrent kFSync writers share fdatasyncs and all survive power loss") {
  auto mem = NewMemEnv();
  FaultInjectionEnv fault(mem.get());
  constexpr int kPerThread = 100;
  {
    Options o = MemOptions(&fault);
    o.background_flush = false;
    Store store(o);
    auto m = store.Map<std::string>("m");
    REQUIRE_OK(store.Open("/db"));
    Failures failures;
    RunThreads(kThreads, [&](int t) {
      for (int i = 0; i < kPerThread; i++) {
        std::string key = std::to_string(t) + "/" + std::to_string(i);
        failures.ExpectOk((*m)->Set(key, "v" + key, Durability::kFSync));
      }
    });
    CHECK_NO_FAILURES(failures);
    Stats st = store.GetStats();
    CHECK(st.sync_requests == kThreads * kPerThread);
    CHECK(st.syncs <= st.sync_requests);
    REQUIRE_OK(fault.SimulatePowerLoss());
  }
  Options o = MemOptions(&fault);
  Store store(o);
  auto m = store.Map<std::string>("m");
  REQUIRE_OK(store.Open("/db"));
  CHECK((*m)->Size() == kThreads * kPerThread);
}

// Writers keep going while Shrink runs repeatedly; afterwards every key holds
// the last value its (single) writer wrote, in memory and after reopen.
TEST_CASE("Shrink while writers, async flushes and readers keep going") {
  auto env = NewMemEnv();
  constexpr int kKeysPerThread = 20;
  constexpr int kRounds = 60;
  {
    Store store(MemOptions(env.get()));
    auto m = store.Map<int>("m");
    REQUIRE_OK(store.Open("/db"));
    std::atomic<bool> done{false};
    Failures failures;
    std::thread shrinker([&] {
      while (!done.load()) {
        Status s = store.Shrink();
        failures.Expect(s.ok() || s.IsBusy(), s.ToString());
      }
    });
    std::thread reader([&] {
      int v;
      while (!done.load()) {
        (*m)->Get("0/0", &v).IgnoreError();
        (*m)->Range([](std::string_view, int) { return true; }).IgnoreError();
        store.GetStats();
      }
    });
    RunThreads(4, [&](int t) {
      const Durability levels[] = {Durability::kAsync, Durability::kImmediate,
                                   Durability::kFSync};
      for (int r = 0; r < kRounds; r++) {
        for (int k = 0; k < kKeysPerThread; k++) {
          std::string key = std::to_string(t) + "/" + std::to_string(k);
          Durability d = levels[(r + k) % 3];
          if ((r + k) % 7 == 0) {
            failures.ExpectOk((*m)->Delete(key, d));
          } else {
            failures.ExpectOk((*m)->Set(key, r * 1000 + k, d));
          }
        }
      }
    });
    done = true;
    shrinker.join();
    reader.join();
    CHECK_NO_FAILURES(failures);
    REQUIRE_OK(store.Close());
  }
  Store store(MemOptions(env.get()));
  auto m = store.Map<int>("m");
  REQUIRE_OK(store.Open("/db"));
  for (int t = 0; t < 4; t++) {
    for (int k = 0; k < kKeysPerThread; k++) {
      std::string key = std::to_string(t) + "/" + std::to_string(k);
      int r = kRounds - 1;
      int v = -1;
      Status s = (*m)->Get(key, &v);
      if ((r + k) % 7 == 0) {
        CHECK(s.IsNotFound());
      } else {
        REQUIRE_OK(s);
        CHECK(v == r * 1000 + k);
      }
    }
  }
}

TEST_CASE("many threads on one key: log order equals memory order") {
  auto env = NewMemEnv();
  std::string last;
  {
    Store store(MemOptions(env.get()));
    auto m = store.Map<std::string>("m");
    REQUIRE_OK(store.Open("/db"));
    Failures failures;
    RunThreads(kThreads, [&](int t) {
      for (int i = 0; i < 300; i++) {
        Durability d = i % 2 ? Durability::kAsync : Durability::kImmediate;
        failures.ExpectOk(
            (*m)->Set("hot", std::to_string(t) + ":" + std::to_string(i), d));
      }
    });
    CHECK_NO_FAILURES(failures);
    REQUIRE_OK((*m)->Get("hot", &last));
    REQUIRE_OK(store.Close());
  }
  Store store(MemOptions(env.get()));
  auto m = store.Map<std::string>("m");
  REQUIRE_OK(store.Open("/db"));
  std::string v;
  REQUIRE_OK((*m)->Get("hot", &v));
  CHECK(v == last);
}

}  // namespace
}  // namespace kvb::typedmap
