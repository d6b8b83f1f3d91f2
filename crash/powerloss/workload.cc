#include "crash/powerloss/workload.h"

#include <cstdio>
#include <optional>
#include <set>

#include "crash/powerloss/ack.h"
#include "crash/powerloss/engine_open.h"
#include "crash/powerloss/log_format.h"
#include "workloads/keyset.h"
#include "workloads/random.h"

namespace kvb::powerloss {

namespace {

// The state of one key: nullopt = absent, else the version present.
using KeyState = std::optional<uint32_t>;

std::string Describe(const KeyState& s) {
  return s ? "v" + std::to_string(*s) : std::string("absent");
}

void Count(CheckOutcome* out, const std::string& cls, const std::string& what) {
  out->violations[cls]++;
  if (out->examples.size() < 3) out->examples.push_back(cls + ": " + what);
}

}  // namespace

std::vector<Op> MakeOps(const WorkloadOptions& options) {
  Rng rng(StreamSeed(options.seed, 0x706c6f70));  // "plop"
  std::vector<uint32_t> next(options.keys, 1);
  std::vector<Op> ops;
  ops.reserve(options.ops);
  for (uint64_t i = 0; i < options.ops; ++i) {
    Op op;
    op.key = static_cast<uint32_t>(rng.Below(options.keys));
    op.del = rng.Below(5) == 0;
    op.version = next[op.key]++;
    ops.push_back(op);
  }
  return ops;
}

std::string KeyName(uint32_t key) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "pl-key-%04u", key);
  return buf;
}

ValueCodec MakeCodec(uint64_t seed) {
  return ValueCodec(seed, SizeDist::Uniform(24, 2048));
}

uint32_t KeyHash(uint32_t key, uint64_t seed) {
  return KeyHash32(KeyName(key), seed);
}

int RunWorkload(const std::string& spec, const std::string& dir,
                const WorkloadOptions& options) {
  Result<std::unique_ptr<Adapter>> opened = OpenEngine(spec, dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "kvb-powerloss child: open %s: %s\n", spec.c_str(),
                 opened.status().ToString().c_str());
    return 2;
  }
  Adapter& db = **opened;
  Ack(kOpenDoneAck);
  ValueCodec codec = MakeCodec(options.seed);
  std::vector<Op> ops = MakeOps(options);
  std::string value;
  for (uint64_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    std::string key = KeyName(op.key);
    Status s;
    if (op.del) {
      s = db.Delete(key);
    } else {
      codec.Encode(KeyHash(op.key, options.seed), op.version, &value);
      s = db.Put(key, value);
    }
    if (!s.ok()) {
      std::fprintf(stderr, "kvb-powerloss child: op %llu: %s\n",
                   static_cast<unsigned long long>(i), s.ToString().c_str());
      return 3;
    }
    Ack(i);
  }
  Status s = db.Close();
  if (!s.ok()) {
    std::fprintf(stderr, "kvb-powerloss child: close: %s\n",
                 s.ToString().c_str());
    return 4;
  }
  return 0;
}

CheckOutcome CheckState(Adapter& adapter, const std::vector<Op>& ops,
                        uint64_t acked, bool in_flight,
                        const WorkloadOptions& options) {
  std::vector<KeyState> durable(options.keys);
  std::vector<std::set<uint32_t>> issued_puts(options.keys);
  for (uint64_t i = 0; i < acked && i < ops.size(); ++i) {
    durable[ops[i].key] = ops[i].del ? KeyState() : KeyState(ops[i].version);
    if (!ops[i].del) issued_puts[ops[i].key].insert(ops[i].version);
  }
  std::optional<Op> flying;
  if (in_flight && acked < ops.size()) flying = ops[acked];
  if (flying && !flying->del) issued_puts[flying->key].insert(flying->version);
  ValueCodec codec = MakeCodec(options.seed);
  CheckOutcome out;
  std::string value;
  for (uint32_t k = 0; k < options.keys; ++k) {
    std::string key = KeyName(k);
    Status s = adapter.Get(key, &value);
    KeyState seen;
    if (s.ok()) {
      uint32_t version = 0;
      if (codec.Verify(KeyHash(k, options.seed), value, &version) !=
          VerifyResult::kOk) {
        Count(&out, "invented", key + ": torn, corrupt or another key's value");
        continue;
      }
      seen = version;
    } else if (!s.IsNotFound()) {
      Count(&out, "read_failed", key + ": " + s.ToString());
      continue;
    }
    KeyState alt = durable[k];
    bool has_alt = flying && flying->key == k;
    if (has_alt) alt = flying->del ? KeyState() : KeyState(flying->version);
    if (seen == durable[k] || (has_alt && seen == alt)) continue;
    // A value that was never put (yet) is an invention; an older one, or
    // absence, is a loss.
    bool invented = seen && issued_puts[k].count(*seen) == 0;
    Count(&out, invented ? "invented" : "lost_durable",
          key + ": expected " + Describe(durable[k]) +
              (has_alt ? " or " + Describe(alt) : "") + ", found " +
              Describe(seen));
  }
  if (adapter.capabilities().ordered) {
    std::set<std::string> known;
    for (uint32_t k = 0; k < options.keys; ++k) known.insert(KeyName(k));
    Status s =
        adapter.Scan("", SIZE_MAX, [&](std::string_view key, std::string_view) {
          if (!known.count(std::string(key))) {
            Count(&out, "invented",
                  "scan found key never written: " +
                      std::string(key.substr(0, 40)));
          }
          return true;
        });
    if (!s.ok()) Count(&out, "read_failed", "scan: " + s.ToString());
  }
  return out;
}

}  // namespace kvb::powerloss
