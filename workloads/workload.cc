#include "workloads/workload.h"

#include <cmath>
#include <cstdio>
#include <functional>

#include "core/strings.h"
#include "workloads/value_codec.h"

namespace kvb {
namespace {

constexpr std::array<std::string_view, kOpTypes> kOpNames = {
    "read", "update", "insert", "delete", "rmw", "scan"};

Result<uint64_t> ParseU64(std::string_view name, std::string_view s) {
  return ParseUint(s, name);
}

Result<double> ParseFraction(std::string_view name, std::string_view s) {
  return ParseDouble(s, name);
}

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

OpMix Mix(std::initializer_list<std::pair<OpType, double>> parts) {
  OpMix m;
  for (auto [op, w] : parts) m[op] = w;
  return m;
}

WorkloadSpec Ycsb(std::string name, std::string desc, OpMix mix,
                  DistKind dist) {
  WorkloadSpec s;
  s.name = std::move(name);
  s.description = std::move(desc);
  s.source = "YCSB core workload (brianfrankcooper/YCSB workloads/workload" +
             s.name.substr(5) +
             "): published proportions; requestdistribution=zipfian is YCSB's "
             "scrambled zipfian "
             "(0.99); record = 10 fields x 100 B stored as one 1000-byte "
             "value; keys ~ 'user'+hash, "
             "24 bytes; insertorder=hashed";
  s.keys = 100000;
  s.ops = 100000;
  s.key_size = SizeDist::Fixed(24);
  s.value_size = SizeDist::Fixed(1000);
  s.request.kind = dist;
  s.mix = mix;
  s.scan_length = SizeDist::Uniform(1, 100);
  return s;
}

std::vector<WorkloadSpec> MakePresets() {
  std::vector<WorkloadSpec> out;
  {
    WorkloadSpec s;
    s.name = "read-heavy";
    s.description =
        "load N unique keys, close, reopen, read every key once in shuffled "
        "order";
    s.source =
        "pogreb-bench (akrylysov/pogreb-bench): -n 100000 keys, -mink/-maxk "
        "16/64, "
        "-minv/-maxv 128/512, put all, close, reopen, shuffle, get all, every "
        "value checked";
    s.keys = 100000;
    s.key_size = SizeDist::Uniform(16, 64);
    s.value_size = SizeDist::Uniform(128, 512);
    s.shape = RunShape::kReadAllShuffled;
    s.reopen_after_load = true;
    s.mix = Mix({{OpType::kRead, 1}});
    out.push_back(s);
  }
  {
    WorkloadSpec s;
    s.name = "bulk-insert";
    s.description =
        "load N unique keys in random order (batched where native), sync, "
        "close, reopen, "
        "check every key";
    s.source =
        "db_bench filluniquerandom shape (16 B keys, 100 B values) with unique "
        "keys; "
        "batches of 1000 like db_bench_sqlite3's *batch tests; reopen time as "
        "pogreb-bench";
    s.keys = 100000;
    s.key_size = SizeDist::Fixed(16);
    s.value_size = SizeDist::Fixed(100);
    s.shape = RunShape::kNone;
    s.batch_load = true;
    s.reopen_after_load = true;
    s.final_verify = true;
    out.push_back(s);
  }
  {
    WorkloadSpec s;
    s.name = "concurrent-fuzz";
    s.description =
        "setter, getter and deleter threads on a small hot key set; every read "
        "checked; final "
        "reopen checks every key";
    s.source =
        "the concurrency tests of pogreb and diskv (setters/deleters/getters "
        "on shared keys), "
        "made into a checked workload";
    s.keys = 256;
    s.ops = 30000;
    s.key_size = SizeDist::Fixed(16);
    s.value_size = SizeDist::Fixed(1024);
    s.threads = 3;
    s.mix = Mix(
        {{OpType::kRead, 0.4}, {OpType::kUpdate, 0.4}, {OpType::kDelete, 0.2}});
    s.roles = {Mix({{OpType::kUpdate, 1}}), Mix({{OpType::kRead, 1}}),
               Mix({{OpType::kDelete, 1}})};
    s.role_names = {"setter", "getter", "deleter"};
    s.final_verify = true;
    out.push_back(s);
  }
  {
    WorkloadSpec s;
    s.name = "typed-struct";
    s.description =
        "100K keys, 1M ops, 80% read / 20% update of a small user struct, "
        "uniform keys, 8 threads";
    s.source =
        "go-persist README benchmark, scenario 1 (Jipok/go-persist "
        "benchmark/): 100,000 keys (decimal, <= 5 bytes), 1,000,000 ops, 20% "
        "writes, uniform random keys, struct values with JSON for byte "
        "stores; 150 goroutines there, 8 threads here (2-vCPU machine)";
    s.keys = 100000;
    s.ops = 1000000;
    s.key_size = SizeDist::Fixed(5);
    s.value_kind = ValueKind::kStruct;
    s.request.kind = DistKind::kUniform;
    s.mix = Mix({{OpType::kRead, 0.8}, {OpType::kUpdate, 0.2}});
    s.threads = 8;
    out.push_back(s);
  }
  out.push_back(Ycsb("ycsb-a",
                     "YCSB A, update heavy: 50% read, 50% update, zipfian",
                     Mix({{OpType::kRead, 0.5}, {OpType::kUpdate, 0.5}}),
                     DistKind::kScrambledZipfian));
  out.push_back(Ycsb("ycsb-b",
                     "YCSB B, read mostly: 95% read, 5% update, zipfian",
                     Mix({{OpType::kRead, 0.95}, {OpType::kUpdate, 0.05}}),
                     DistKind::kScrambledZipfian));
  out.push_back(Ycsb("ycsb-c", "YCSB C, read only: 100% read, zipfian",
                     Mix({{OpType::kRead, 1}}), DistKind::kScrambledZipfian));
  out.push_back(Ycsb("ycsb-d",
                     "YCSB D, read latest: 95% read, 5% insert, latest",
                     Mix({{OpType::kRead, 0.95}, {OpType::kInsert, 0.05}}),
                     DistKind::kLatest));
  out.push_back(Ycsb(
      "ycsb-e", "YCSB E, short ranges: 95% scan (1-100), 5% insert, zipfian",
      Mix({{OpType::kScan, 0.95}, {OpType::kInsert, 0.05}}),
      DistKind::kScrambledZipfian));
  out.push_back(
      Ycsb("ycsb-f", "YCSB F, read-modify-write: 50% read, 50% rmw, zipfian",
           Mix({{OpType::kRead, 0.5}, {OpType::kReadModifyWrite, 0.5}}),
           DistKind::kScrambledZipfian));
  return out;
}

const std::vector<WorkloadSpec>& Presets() {
  static const std::vector<WorkloadSpec> presets = MakePresets();
  return presets;
}

}  // namespace

std::string_view OpTypeName(OpType op) {
  return kOpNames[static_cast<int>(op)];
}

std::string_view ValueKindName(ValueKind k) {
  return k == ValueKind::kStruct ? "struct" : "bytes";
}

std::string OpMix::ToString() const {
  std::string s;
  for (int i = 0; i < kOpTypes; ++i) {
    if (weight[i] <= 0) continue;
    if (!s.empty()) s += ',';
    s += std::string(kOpNames[i]) + ":" + FormatDouble(weight[i]);
  }
  return s;
}

Result<OpMix> ParseOpMix(std::string_view text) {
  OpMix mix;
  double total = 0;
  for (const std::string& item : SplitList(text)) {
    std::string_view op, weight;
    bool has_weight = SplitOnce(item, ':', &op, &weight);
    if (!has_weight) op = item;
    int index = -1;
    for (int i = 0; i < kOpTypes; ++i) {
      if (op == kOpNames[i]) index = i;
    }
    if (index < 0 || !has_weight) {
      return Status::InvalidArgument(
          "bad op mix item '" + std::string(item) +
          "' (expected OP:WEIGHT with OP one of read, update, "
          "insert, delete, rmw, scan)");
    }
    KVB_ASSIGN_OR_RETURN(double w, ParseFraction("mix", weight));
    mix.weight[index] = w;
    total += w;
  }
  if (total <= 0)
    return Status::InvalidArgument("op mix has no positive weight");
  return mix;
}

OpChooser::OpChooser(const OpMix& mix) {
  double total = 0;
  for (double w : mix.weight) total += w;
  double cum = 0;
  for (int i = 0; i < kOpTypes; ++i) {
    cum += total > 0 ? mix.weight[i] / total : (i == 0 ? 1 : 0);
    cum_[i] =
        cum >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(std::ldexp(cum, 64));
  }
  // Trailing zero-weight ops must never be drawn: the last positive one takes
  // the top.
  for (int i = kOpTypes - 1; i >= 0; --i) {
    if (total <= 0 || mix.weight[i] > 0) {
      cum_[i] = UINT64_MAX;
      break;
    }
  }
}

uint64_t WorkloadSpec::KeyCapacity() const {
  double inserts = 0;
  auto count = [&](const OpMix& m) {
    double total = 0;
    for (double w : m.weight) total += w;
    return total > 0 ? m[OpType::kInsert] / total : 0;
  };
  double frac = count(mix);
  for (const OpMix& r : roles) frac = std::max(frac, count(r));
  inserts = frac * static_cast<double>(RunOps());
  // YCSB's fudge factor 2 (plus slack) so random draws never exhaust the id
  // space.
  return keys + static_cast<uint64_t>(2 * inserts) + (inserts > 0 ? 1024 : 0);
}

bool WorkloadSpec::NeedsScan() const {
  if (shape != RunShape::kMix) return false;
  if (mix.Has(OpType::kScan)) return true;
  for (const OpMix& r : roles) {
    if (r.Has(OpType::kScan)) return true;
  }
  return false;
}

bool WorkloadSpec::Writes() const {
  auto writes = [](const OpMix& m) {
    return m.Has(OpType::kUpdate) || m.Has(OpType::kInsert) ||
           m.Has(OpType::kDelete) || m.Has(OpType::kReadModifyWrite);
  };
  if (shape != RunShape::kMix) return false;
  if (writes(mix)) return true;
  for (const OpMix& r : roles) {
    if (writes(r)) return true;
  }
  return false;
}

const std::vector<std::string>& PresetNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const WorkloadSpec& s : Presets()) n.push_back(s.name);
    return n;
  }();
  return names;
}

Result<WorkloadSpec> FindPreset(std::string_view name) {
  for (const WorkloadSpec& s : Presets()) {
    if (s.name == name) return s;
  }
  std::string known;
  for (const std::string& n : PresetNames())
    known += (known.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown workload '" + std::string(name) +
                                 "' (known: " + known + ")");
}

Status ApplyParam(WorkloadSpec* spec, std::string_view name,
                  std::string_view value) {
  auto u64 = [&](uint64_t* field) -> Status {
    KVB_ASSIGN_OR_RETURN(*field, ParseU64(name, value));
    return Status::OK();
  };
  auto size = [&](SizeDist* field) -> Status {
    Result<SizeDist> d = ParseSizeDist(value);
    if (!d.ok()) return d.status().WithContext(name);
    *field = *d;
    return Status::OK();
  };
  auto fraction = [&](double* field) -> Status {
    KVB_ASSIGN_OR_RETURN(*field, ParseFraction(name, value));
    return Status::OK();
  };
  if (name == "keys") return u64(&spec->keys);
  if (name == "ops") return u64(&spec->ops);
  if (name == "seed") return u64(&spec->seed);
  if (name == "threads" || name == "batch_size") {
    uint64_t v = 0;
    KVB_RETURN_IF_ERROR(u64(&v));
    if (v == 0 || v > 4096) {
      return Status::InvalidArgument(std::string(name) +
                                     " must be in [1, 4096]");
    }
    (name == "threads" ? spec->threads : spec->batch_size) =
        static_cast<uint32_t>(v);
    return Status::OK();
  }
  if (name == "key_size") return size(&spec->key_size);
  if (name == "value_size") return size(&spec->value_size);
  if (name == "scan_length") return size(&spec->scan_length);
  if (name == "zipf_theta") return fraction(&spec->request.zipf_theta);
  if (name == "hot_data_fraction")
    return fraction(&spec->request.hot_data_fraction);
  if (name == "hot_op_fraction")
    return fraction(&spec->request.hot_op_fraction);
  if (name == "distribution") {
    KVB_ASSIGN_OR_RETURN(spec->request.kind, ParseDistKind(value));
    return Status::OK();
  }
  if (name == "insert_order") {
    if (value != "sequential" && value != "shuffled") {
      return Status::InvalidArgument(
          "insert_order: expected sequential or shuffled, got '" +
          std::string(value) + "'");
    }
    spec->ordered_keys = value == "sequential";
    return Status::OK();
  }
  if (name == "mix") {
    KVB_ASSIGN_OR_RETURN(spec->mix, ParseOpMix(value));
    spec->roles.clear();  // an explicit mix replaces per-thread roles
    spec->role_names.clear();
    return Status::OK();
  }
  if (name == "value_kind") {
    if (value != "bytes" && value != "struct") {
      return Status::InvalidArgument(
          "value_kind: expected bytes or struct, got '" + std::string(value) +
          "'");
    }
    spec->value_kind =
        value == "struct" ? ValueKind::kStruct : ValueKind::kBytes;
    return Status::OK();
  }
  if (name == "durability") {
    if (value != "none" && value != "async" && value != "sync") {
      return Status::InvalidArgument(
          "durability: expected none, async or sync, got '" +
          std::string(value) + "'");
    }
    spec->durability = std::string(value);
    return Status::OK();
  }
  return Status::InvalidArgument(
      "unknown workload parameter '" + std::string(name) +
      "' (keys, ops, threads, key_size, value_size, scan_length, insert_order, "
      "distribution, "
      "zipf_theta, hot_data_fraction, hot_op_fraction, mix, durability, seed, "
      "batch_size, value_kind)");
}

Status Validate(const WorkloadSpec& s) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(s.name + ": " + what);
  };
  if (s.keys == 0 && s.load) return bad("keys must be at least 1");
  if (s.value_size.min < kValueHeaderSize) {
    return bad("value size must be at least " +
               std::to_string(kValueHeaderSize) +
               " bytes (the self-verifying header)");
  }
  if (s.key_size.min == 0) return bad("key size must be at least 1");
  if (s.key_size.max > (1u << 20) || s.value_size.max > (1u << 30)) {
    return bad("key size over 1 MiB or value size over 1 GiB");
  }
  if (s.scan_length.min == 0) return bad("scan length must be at least 1");
  if (s.value_kind == ValueKind::kStruct && s.NeedsScan()) {
    return bad("value_kind=struct does not support scans");
  }
  if (s.threads == 0) return bad("threads must be at least 1");
  DistKind k = s.request.kind;
  if ((k == DistKind::kZipfian || k == DistKind::kScrambledZipfian ||
       k == DistKind::kLatest) &&
      !(s.request.zipf_theta > 0 && s.request.zipf_theta < 1)) {
    return bad("zipf_theta must be in (0, 1) (Gray's generator, as YCSB)");
  }
  if (k == DistKind::kHotspot &&
      (s.request.hot_data_fraction > 1 || s.request.hot_op_fraction > 1)) {
    return bad("hotspot fractions must be in [0, 1]");
  }
  if (s.KeyCapacity() > (uint64_t{1} << 32)) return bad("more than 2^32 keys");
  return Status::OK();
}

std::map<std::string, std::string> DescribeParams(const WorkloadSpec& s) {
  std::map<std::string, std::string> p;
  p["keys"] = std::to_string(s.keys);
  p["ops"] = std::to_string(s.shape == RunShape::kReadAllShuffled ? s.keys
                                                                  : s.RunOps());
  p["threads"] = std::to_string(s.threads);
  p["key_size"] = s.key_size.ToString();
  p["value_size"] = s.value_size.ToString();
  p["scan_length"] = s.scan_length.ToString();
  p["insert_order"] = s.ordered_keys ? "sequential" : "shuffled";
  p["distribution"] = std::string(DistKindName(s.request.kind));
  p["zipf_theta"] = FormatDouble(s.request.zipf_theta);
  p["hot_data_fraction"] = FormatDouble(s.request.hot_data_fraction);
  p["hot_op_fraction"] = FormatDouble(s.request.hot_op_fraction);
  p["mix"] = s.mix.ToString();
  p["durability"] = s.durability;
  p["seed"] = std::to_string(s.seed);
  p["batch_size"] = std::to_string(s.batch_size);
  if (s.value_kind != ValueKind::kBytes) {
    p["value_kind"] = std::string(ValueKindName(s.value_kind));
  }
  return p;
}

}  // namespace kvb
