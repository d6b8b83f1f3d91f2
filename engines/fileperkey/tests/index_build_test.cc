// The ordered index: built in the background at Open with every operation
// correct meanwhile, a store closed during the build, EraseAll during the
// build, walk errors reported (not swallowed), a user index through
// Options::index_factory, and Options::index_less through the store.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "core/testing/test_util.h"
#include "engines/fileperkey/fileperkey.h"

namespace kvb::fileperkey {
namespace {

using Keys = std::vector<std::string>;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return !suffix.empty() && s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Forwards to another Env; ListDir of a directory ending in the gate's suffix
// waits until the gate opens, and of one ending in the fail suffix fails.
class GateEnv final : public Env {
 public:
  explicit GateEnv(Env* base) : base_(base) {}

  void CloseGate(std::string suffix) {
    std::lock_guard lock(mu_);
    gate_ = std::move(suffix);
    open_ = false;
    blocked_ = false;
  }
  void OpenGate() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // True once a ListDir is waiting at the closed gate.
  bool WaitUntilBlocked() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20),
                        [this] { return blocked_; });
  }
  void FailListDir(std::string suffix) {
    std::lock_guard lock(mu_);
    fail_ = std::move(suffix);
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    {
      std::unique_lock lock(mu_);
      if (EndsWith(dir, fail_))
        return Status::IOError("gate env: injected ListDir failure: " + dir);
      if (!open_ && EndsWith(dir, gate_)) {
        blocked_ = true;
        cv_.notify_all();
        cv_.wait(lock, [this] { return open_; });
      }
    }
    return base_->ListDir(dir);
  }
  Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                         OpenMode mode) override {
    return base_->OpenFile(path, mode);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  Status RemoveFile(const std::string& path) override {
    return base_->RemoveFile(path);
  }
  Status CreateDir(const std::string& path) override {
    return base_->CreateDir(path);
  }
  Status RemoveDir(const std::string& path) override {
    return base_->RemoveDir(path);
  }
  Result<FileStat> Stat(const std::string& path) override {
    return base_->Stat(path);
  }
  Status SyncDir(const std::string& dir) override {
    return base_->SyncDir(dir);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 private:
  Env* const base_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string gate_;
  std::string fail_;
  bool open_ = true;
  bool blocked_ = false;
};

std::unique_ptr<Store> MustOpen(const std::string& dir, const Options& o) {
  Result<std::unique_ptr<Store>> s = Store::Open(dir, o);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(*s);
}

Options IndexedOptions(Env* env) {
  Options o;
  o.env = env;
  o.index = true;
  o.transform = Transform::Blocks(1, 1);  // key "b7" lives in BASE/b/b7
  return o;
}

// Keys a0..a9, b0..b9, ..., z0..z9.
void WriteAlphabet(Store* store) {
  for (char c = 'a'; c <= 'z'; c++) {
    for (char d = '0'; d <= '9'; d++) {
      const std::string key{c, d};
      REQUIRE_OK(store->Write(key, key));
    }
  }
}

Keys AllIndexed(Store* store) {
  auto keys = store->IndexKeysAfter("", 100000);
  INFO(keys.status().ToString());
  REQUIRE(keys.ok());
  return *keys;
}

TEST_CASE("Open returns before the index walk ends; operations stay correct",
          "[store][index][background]") {
  auto mem = NewMemEnv();
  GateEnv env(mem.get());
  Options o = IndexedOptions(&env);
  WriteAlphabet(MustOpen("/s", o).get());
  // The walk stops at BASE/m until the gate opens.
  env.CloseGate("/s/m");
  auto store = MustOpen("/s", o);
  REQUIRE(env.WaitUntilBlocked());
  CHECK(store->stats().index_building);
  // Reads and Has use the files.
  std::string v;
  REQUIRE_OK(store->Read("q3", &v));
  CHECK(v == "q3");
  bool found = false;
  REQUIRE_OK(store->Has("m5", &found));
  CHECK(found);
  // Mutations on both sides of the walk's position.
  REQUIRE_OK(store->Erase("b1"));         // already walked
  REQUIRE_OK(store->Erase("x1"));         // not walked yet
  REQUIRE_OK(store->Write("x1", "new"));  // erased, then written again
  REQUIRE_OK(store->Erase("y2"));
  REQUIRE_OK(store->Write("za", "za"));  // a new key not walked yet
  REQUIRE_OK(store->Write("c1", "c1 again"));
  // ForEachKey works during the build too (it walks by itself).
  size_t walked = 0;
  env.OpenGate();  // (ForEachKey would wait at the gate as well)
  REQUIRE_OK(store->ForEachKey("x", [&](const std::string&) {
    walked++;
    return true;
  }));
  CHECK(walked == 10);
  REQUIRE_OK(store->WaitForIndex());
  CHECK_FALSE(store->stats().index_building);
  std::set<std::string> want;
  for (char c = 'a'; c <= 'z'; c++)
    for (char d = '0'; d <= '9'; d++) want.insert(std::string{c, d});
  want.erase("b1");
  want.erase("y2");
  want.insert("za");
  const Keys got = AllIndexed(store.get());
  CHECK(got == Keys(want.begin(), want.end()));
  CHECK(store->stats().index_keys == want.size());
}

TEST_CASE("an index query during the build waits for the whole index",
          "[store][index][background]") {
  auto mem = NewMemEnv();
  GateEnv env(mem.get());
  Options o = IndexedOptions(&env);
  WriteAlphabet(MustOpen("/s", o).get());
  env.CloseGate("/s/t");
  auto store = MustOpen("/s", o);
  REQUIRE(env.WaitUntilBlocked());
  std::atomic<bool> answered{false};
  Result<Keys> page = Keys{};
  std::thread query([&] {
    page = store->IndexKeysFrom("t", 3);
    answered = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(answered.load());  // "t..." keys are not in the index yet
  env.OpenGate();
  query.join();
  REQUIRE(page.ok());
  CHECK(*page == Keys{"t0", "t1", "t2"});
}

TEST_CASE("closing a store during the index build is safe",
          "[store][index][background]") {
  auto mem = NewMemEnv();
  GateEnv env(mem.get());
  Options o = IndexedOptions(&env);
  WriteAlphabet(MustOpen("/s", o).get());
  // Blocked walk: the destructor waits for it and it stops at the next key.
  env.CloseGate("/s/k");
  auto store = MustOpen("/s", o);
  REQUIRE(env.WaitUntilBlocked());
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    env.OpenGate();
  });
  store.reset();
  opener.join();
  // Open-and-close at once, many times, with traffic (TSan checks the races).
  for (int i = 0; i < 20; i++) {
    auto s = MustOpen("/s", o);
    REQUIRE_OK(s->Write("n" + std::to_string(i % 10), "v"));
    if (i < 10) REQUIRE_OK(s->Erase("a" + std::to_string(i)));
    if (i % 3 == 0) REQUIRE_OK(s->WaitForIndex());
  }
  auto s = MustOpen("/s", o);
  const Keys keys = AllIndexed(s.get());
  CHECK(keys.size() == 260 - 10);  // a0..a9 erased; n0..n9 overwritten
  CHECK(std::find(keys.begin(), keys.end(), "a3") == keys.end());
}

TEST_CASE("EraseAll during the build leaves only later keys",
          "[store][index][background]") {
  auto mem = NewMemEnv();
  GateEnv env(mem.get());
  Options o = IndexedOptions(&env);
  WriteAlphabet(MustOpen("/s", o).get());
  env.CloseGate("/s/f");
  auto store = MustOpen("/s", o);
  REQUIRE(env.WaitUntilBlocked());
  // EraseAll walks the tree itself (for symbolic links): let it through.
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    env.OpenGate();
  });
  REQUIRE_OK(store->EraseAll());
  opener.join();
  REQUIRE_OK(store->Write("zz", "after"));
  CHECK(AllIndexed(store.get()) == Keys{"zz"});
}

TEST_CASE("a walk error is reported, by the index and by ForEachKey",
          "[store][index][walk-error]") {
  // As root, permission bits do not stop a directory listing, so the failure
  // is injected: ListDir of BASE/g fails with EIO.
  auto mem = NewMemEnv();
  GateEnv env(mem.get());
  Options o = IndexedOptions(&env);
  WriteAlphabet(MustOpen("/s", o).get());
  env.FailListDir("/s/g");
  SECTION("background build: Open succeeds, the index reports the error") {
    auto store = MustOpen("/s", o);
    const Status w = store->WaitForIndex();
    CHECK(w.IsIOError());
    CHECK(w.ToString().find("/s/g") != std::string::npos);
    CHECK(store->IndexKeysAfter("", 10).status().IsIOError());
    CHECK(store->IndexKeysFrom("a", 10).status().IsIOError());
    // Everything else still works.
    std::string v;
    REQUIRE_OK(store->Read("a1", &v));
    size_t seen = 0;
    const Status f = store->ForEachKey("", [&](const std::string&) {
      seen++;
      return true;
    });
    CHECK(f.IsIOError());  // diskv ended its walk silently (#13)
    CHECK(seen > 0);
    CHECK(seen < 260);
  }
  SECTION("synchronous build: Open fails with the error") {
    o.index_in_background = false;
    Result<std::unique_ptr<Store>> s = Store::Open("/s", o);
    CHECK(s.status().IsIOError());
  }
}

// A user index: a sorted vector, counting its calls.
class VectorIndex final : public OrderedIndex {
 public:
  explicit VectorIndex(KeyLess less, std::atomic<int>* inserts)
      : less_(std::move(less)), inserts_(inserts) {}

  void Insert(std::string_view key) override {
    std::lock_guard lock(mu_);
    (*inserts_)++;
    auto it = Find(key);
    if (it == keys_.end() || *it != key) keys_.insert(it, std::string(key));
  }
  void Erase(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = Find(key);
    if (it != keys_.end() && *it == key) keys_.erase(it);
  }
  void Clear() override {
    std::lock_guard lock(mu_);
    keys_.clear();
  }
  size_t size() const override {
    std::lock_guard lock(mu_);
    return keys_.size();
  }
  std::vector<std::string> KeysAfter(std::string_view after,
                                     size_t n) const override {
    std::lock_guard lock(mu_);
    auto it = after.empty()
                  ? keys_.begin()
                  : std::upper_bound(keys_.begin(), keys_.end(), after, Less());
    return Take(it, n);
  }
  std::vector<std::string> KeysFrom(std::string_view start,
                                    size_t n) const override {
    std::lock_guard lock(mu_);
    return Take(Find(start), n);
  }

 private:
  using Iter = std::vector<std::string>::const_iterator;
  std::function<bool(std::string_view, std::string_view)> Less() const {
    return [this](std::string_view a, std::string_view b) {
      return less_ ? less_(a, b) : a < b;
    };
  }
  Iter Find(std::string_view key) const {
    return std::lower_bound(keys_.begin(), keys_.end(), key, Less());
  }
  std::vector<std::string> Take(Iter it, size_t n) const {
    std::vector<std::string> out;
    for (; it != keys_.end() && out.size() < n; ++it) out.push_back(*it);
    return out;
  }

  mutable std::mutex mu_;
  KeyLess less_;
  std::atomic<int>* inserts_;
  std::vector<std::string> keys_;
};

TEST_CASE("a user index and index_less work through the store",
          "[store][index][custom]") {
  auto env = NewMemEnv();
  std::atomic<int> inserts{0};
  std::atomic<int> made{0};
  Options o = IndexedOptions(env.get());
  // Reverse byte order.
  o.index_less = [](std::string_view a, std::string_view b) { return b < a; };
  o.index_factory = [&](KeyLess less) -> std::unique_ptr<OrderedIndex> {
    made++;
    REQUIRE(less != nullptr);  // the store hands its ordering on
    return std::make_unique<VectorIndex>(std::move(less), &inserts);
  };
  {
    auto store = MustOpen("/s", o);
    for (const char* k : {"b", "d", "a", "c"}) REQUIRE_OK(store->Write(k, k));
    CHECK(AllIndexed(store.get()) == Keys{"d", "c", "b", "a"});
    CHECK(*store->IndexKeysAfter("c", 2) == Keys{"b", "a"});
    CHECK(*store->IndexKeysFrom("c", 10) == Keys{"c", "b", "a"});
    REQUIRE_OK(store->Erase("c"));
    CHECK(*store->IndexKeysAfter("d", 10) == Keys{"b", "a"});
  }
  // Reopen: the walk fills the user's index, in the user's order.
  inserts = 0;
  auto store = MustOpen("/s", o);
  REQUIRE_OK(store->WaitForIndex());
  CHECK(inserts.load() == 3);
  CHECK(made.load() == 2);
  CHECK(AllIndexed(store.get()) == Keys{"d", "b", "a"});
  // The default index honours index_less as well.
  store.reset();
  o.index_factory = nullptr;
  store = MustOpen("/s", o);
  CHECK(AllIndexed(store.get()) == Keys{"d", "b", "a"});
  // A factory that returns null is refused at Open.
  store.reset();
  o.index_factory = [](KeyLess) { return std::unique_ptr<OrderedIndex>(); };
  CHECK(Store::Open("/s", o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace kvb::fileperkey
