// The value checksum (Options::checksum, FORMAT.md 2.1): the exact trailer
// bytes, damage of every kind is Corruption on Read and ReadStream and a
// problem in Inspect, only verified values enter the cache, and stores
// without a trailer (version-1 metadata, adopted plain trees, checksum none,
// compressed stores) keep their files byte for byte.
#include "core/checksum.h"

#include <catch2/catch.hpp>
#include <string>

#include "core/coding.h"
#include "core/testing/test_util.h"
#include "engines/fileperkey/fileperkey.h"
#include "engines/fileperkey/inspect.h"
#include "engines/fileperkey/internal/meta.h"
#include "engines/fileperkey/value_checksum.h"

namespace kvb::fileperkey {
namespace {

std::unique_ptr<Store> MustOpen(const std::string& dir, const Options& o) {
  Result<std::unique_ptr<Store>> s = Store::Open(dir, o);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(*s);
}

Options MemOptions(Env* env) {
  Options o;
  o.env = env;
  return o;
}

std::string Raw(Env* env, const std::string& path) {
  Result<std::string> s = env->ReadFileToString(path);
  INFO(path << ": " << s.status().ToString());
  REQUIRE(s.ok());
  return *s;
}

void Put(Env* env, const std::string& path, const std::string& bytes) {
  REQUIRE_OK(env->WriteFileAtomically(path, bytes));
}

// Reads `key` through ReadStream in 7-byte pieces: the status of the first
// failing call (or of the open), and the bytes handed out before it.
Status StreamRead(Store* store, std::string_view key, std::string* out) {
  out->clear();
  Result<std::unique_ptr<ValueReader>> r = store->ReadStream(key);
  if (!r.ok()) return r.status();
  char buf[7];
  for (size_t got = 1; got > 0;) {
    KVB_RETURN_IF_ERROR((*r)->Read(buf, sizeof(buf), &got));
    out->append(buf, got);
  }
  return Status::OK();
}

// The value of a key as the store's files would hold it (value + trailer).
std::string Framed(const std::string& value) {
  return value + EncodeTrailer(Crc32c(value));
}

TEST_CASE("a new store frames every value with the documented trailer",
          "[checksum]") {
  auto env = NewMemEnv();
  auto store = MustOpen("/s", MemOptions(env.get()));
  CHECK(store->value_checksum() == ValueChecksum::kCrc32c);
  const std::string meta = Raw(env.get(), "/s/.fpk-meta");
  CHECK(meta.rfind("fileperkey-meta 2\n", 0) == 0);
  CHECK(meta.find("\nchecksum crc32c\n") != std::string::npos);

  REQUIRE_OK(store->Write("k", "hello"));
  const std::string file = Raw(env.get(), "/s/k");
  REQUIRE(file.size() == 5 + 8);
  CHECK(file.substr(0, 5) == "hello");
  CHECK(DecodeFixed32(file.data() + 5) == MaskCrc(Crc32c("hello", 5)));
  CHECK(file.substr(9) == std::string("\xfb\x66\x6b\x01", 4));
  std::string v;
  REQUIRE_OK(store->Read("k", &v));
  CHECK(v == "hello");
  // The empty value is the trailer alone, and reads back empty.
  REQUIRE_OK(store->Write("empty", ""));
  CHECK(Raw(env.get(), "/s/empty") == EncodeTrailer(Crc32c("", 0)));
  REQUIRE_OK(store->Read("empty", &v));
  CHECK(v.empty());
  REQUIRE_OK(StreamRead(store.get(), "empty", &v));
  CHECK(v.empty());
  // WriteStream and ReadStream: chunked both ways, same framing.
  std::string big(200000, '\0');
  for (size_t i = 0; i < big.size(); i++)
    big[i] = static_cast<char>(i * 131 % 251);
  auto src = NewStringReader(big);
  REQUIRE_OK(store->WriteStream("big", src.get()));
  CHECK(Raw(env.get(), "/s/big") == Framed(big));
  REQUIRE_OK(StreamRead(store.get(), "big", &v));
  CHECK(v == big);
}

TEST_CASE("damage is Corruption on Read and ReadStream and in inspect",
          "[checksum]") {
  auto env = NewMemEnv();
  Options o = MemOptions(env.get());
  o.cache_bytes = 1 << 20;
  const std::string value(1000, 'v');
  struct Case {
    const char* name;
    std::string file;
  };
  std::string flipped = Framed(value);
  flipped[500] ^= 0x10;  // a byte in the middle of the value
  std::string bad_crc = Framed(value);
  bad_crc[1000] ^= 0x01;  // the stored CRC itself
  const std::vector<Case> cases = {
      {"flipped byte in the middle", flipped},
      {"damaged CRC", bad_crc},
      {"truncated by 3 bytes", Framed(value).substr(0, 1005)},
      {"truncated to half", Framed(value).substr(0, 504)},
      {"zero-length file", ""},
      {"shorter than a trailer", "abc"},
      {"another value's trailer alone", EncodeTrailer(Crc32c("x", 1))},
      {"plain bytes without a trailer", value},
      {"zeros after the value (a stale size)",
       Framed(value) + std::string(8, '\0')},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string dir = std::string("/d-") + c.name;
    auto store = MustOpen(dir, o);
    REQUIRE_OK(store->Write("k", value));
    REQUIRE_OK(store->Write("good", "fine"));
    Put(env.get(), dir + "/k", c.file);
    store.reset();  // a fresh cache: the damage is on disk
    store = MustOpen(dir, o);
    std::string v = "stale";
    Status s = store->Read("k", &v);
    INFO(s.ToString());
    CHECK(s.IsCorruption());
    CHECK(s.ToString().find(dir + "/k") != std::string::npos);
    CHECK(v.empty());  // no damaged bytes handed out
    std::string streamed;
    s = StreamRead(store.get(), "k", &streamed);
    CHECK(s.IsCorruption());
    // Never the whole value: the read that would end it fails instead.
    CHECK((streamed.empty() || streamed.size() + kTrailerSize < c.file.size()));
    // Nothing damaged was cached, and a later Read still sees the damage.
    CHECK(store->stats().cache.entries == 0);
    CHECK(store->Read("k", &v).IsCorruption());
    REQUIRE_OK(store->Read("good", &v));
    CHECK(v == "fine");
    store.reset();
    Result<InspectReport> r = Inspect(env.get(), dir, true, nullptr);
    REQUIRE(r.ok());
    CHECK(r->checksum == "crc32c");
    CHECK(r->keys == 2);
    CHECK(r->bad_values == 1);
    CHECK_FALSE(r->ok());
    REQUIRE(r->problems.size() == 1);
    CHECK(r->problems[0].find(dir + "/k") != std::string::npos);
  }
}

TEST_CASE(
    "a zero-length file is a problem for inspect even without "
    "verify_values",
    "[checksum]") {
  auto env = NewMemEnv();
  {
    auto store = MustOpen("/z", MemOptions(env.get()));
    REQUIRE_OK(store->Write("k", "value"));
  }
  Put(env.get(), "/z/k", "");
  Result<InspectReport> r = Inspect(env.get(), "/z", false, nullptr);
  REQUIRE(r.ok());
  CHECK(r->bad_values == 1);
  CHECK_FALSE(r->ok());
}

TEST_CASE("only a verified value enters the cache", "[checksum][cache]") {
  auto env = NewMemEnv();
  Options o = MemOptions(env.get());
  o.cache_bytes = 1 << 20;
  auto store = MustOpen("/c", o);
  REQUIRE_OK(store->Write("k", "abcdef"));
  std::string v;
  REQUIRE_OK(StreamRead(store.get(), "k", &v));  // the tee fills the cache
  CHECK(v == "abcdef");
  CHECK(store->stats().cache.entries == 1);
  REQUIRE_OK(store->Write("k", "ghijkl"));  // invalidates
  CHECK(store->stats().cache.entries == 0);
  std::string damaged = Framed("ghijkl");
  damaged[2] ^= 1;
  Put(env.get(), "/c/k", damaged);
  CHECK(StreamRead(store.get(), "k", &v).IsCorruption());
  CHECK(store->Read("k", &v).IsCorruption());
  CHECK(store->stats().cache.entries == 0);
}

TEST_CASE("Import writes the trailer, for a copy and a move", "[checksum]") {
  testing::TempDir tmp;
  Options o;
  auto store = MustOpen(tmp.Sub("s"), o);
  for (bool move : {false, true}) {
    INFO("move " << move);
    const std::string src = tmp.Sub(move ? "moved" : "copied");
    REQUIRE_OK(Env::Default()->WriteFileAtomically(src, "imported bytes"));
    const std::string key = move ? "m" : "c";
    REQUIRE_OK(store->Import(src, key, move));
    CHECK(Raw(Env::Default(), tmp.Sub("s/" + key)) == Framed("imported bytes"));
    CHECK(Env::Default()->FileExists(src) == !move);
    std::string v;
    REQUIRE_OK(store->Read(key, &v));
    CHECK(v == "imported bytes");
  }
}

TEST_CASE("stores without a trailer keep plain files byte for byte",
          "[checksum][compat]") {
  auto env = NewMemEnv();
  SECTION("a version-1 .fpk-meta (an older build's store)") {
    internal::StoreMeta m;
    m.version = 1;
    m.transform = "flat";
    const std::string v1 = internal::EncodeMeta(m);
    CHECK(v1.find("checksum") == std::string::npos);
    REQUIRE_OK(env->CreateDirs("/v1"));
    Put(env.get(), "/v1/.fpk-meta", v1);
    Put(env.get(), "/v1/old", "written by version 1");
    auto store = MustOpen("/v1", MemOptions(env.get()));
    CHECK(store->value_checksum() == ValueChecksum::kNone);
    std::string v;
    REQUIRE_OK(store->Read("old", &v));
    CHECK(v == "written by version 1");
    REQUIRE_OK(store->Write("new", "plain bytes"));
    CHECK(Raw(env.get(), "/v1/new") == "plain bytes");
    auto src = NewStringReader("streamed plain");
    REQUIRE_OK(store->WriteStream("s", src.get()));
    CHECK(Raw(env.get(), "/v1/s") == "streamed plain");
    REQUIRE_OK(store->Write("e", ""));
    CHECK(Raw(env.get(), "/v1/e").empty());
    REQUIRE_OK(store->Read("e", &v));
    CHECK(v.empty());
    // The metadata stays version 1, so the older build still opens it.
    CHECK(Raw(env.get(), "/v1/.fpk-meta") == v1);
    store.reset();
    Options on = MemOptions(env.get());
    on.checksum = ValueChecksum::kCrc32c;
    CHECK(Store::Open("/v1", on).status().IsInvalidArgument());
  }
  SECTION("an adopted tree of plain files without .fpk-meta (diskv)") {
    REQUIRE_OK(env->CreateDirs("/diskv"));
    Put(env.get(), "/diskv/a", "diskv wrote this");
    Options on = MemOptions(env.get());
    on.checksum = ValueChecksum::kCrc32c;
    const Status refused = Store::Open("/diskv", on).status();
    CHECK(refused.IsInvalidArgument());
    // Refused before anything is written into the tree.
    CHECK_FALSE(env->FileExists("/diskv/.fpk-meta"));
    CHECK_FALSE(env->FileExists("/diskv/.fpk-lock"));
    auto store = MustOpen("/diskv", MemOptions(env.get()));
    CHECK(store->value_checksum() == ValueChecksum::kNone);
    std::string v;
    REQUIRE_OK(store->Read("a", &v));
    CHECK(v == "diskv wrote this");
    REQUIRE_OK(store->Write("b", "still plain"));
    CHECK(Raw(env.get(), "/diskv/b") == "still plain");
    CHECK(Raw(env.get(), "/diskv/.fpk-meta").find("\nchecksum none\n") !=
          std::string::npos);
    store.reset();
    // Reopened by default it stays plain; asking for the trailer is refused.
    store = MustOpen("/diskv", MemOptions(env.get()));
    CHECK(store->value_checksum() == ValueChecksum::kNone);
    store.reset();
    CHECK(Store::Open("/diskv", on).status().IsInvalidArgument());
    Result<InspectReport> r = Inspect(env.get(), "/diskv", true, nullptr);
    REQUIRE(r.ok());
    CHECK(r->checksum == "none");
    CHECK(r->ok());
  }
  SECTION("a new store with checksum none") {
    Options off = MemOptions(env.get());
    off.checksum = ValueChecksum::kNone;
    auto store = MustOpen("/off", off);
    CHECK(store->value_checksum() == ValueChecksum::kNone);
    REQUIRE_OK(store->Write("k", "plain"));
    CHECK(Raw(env.get(), "/off/k") == "plain");
    // A zero-length file is the empty value here, as in diskv.
    Put(env.get(), "/off/z", "");
    std::string v = "x";
    REQUIRE_OK(store->Read("z", &v));
    CHECK(v.empty());
  }
}

TEST_CASE("a checksum mismatch at reopen is refused, default follows the store",
          "[checksum][meta]") {
  auto env = NewMemEnv();
  Options def = MemOptions(env.get());
  Options on = def;
  on.checksum = ValueChecksum::kCrc32c;
  Options off = def;
  off.checksum = ValueChecksum::kNone;
  MustOpen("/with", on).reset();
  MustOpen("/without", off).reset();
  CHECK(Store::Open("/with", off).status().IsInvalidArgument());
  CHECK(Store::Open("/without", on).status().IsInvalidArgument());
  CHECK(MustOpen("/with", def)->value_checksum() == ValueChecksum::kCrc32c);
  CHECK(MustOpen("/without", def)->value_checksum() == ValueChecksum::kNone);
  CHECK(MustOpen("/with", on)->value_checksum() == ValueChecksum::kCrc32c);
  // A damaged or unknown checksum line is Corruption.
  const std::string meta = Raw(env.get(), "/with/.fpk-meta");
  std::string body =
      meta.substr(0, meta.find("crc32c ", meta.find("checksum")));
  body.replace(body.find("checksum crc32c"), 15, "checksum xxhash");
  char crc[9];
  std::snprintf(crc, sizeof(crc), "%08x", MaskCrc(Crc32c(body)));
  Put(env.get(), "/with/.fpk-meta", body + "crc32c " + crc + "\n");
  CHECK(Store::Open("/with", def).status().IsCorruption());
}

TEST_CASE("with compression the checksum option is refused or not applied",
          "[checksum][codec]") {
  auto env = NewMemEnv();
  for (Codec codec : {Codec::kGzip, Codec::kZlib, Codec::kZstd}) {
    INFO(CodecName(codec));
    Options o = MemOptions(env.get());
    o.compression = codec;
    o.checksum = ValueChecksum::kCrc32c;
    const std::string dir = std::string("/z-") + std::string(CodecName(codec));
    const Status refused = Store::Open(dir, o).status();
    CHECK(refused.IsInvalidArgument());
    CHECK(refused.ToString().find("own checksum") != std::string::npos);
    for (ValueChecksum c : {ValueChecksum::kDefault, ValueChecksum::kNone}) {
      o.checksum = c;
      auto store = MustOpen(dir, o);
      CHECK(store->value_checksum() == ValueChecksum::kNone);
      REQUIRE_OK(store->Write("k", "compressed value"));
      // One standard frame, no trailer after it.
      const std::string raw = Raw(env.get(), dir + "/k");
      CHECK(DetectCodec(raw) == codec);
      std::string plain;
      REQUIRE_OK(DecompressString(raw, &plain));
      CHECK(plain == "compressed value");
    }
    CHECK(Raw(env.get(), dir + "/.fpk-meta").find("\nchecksum none\n") !=
          std::string::npos);
  }
}

}  // namespace
}  // namespace kvb::fileperkey
