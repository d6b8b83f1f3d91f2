// See drivers.h.
#include "tests/reliability/drivers.h"

#include "engines/fileperkey/fileperkey.h"
#include "engines/linhash/linhash.h"
#include "engines/typedmap/typedmap.h"

namespace kvb::reliability {
namespace {

class LinhashDriver : public Driver {
 public:
  explicit LinhashDriver(int64_t sync_interval)
      : sync_interval_(sync_interval) {}
  Status Open(Env* env, const std::string& dir) override {
    linhash::Options o;
    o.env = env;
    o.background_sync_interval_ms = sync_interval_;
    o.checkpoint_interval_ms = 0;
    o.read_backend = linhash::ReadBackend::kPread;
    o.max_segment_size = 4096;  // rotate a few times
    o.write_buffer_size = 1024;
    auto db = linhash::DB::Open(dir, o);
    if (!db.ok()) return db.status();
    db_ = std::move(*db);
    return Status::OK();
  }
  Status Put(const std::string& k, const std::string& v) override {
    return db_->Put(k, v);
  }
  Status Delete(const std::string& k) override { return db_->Delete(k); }
  Status Sync() override { return db_->Sync(); }
  Status Close() override {
    if (!db_) return Status::OK();
    Status s = db_->Close();
    db_.reset();
    return s;
  }
  Status Get(const std::string& k, std::string* v) override {
    return db_->Get(k, v);
  }
  Status Keys(std::set<std::string>* keys) override {
    auto it = db_->NewIterator();
    while (it->Next()) keys->insert(std::string(it->key()));
    return it->status();
  }
  bool WriteAcknowledges() const override { return sync_interval_ == -1; }
  bool WriteDurable() const override { return sync_interval_ == -1; }
  bool CreatesDir() const override { return true; }

 private:
  const int64_t sync_interval_;
  std::unique_ptr<linhash::DB> db_;
};

class TypedmapDriver : public Driver {
 public:
  explicit TypedmapDriver(typedmap::Durability d) : durability_(d) {}
  Status Open(Env* env, const std::string& dir) override {
    typedmap::Options o;
    o.env = env;
    o.background_flush = false;  // deterministic: no background fdatasync
    store_ = std::make_unique<typedmap::Store>(o);
    auto m = store_->Map<std::string>("m");
    if (!m.ok()) return m.status();
    map_ = *m;
    Status s = store_->Open(JoinPath(dir, "log"));
    if (!s.ok()) store_.reset();
    return s;
  }
  Status Put(const std::string& k, const std::string& v) override {
    return map_->Set(k, v, durability_);
  }
  Status Delete(const std::string& k) override {
    return map_->Delete(k, durability_);
  }
  Status Sync() override { return store_->FSyncAll(); }
  Status Close() override {
    if (!store_) return Status::OK();
    Status s = store_->Close();
    store_.reset();
    return s;
  }
  Status Get(const std::string& k, std::string* v) override {
    return map_->Get(k, v);
  }
  Status Keys(std::set<std::string>* keys) override {
    return map_->Range([&](std::string_view k, const std::string&) {
      keys->insert(std::string(k));
      return true;
    });
  }
  bool WriteAcknowledges() const override {
    return durability_ != typedmap::Durability::kAsync;
  }
  bool WriteDurable() const override {
    return durability_ == typedmap::Durability::kFSync;
  }
  bool CreatesDir() const override { return false; }

 private:
  const typedmap::Durability durability_;
  std::unique_ptr<typedmap::Store> store_;
  typedmap::TypedMap<std::string>* map_ = nullptr;
};

class FileperkeyDriver : public Driver {
 public:
  explicit FileperkeyDriver(bool sync) : sync_(sync) {}
  Status Open(Env* env, const std::string& dir) override {
    fileperkey::Options o;
    o.env = env;
    o.sync = sync_;
    o.transform = fileperkey::Transform::Blocks(1, 1);
    auto st = fileperkey::Store::Open(dir, o);
    if (!st.ok()) return st.status();
    store_ = std::move(*st);
    return Status::OK();
  }
  Status Put(const std::string& k, const std::string& v) override {
    return store_->Write(k, v);
  }
  Status Delete(const std::string& k) override {
    Status s = store_->Erase(k);
    return s.IsNotFound() ? Status::OK() : s;
  }
  Status Sync() override { return store_->Sync(); }
  Status Close() override {
    if (!store_) return Status::OK();
    // The store has no Close: Sync is what makes a clean shutdown durable.
    Status s = store_->Sync();
    store_.reset();
    return s;
  }
  Status Get(const std::string& k, std::string* v) override {
    return store_->Read(k, v);
  }
  Status Keys(std::set<std::string>* keys) override {
    return store_->ForEachKey("", [&](const std::string& k) {
      keys->insert(k);
      return true;
    });
  }
  // A Write returns after its rename: a clean reopen sees it, synced or not.
  bool WriteAcknowledges() const override { return true; }
  bool WriteDurable() const override { return sync_; }
  bool CreatesDir() const override { return true; }

 private:
  const bool sync_;
  std::unique_ptr<fileperkey::Store> store_;
};

}  // namespace

std::vector<Config> AllConfigs() {
  using typedmap::Durability;
  std::vector<Config> all;
  for (int64_t interval : {int64_t{0}, int64_t{-1}}) {
    all.push_back(
        {"linhash sync=" + std::string(interval == 0 ? "0" : "every-write"),
         [interval] { return std::make_unique<LinhashDriver>(interval); }});
  }
  for (auto [d, name] :
       {std::pair{Durability::kAsync, "typedmap async"},
        std::pair{Durability::kImmediate, "typedmap immediate"},
        std::pair{Durability::kFSync, "typedmap fsync"}}) {
    Durability level = d;
    all.push_back(
        {name, [level] { return std::make_unique<TypedmapDriver>(level); }});
  }
  for (bool sync : {false, true}) {
    all.push_back(
        {std::string("fileperkey sync=") + (sync ? "on" : "off"),
         [sync] { return std::make_unique<FileperkeyDriver>(sync); }});
  }
  return all;
}

std::vector<Step> Workload() {
  std::vector<Step> w;
  auto put = [&](int k, int version) {
    std::string key = "key";
    key += std::to_string(k);
    std::string value = "v";
    value += std::to_string(version);
    value.append(static_cast<size_t>(40 + (k * 37 + version * 11) % 200),
                 'a' + k);
    w.push_back({Step::kPut, key, value});
  };
  auto del = [&](int k) {
    std::string key = "key";
    key += std::to_string(k);
    w.push_back({Step::kDelete, key, ""});
  };
  w.push_back({Step::kOpen, "", ""});
  for (int k = 0; k < 8; ++k) put(k, 1);
  w.push_back({Step::kSync, "", ""});
  for (int k = 0; k < 4; ++k) put(k, 2);
  del(5);
  del(6);
  w.push_back({Step::kSync, "", ""});
  put(8, 1);
  w.push_back({Step::kClose, "", ""});
  w.push_back({Step::kOpen, "", ""});
  put(5, 3);
  del(0);
  put(9, 1);
  w.push_back({Step::kSync, "", ""});
  put(1, 4);
  del(2);
  w.push_back({Step::kClose, "", ""});
  return w;
}

AllowedValues Allowed(const std::vector<Step>& w, int acked, int last_attempted,
                      const std::vector<bool>& failed) {
  AllowedValues allowed;
  for (const Step& s : w) {
    if (!s.key.empty()) allowed[s.key] = {std::nullopt};
  }
  for (int i = 0; i <= last_attempted; ++i) {
    const Step& s = w[i];
    if (s.kind != Step::kPut && s.kind != Step::kDelete) continue;
    const Value v = s.kind == Step::kPut ? Value(s.value) : std::nullopt;
    const bool failed_step = i < static_cast<int>(failed.size()) && failed[i];
    // Up to the acknowledged point a write took effect, unless it failed (then
    // it may have); after it, any write may or may not have.
    if (i <= acked && !failed_step)
      allowed[s.key] = {v};
    else
      allowed[s.key].insert(v);
  }
  return allowed;
}

std::string Verify(Driver* d, const AllowedValues& allowed) {
  std::set<std::string> keys;
  Status s = d->Keys(&keys);
  if (!s.ok()) return "listing keys after reopen: " + s.ToString();
  for (const std::string& k : keys) {
    if (allowed.count(k) == 0) return "invented key '" + k + "'";
  }
  for (const auto& [k, values] : allowed) {
    std::string v;
    s = d->Get(k, &v);
    if (!s.ok() && !s.IsNotFound())
      return "Get(" + k + ") after reopen: " + s.ToString();
    Value got = s.ok() ? Value(v) : std::nullopt;
    if (values.count(got) == 0) {
      return "key '" + k + "' has " +
             (got ? "a value it never had acknowledged" : "no value") +
             " after reopen";
    }
    if (got.has_value() != (keys.count(k) == 1))
      return "Get and the key walk disagree on '" + k + "'";
  }
  return "";
}

Status RunStep(Driver* d, Env* env, const std::string& dir, const Step& s) {
  switch (s.kind) {
    case Step::kOpen:
      return d->Open(env, dir);
    case Step::kPut:
      return d->Put(s.key, s.value);
    case Step::kDelete:
      return d->Delete(s.key);
    case Step::kSync:
      return d->Sync();
    case Step::kClose:
      return d->Close();
  }
  return Status::OK();
}

}  // namespace kvb::reliability
