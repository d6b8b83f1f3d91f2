// typedmap's log-line parser (ReadHeader + ScanLog, both formats), key
// validation and value decoding on arbitrary bytes. Properties: no crash;
// records lie inside the scanned range, in order and back to back; good_end
// never passes the end; a native record that passed its checksum re-encodes to
// exactly its own bytes (the format is canonical); a value that decodes into a
// KVB_GO_STRUCT mirror (go_compat.h) re-encodes to JSON that decodes to the
// same value, and so does an RFC 3339 time.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "engines/typedmap/go_compat.h"
#include "engines/typedmap/log_format.h"
#include "engines/typedmap/value_codec.h"
#include "fuzz/fuzz_util.h"

namespace kvb::typedmap {
namespace {

// Every kind of member go_compat.h maps.
struct GoInner {
  std::string s;
  std::optional<int32_t> p;
  bool operator==(const GoInner&) const = default;
};
KVB_GO_STRUCT(GoInner, KVB_GO_FIELD(s, "s,omitempty"), KVB_GO_FIELD(p, "p"))

struct GoValue {
  int64_t i = 0;
  uint16_t u = 0;
  double d = 0;
  bool b = false;
  std::vector<std::string> v;
  std::optional<std::vector<int>> ov;
  std::map<std::string, GoInner> m;
  std::vector<uint8_t> bytes;
  go::Time t;
  std::optional<GoInner> ptr;
  bool operator==(const GoValue&) const = default;
};
KVB_GO_STRUCT(GoValue, KVB_GO_FIELD(i, "i"), KVB_GO_FIELD(u, "u,omitempty"),
              KVB_GO_FIELD(d, "d"), KVB_GO_FIELD(b, "b"), KVB_GO_FIELD(v, "v"),
              KVB_GO_FIELD(ov, "ov"), KVB_GO_FIELD(m, "m,omitempty"),
              KVB_GO_FIELD(bytes, "bytes"), KVB_GO_FIELD(t, "t"),
              KVB_GO_FIELD(ptr, "ptr,omitempty"))

void CheckGo(std::string_view bytes) {
  GoValue v;
  Status s = ValueCodec<GoValue>::Decode(bytes, &v);
  KVB_FUZZ_CHECK(s.ok() || s.IsInvalidArgument() || s.IsCorruption());
  if (s.ok()) {
    std::string enc;
    KVB_FUZZ_CHECK(ValueCodec<GoValue>::Encode(v, &enc).ok());
    GoValue back;
    KVB_FUZZ_CHECK(ValueCodec<GoValue>::Decode(enc, &back).ok() && back == v);
  }
  go::Time t;
  if (go::ParseRfc3339(bytes, &t)) {
    std::string text;
    go::Time back;
    KVB_FUZZ_CHECK(go::FormatRfc3339(t, &text) &&
                   go::ParseRfc3339(text, &back) && back == t);
  }
}

void Scan(File* file, std::string_view bytes, LogFormat format,
          uint64_t start) {
  uint64_t expect = start;
  ScanResult result;
  Status s = ScanLog(
      *file, format, start, bytes.size(),
      [&](const RecordView& rec) -> Status {
        KVB_FUZZ_CHECK(rec.offset == expect);
        KVB_FUZZ_CHECK(rec.size > 0 && rec.offset + rec.size <= bytes.size());
        KVB_FUZZ_CHECK(rec.op == 'S' || rec.op == 'D');
        expect += rec.size;
        if (format == LogFormat::kNative) {
          std::string again;
          // Keys are written raw, so the prefix can be empty and the full key
          // passed whole.
          size_t at = BeginRecord(format, rec.op, "", rec.key, &again);
          again.append(rec.value);
          FinishRecord(format, at, &again);
          KVB_FUZZ_CHECK(again == bytes.substr(rec.offset, rec.size));
        }
        return Status::OK();
      },
      &result);
  if (!s.ok()) fuzz::Fail("ScanLog of an in-memory file failed", s);
  KVB_FUZZ_CHECK(result.good_end == expect);
  KVB_FUZZ_CHECK(result.good_end <= bytes.size());
}

}  // namespace
}  // namespace kvb::typedmap

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvb;
  using namespace kvb::typedmap;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<Env> env = NewMemEnv();
  fuzz::MustWriteFile(env.get(), "/log", bytes);
  auto file = env->OpenFile("/log", OpenMode::kReadOnly);
  if (!file.ok()) fuzz::Fail("open", file.status());
  Header header;
  if (ReadHeader(**file, size, &header).ok()) {
    KVB_FUZZ_CHECK(header.size <= size);
    Scan(file->get(), bytes, header.format, header.size);
  }
  // The body parsers without a header, from offset 0, in both formats.
  Scan(file->get(), bytes, LogFormat::kNative, 0);
  Scan(file->get(), bytes, LogFormat::kLegacy, 0);
  ValidateKey(bytes).IgnoreError();
  ValidateMapName(bytes).IgnoreError();
  std::string str;
  if (ValueCodec<std::string>::Decode(bytes, &str).ok()) {
    std::string enc;
    if (ValueCodec<std::string>::Encode(str, &enc).ok()) {
      std::string back;
      KVB_FUZZ_CHECK(ValueCodec<std::string>::Decode(enc, &back).ok() &&
                     back == str);
    }
  }
  Bytes b;
  if (ValueCodec<Bytes>::Decode(bytes, &b).ok()) {
    std::string enc;
    KVB_FUZZ_CHECK(ValueCodec<Bytes>::Encode(b, &enc).ok());
    Bytes back;
    KVB_FUZZ_CHECK(ValueCodec<Bytes>::Decode(enc, &back).ok() && back == b);
  }
  int n = 0;
  ValueCodec<int>::Decode(bytes, &n).IgnoreError();
  CheckGo(bytes);
  return 0;
}
