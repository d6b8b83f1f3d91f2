// Tests of the power-loss recorder: the model's persistence rules on
// hand-made logs, the shim on a scripted run (a full replay rebuilds the
// directory exactly), and the whole tool on toy stores whose durability is
// known — one correct, two broken — so the tool is shown to fail.
#include <fcntl.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "crash/powerloss/driver.h"
#include "crash/powerloss/engine_open.h"
#include "crash/powerloss/log_format.h"
#include "crash/powerloss/log_reader.h"
#include "crash/powerloss/model.h"

namespace kvb::powerloss {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  fs::path p = fs::temp_directory_path() /
               ("kvb-powerloss-test-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// path (relative) -> contents; directories end with '/'.
std::map<std::string, std::string> Tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    std::string rel = fs::relative(e.path(), root).string();
    if (e.is_directory()) {
      out[rel + "/"] = "";
    } else {
      std::ifstream in(e.path(), std::ios::binary);
      out[rel] = std::string(std::istreambuf_iterator<char>(in), {});
    }
  }
  return out;
}

Entry Rec(RecordType t, int fd = -1, std::string p1 = "", int64_t a = 0) {
  Entry e;
  e.type = t;
  e.fd = fd;
  e.path1 = std::move(p1);
  e.a = a;
  return e;
}

Entry Write(int fd, int64_t off, std::string data) {
  Entry e = Rec(RecordType::kWrite, fd, "", off);
  e.data = std::move(data);
  return e;
}

// Replays `log` (entries get their index as sequence number) and
// materialises the end state.
std::map<std::string, std::string> Cut(const std::vector<Entry>& log,
                                       ModelOptions opt = {}) {
  Model m(opt);
  for (size_t i = 0; i < log.size(); ++i) m.Apply(log[i], i);
  std::string base = TempDir("cut");
  REQUIRE(m.Materialize(base + "/state", 7).ok());
  auto tree = Tree(base + "/state");
  fs::remove_all(base);
  return tree;
}

TEST_CASE("model: unsynced data and unsynced names are lost",
          "[powerloss][model]") {
  std::vector<Entry> log = {Rec(RecordType::kBegin, -1, "/r"),
                            Rec(RecordType::kOpen, 3, "f", O_CREAT | O_WRONLY),
                            Write(3, 0, "data")};
  CHECK(Cut(log).empty());  // the name was never made durable
  log.push_back(Rec(RecordType::kOpen, 4, "", O_RDONLY | O_DIRECTORY));
  log.push_back(Rec(RecordType::kFsync, 4, "", 4));  // dir fsync, started at 4
  CHECK(Cut(log) == std::map<std::string, std::string>{{"f", ""}});
  log.push_back(Rec(RecordType::kFsync, 3, "", 6));  // file fsync
  CHECK(Cut(log) == std::map<std::string, std::string>{{"f", "data"}});
}

TEST_CASE("model: a file's fsync does not persist its name unless ext4",
          "[powerloss][model]") {
  std::vector<Entry> log = {Rec(RecordType::kBegin, -1, "/r"),
                            Rec(RecordType::kOpen, 3, "f", O_CREAT | O_WRONLY),
                            Write(3, 0, "data"),
                            Rec(RecordType::kFsync, 3, "", 3)};
  CHECK(Cut(log).empty());
  ModelOptions ext4;
  ext4.dir = DirModel::kExt4;
  CHECK(Cut(log, ext4) == std::map<std::string, std::string>{{"f", "data"}});
}

TEST_CASE("model: fsync covers only what was logged before it started",
          "[powerloss][model]") {
  std::vector<Entry> log = {Rec(RecordType::kBegin, -1, "/r"),
                            Rec(RecordType::kSync, -1, "", 1),
                            Rec(RecordType::kOpen, 3, "f", O_CREAT | O_WRONLY),
                            Rec(RecordType::kSync, -1, "", 3),  // name durable
                            Write(3, 0, "old"),
                            Write(3, 3, "new"),  // completed during the fsync
                            Rec(RecordType::kFsync, 3, "", 5)};
  CHECK(Cut(log) == std::map<std::string, std::string>{{"f", "old"}});
}

TEST_CASE("model: an O_DSYNC write is durable alone", "[powerloss][model]") {
  std::vector<Entry> log = {Rec(RecordType::kBegin, -1, "/r"),
                            Rec(RecordType::kOpen, 3, "f", O_CREAT | O_WRONLY),
                            Rec(RecordType::kSync, -1, "", 2),
                            Write(3, 0, "aaaa"),  // plain fd: not durable
                            Rec(RecordType::kOpen, 4, "f", O_WRONLY | O_DSYNC),
                            Write(4, 4, "bb")};
  CHECK(Cut(log) ==
        std::map<std::string, std::string>{{"f", std::string(4, '\0') + "bb"}});
}

TEST_CASE("model: rename without a directory fsync keeps the old entries",
          "[powerloss][model]") {
  std::vector<Entry> log = {Rec(RecordType::kBegin, -1, "/r"),
                            Rec(RecordType::kOpen, 3, "t", O_CREAT | O_WRONLY),
                            Write(3, 0, "v"), Rec(RecordType::kSync, -1, "", 3),
                            Rec(RecordType::kRename, -1, "t")};
  log.back().path2 = "k";
  CHECK(Cut(log) == std::map<std::string, std::string>{{"t", "v"}});
  log.push_back(Rec(RecordType::kOpen, 4, "", O_RDONLY | O_DIRECTORY));
  log.push_back(Rec(RecordType::kFsync, 4, "", 6));
  CHECK(Cut(log) == std::map<std::string, std::string>{{"k", "v"}});
}

TEST_CASE("model: the prefix data model keeps a prefix of unsynced writes",
          "[powerloss][model]") {
  std::vector<Entry> log = {Rec(RecordType::kBegin, -1, "/r"),
                            Rec(RecordType::kOpen, 3, "f", O_CREAT | O_WRONLY),
                            Rec(RecordType::kSync, -1, "", 2)};
  for (int i = 0; i < 8; ++i)
    log.push_back(Write(3, i, std::string(1, 'a' + i)));
  ModelOptions prefix;
  prefix.data = DataModel::kPrefix;
  std::string full = "abcdefgh";
  std::set<size_t> lengths;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Model m(prefix);
    for (size_t i = 0; i < log.size(); ++i) m.Apply(log[i], i);
    std::string base = TempDir("prefix");
    REQUIRE(m.Materialize(base + "/s", seed).ok());
    std::string got = Tree(base + "/s")["f"];
    fs::remove_all(base);
    CHECK(full.compare(0, got.size(), got) == 0);  // a prefix, never a gap
    lengths.insert(got.size());
  }
  CHECK(lengths.size() > 3);  // and not always the same one
}

TEST_CASE("shim: a full replay of a scripted run rebuilds the directory",
          "[powerloss][shim]") {
  std::string base = TempDir("selftest");
  std::string root = base + "/root";
  fs::create_directories(root);
  root = fs::canonical(root).string();
  REQUIRE(RunUnderShim(KVB_POWERLOSS_SHIM,
                       {KVB_POWERLOSS_EXE, "--shim-selftest", root}, root,
                       base + "/log", 60)
              .ok());
  Result<Log> log = ReadLog(base + "/log");
  REQUIRE(log.ok());
  CHECK(log->root == root);
  CHECK_FALSE(log->torn_tail);
  Model m(ModelOptions{});
  for (size_t i = 0; i < log->entries.size(); ++i) m.Apply(log->entries[i], i);
  CHECK(m.anomalies().empty());
  REQUIRE(m.Materialize(base + "/rebuilt", 1).ok());
  auto real = Tree(root);
  CHECK(real == Tree(base + "/rebuilt"));
  CHECK(real["a-link"] == "hello worldxyz!");
  CHECK(real["sub/b2"] == "tailAB67END");
  CHECK(real["sub/c"].size() == 100);
  CHECK(real["shared"].size() == real["t0"].size() + real["t1"].size() +
                                     real["t2"].size() + real["t3"].size());
  fs::remove_all(base);
}

TEST_CASE("specs are checked before anything runs", "[powerloss][tool]") {
  CHECK(CheckEngineSpec("nosuch").code() == StatusCode::kInvalidArgument);
  CHECK(CheckEngineSpec("toy:mode=bogus").code() ==
        StatusCode::kInvalidArgument);
  CHECK(CheckEngineSpec("memory").code() == StatusCode::kFailedPrecondition);
  CHECK(CheckEngineSpec("toy:mode=correct").ok());
  Result<std::string> spec = WithSyncDurability("linhash");
  REQUIRE(spec.ok());
  CHECK(*spec == "linhash:durability=sync");
  CHECK(*WithSyncDurability("linhash:durability=process") ==
        "linhash:durability=process");
}

DriverOptions ToyOptions(const std::string& name) {
  DriverOptions o;
  o.workload.ops = 60;
  o.workload.keys = 8;
  o.points = 40;
  o.work_dir = TempDir(name);
  o.shim_path = KVB_POWERLOSS_SHIM;
  o.child_exe = KVB_POWERLOSS_EXE;
  o.child_timeout_s = 60;
  return o;
}

TEST_CASE("tool: a store that acks without fsync is caught",
          "[powerloss][tool]") {
  DriverOptions o = ToyOptions("nosync");
  Result<EngineResult> r = RunEngine(o, "toy:mode=nosync");
  REQUIRE(r.ok());
  CHECK(r->acks == 60);
  CHECK(r->points >= 30);
  CHECK(r->violations["lost_durable"] > 0);
  fs::remove_all(o.work_dir);
}

TEST_CASE("tool: a store that renames without a directory fsync is caught",
          "[powerloss][tool]") {
  DriverOptions o = ToyOptions("rename");
  Result<EngineResult> r = RunEngine(o, "toy:mode=rename-nodirsync");
  REQUIRE(r.ok());
  CHECK(r->violations["lost_durable"] > 0);
  CHECK(r->record_counts["rename"] > 0);
  fs::remove_all(o.work_dir);
}

TEST_CASE("tool: a correct store shows no violation", "[powerloss][tool]") {
  for (DataModel data : {DataModel::kPessimistic, DataModel::kPrefix}) {
    DriverOptions o = ToyOptions("correct");
    o.model.data = data;
    Result<EngineResult> r = RunEngine(o, "toy:mode=correct");
    REQUIRE(r.ok());
    CHECK(r->acks == 60);
    CHECK(r->points >= 30);
    CHECK(r->violating_points == 0);
    for (const std::string& e : r->examples) INFO(e);
    CHECK(r->anomalies.empty());
    fs::remove_all(o.work_dir);
  }
}

}  // namespace
}  // namespace kvb::powerloss
