// Tests of the instruction counters (harness/icount.h) and the per-repetition
// peak RSS, plus one small end-to-end callgrind run when valgrind is installed.
#include "harness/icount.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/testing/test_util.h"
#include "harness/probes.h"
#include "harness/results.h"
#include "harness/runner.h"

namespace kvb {
namespace {

// A dump as callgrind 3.19 writes it (trimmed), with two events so the Ir
// column has to be found.
constexpr char kDump[] = R"(# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  /work/main/build/icount/harness/kvbench run
part: 1

desc: I1 cache:
desc: Timerange: Basic block 0 - 123456
desc: Trigger: Client Request: ycsb-c/null/keys:1000/threads:1/rep:0

positions: line
events: Dr Ir
summary: 777 2000013

fn=(1) main
0 5 9
totals: 777 2000013
)";

TEST_CASE("callgrind dump totals are parsed", "[icount]") {
  Result<uint64_t> n = icount::ParseCallgrindTotals(kDump);
  REQUIRE_OK(n.status());
  CHECK(*n == 2000013);
  // Without totals: the summary line; Ir first by default.
  Result<uint64_t> s =
      icount::ParseCallgrindTotals("events: Ir\nsummary: 12345\n");
  REQUIRE_OK(s.status());
  CHECK(*s == 12345);
  CHECK_FALSE(icount::ParseCallgrindTotals("events: Ir\n").ok());
  CHECK_FALSE(
      icount::ParseCallgrindTotals("events: Dr Dw\ntotals: 1 2\n").ok());
  CHECK_FALSE(icount::ParseCallgrindTotals("totals: 12x\n").ok());
}

TEST_CASE("callgrind dumps are found by their trigger", "[icount]") {
  testing::TempDir dir;
  std::string prefix = dir.Sub("cg.99");
  std::ofstream(prefix + ".1") << kDump;
  std::string other = kDump;
  other.replace(other.find("rep:0"), 5, "rep:1");
  other.replace(other.find("totals: 777 2000013"), 19, "totals: 1 42");
  std::ofstream(prefix + ".2") << other;
  std::ofstream(prefix) << "events: Ir\ntotals: 5\n";  // the exit dump
  Result<uint64_t> a =
      icount::ReadDump(prefix, "ycsb-c/null/keys:1000/threads:1/rep:0");
  REQUIRE_OK(a.status());
  CHECK(*a == 2000013);
  Result<uint64_t> b =
      icount::ReadDump(prefix, "ycsb-c/null/keys:1000/threads:1/rep:1");
  REQUIRE_OK(b.status());
  CHECK(*b == 42);
  CHECK(icount::ReadDump(prefix, "nothing").status().IsNotFound());
}

icount::Probes FakeProbes(bool perf, bool under_valgrind, bool on_path) {
  icount::Probes p;
  p.perf = [perf] {
    return perf ? Status::OK() : Status::FromErrno(ENOENT, "perf_event_open");
  };
  p.under_valgrind = [under_valgrind] { return under_valgrind; };
  p.valgrind_on_path = [on_path] { return on_path; };
  return p;
}

TEST_CASE("auto mode falls back from perf to callgrind to off", "[icount]") {
  using icount::Mode;
  auto mode = [](const std::string& flag, icount::Probes p) {
    Result<icount::Decision> d = icount::Decide(flag, p);
    REQUIRE_OK(d.status());
    return d->mode;
  };
  CHECK(mode("auto", FakeProbes(true, false, true)) == Mode::kPerf);
  CHECK(mode("auto", FakeProbes(false, false, true)) == Mode::kCallgrind);
  CHECK(mode("auto", FakeProbes(true, true, true)) == Mode::kCallgrind);
  Result<icount::Decision> off =
      icount::Decide("auto", FakeProbes(false, false, false));
  REQUIRE_OK(off.status());
  CHECK(off->mode == Mode::kOff);
  CHECK(off->note.find("no valgrind") != std::string::npos);
  CHECK(mode("off", FakeProbes(true, true, true)) == Mode::kOff);
  CHECK(mode("perf", FakeProbes(true, false, false)) == Mode::kPerf);
  CHECK(mode("callgrind", FakeProbes(false, true, false)) == Mode::kCallgrind);
  // Explicit modes that cannot work are usage errors, not silent fallbacks.
  CHECK(icount::Decide("perf", FakeProbes(false, false, true))
            .status()
            .IsInvalidArgument());
  CHECK(icount::Decide("callgrind", FakeProbes(true, false, false))
            .status()
            .IsInvalidArgument());
  CHECK(icount::Decide("sometimes", FakeProbes(true, true, true))
            .status()
            .IsInvalidArgument());
}

TEST_CASE("the perf counter counts a phase when the kernel allows it",
          "[icount]") {
  Status probe = icount::ProbePerf();
  if (!probe.ok()) {
    WARN("perf counters unavailable here, not tested: " << probe.ToString());
    return;
  }
  testing::TempDir dir;
  RunSettings settings;
  settings.data_dir = dir.path();
  settings.count_instructions = icount::Mode::kPerf;
  Runner runner(settings);
  PointSpec p;
  p.engine_spec = "null:spin_iters=1000";
  p.workload = "ycsb-c";
  p.params = {{"keys", "100"}, {"ops", "2000"}};
  Result<RepResult> r = runner.RunOnce(p, 0);
  REQUIRE_OK(r.status());
  CHECK(r->instruction_counter == "perf");
  CHECK(r->instructions > 2000 * 1000);  // at least one per spin
}

// Peak RSS of one repetition of ycsb-c on the memory engine.
uint64_t PeakOf(const std::string& dir, const std::string& keys,
                const std::string& value_size) {
  RunSettings settings;
  settings.data_dir = dir;
  Runner runner(settings);
  PointSpec p;
  p.engine_spec = "memory";
  p.workload = "ycsb-c";
  p.params = {{"keys", keys}, {"ops", "1000"}, {"value_size", value_size}};
  Result<RepResult> r = runner.RunOnce(p, 0);
  REQUIRE_OK(r.status());
  REQUIRE(r->errors == 0);
  return r->peak_rss_bytes;
}

TEST_CASE("peak RSS is measured per repetition", "[icount]") {
#if defined(KVB_SANITIZED)
  WARN("sanitizer build: freed memory stays in quarantine; skipped");
  return;
#endif
  if (!probes::ResetPeakRss()) {
    WARN("/proc/self/clear_refs not writable: peak RSS is process-wide here ("
         << probes::PeakRssMethod() << ")");
    return;
  }
  CHECK(probes::PeakRssMethod().find("VmHWM") != std::string::npos);
  testing::TempDir dir;
  constexpr uint64_t kBig = 20000 * 4000;  // 80 MB of values
  uint64_t big = PeakOf(dir.path(), "20000", "4000");
  uint64_t small = PeakOf(dir.path(), "1000", "100");
  INFO("big " << big << " small " << small);
  CHECK(big >= kBig);
  CHECK(small + kBig / 2 < big);
}

TEST_CASE("callgrind counts a small run end to end, repeatably", "[icount]") {
#if defined(KVB_SANITIZED)
  WARN("sanitizer build: valgrind cannot run it; skipped");
  return;
#endif
  if (!icount::ValgrindOnPath()) {
    WARN("valgrind not on PATH: end-to-end callgrind run skipped");
    return;
  }
  testing::TempDir dir;
  std::string out = dir.Sub("out");
  // Two engines differing by 100 spins per op, 2 repetitions each: 5-10 s
  // under callgrind here.
  std::string cmd = std::string(KVB_KVBENCH_BIN) +
                    " run --engines null:spin_iters=0,null:spin_iters=100"
                    " --workloads ycsb-c --keys 500 --ops 2000"
                    " --repetitions 2 --count-instructions callgrind --out " +
                    out + " --quiet > " + dir.Sub("log") + " 2>&1";
  auto t0 = std::chrono::steady_clock::now();
  int rc = std::system(cmd.c_str());
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  std::ifstream log(dir.Sub("log"));
  std::string text((std::istreambuf_iterator<char>(log)),
                   std::istreambuf_iterator<char>());
  INFO("exit " << rc << " after " << s << " s; output:\n" << text);
  REQUIRE(rc == 0);
  Result<nlohmann::json> j = ReadResultsFile(out + "/results.json");
  REQUIRE_OK(j.status());
  CHECK((*j)["context"]["instruction_counter"] == "callgrind");
  double per_op[2][2] = {};
  int n = 0;
  for (const nlohmann::json& b : (*j)["benchmarks"]) {
    if (b["run_type"] != "iteration") continue;
    REQUIRE(b.contains("instructions_per_op"));
    CHECK(b["instruction_counter"] == "callgrind");
    int engine = b["engine_spec"] == "null:spin_iters=0" ? 0 : 1;
    per_op[engine][b["repetition_index"].get<int>()] =
        b["instructions_per_op"].get<double>();
    ++n;
  }
  REQUIRE(n == 4);
  for (int e = 0; e < 2; ++e) {
    CHECK(per_op[e][0] > 0);
    CHECK(per_op[e][1] == Approx(per_op[e][0]).epsilon(1e-3));
  }
  // 100 spins of (at least) increment, compare and branch: 200-500 more.
  double extra = per_op[1][0] - per_op[0][0];
  CHECK(extra >= 200);
  CHECK(extra <= 500);
}

}  // namespace
}  // namespace kvb
