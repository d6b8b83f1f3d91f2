// Pluggable compression (diskv's Compression interface): the built-in codecs
// behind the interface, zlib with a preset dictionary (diskv's
// NewZlibCompressionLevelDict) round-tripping and opening a tree of files
// written that way by hand, a wrong or missing dictionary as a clear
// Corruption (never garbage), and a user implementation.
#include "engines/fileperkey/compression.h"

#include <zlib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>

#include "core/testing/test_util.h"
#include "engines/fileperkey/fileperkey.h"

namespace kvb::fileperkey {
namespace {

const std::string kDict =
    "\"name\":\"\",\"email\":\"\",\"created\":\"2021-\",\"tags\":[]";
const std::string kOtherDict = "a completely different dictionary";

std::unique_ptr<Store> MustOpen(const std::string& dir, const Options& o) {
  Result<std::unique_ptr<Store>> s = Store::Open(dir, o);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(*s);
}

std::shared_ptr<const Compression> Dict(const std::string& dict) {
  auto c = ZlibDictCompression(9, dict);
  REQUIRE(c.ok());
  return *c;
}

// A zlib stream made with plain zlib calls, as Go's zlib.NewWriterLevelDict
// makes it (RFC 1950 with FDICT and the dictionary's Adler-32).
std::string DeflateWithDict(const std::string& value, const std::string& dict) {
  z_stream zs{};
  REQUIRE(deflateInit(&zs, 6) == Z_OK);
  REQUIRE(deflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(dict.data()),
                               static_cast<uInt>(dict.size())) == Z_OK);
  std::string out(deflateBound(&zs, value.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(value.data()));
  zs.avail_in = static_cast<uInt>(value.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Value(int i) {
  return "{\"name\":\"user" + std::to_string(i) +
         "\",\"email\":\"u@example.com\",\"created\":\"2021-11-10\",\"tags\":["
         "]}";
}

TEST_CASE("zlib with a preset dictionary round-trips through the store",
          "[store][compression]") {
  testing::TempDir tmp;
  Options o;
  o.compressor = Dict(kDict);
  {
    auto store = MustOpen(tmp.path(), o);
    for (int i = 0; i < 50; i++)
      REQUIRE_OK(store->Write("k" + std::to_string(i), Value(i)));
  }
  auto store = MustOpen(tmp.path(), o);
  for (int i = 0; i < 50; i++) {
    std::string v;
    REQUIRE_OK(store->Read("k" + std::to_string(i), &v));
    CHECK(v == Value(i));
  }
  // On disk: a zlib stream with FDICT set and the dictionary's id, which
  // plain zlib inflates with the dictionary.
  Result<std::string> raw =
      Env::Default()->ReadFileToString(*store->PathOf("k7"));
  REQUIRE(raw.ok());
  REQUIRE(raw->size() > 6);
  CHECK(DetectCodec(*raw) == Codec::kZlib);
  CHECK((static_cast<unsigned char>((*raw)[1]) & 0x20) != 0);  // FDICT
  z_stream zs{};
  REQUIRE(inflateInit(&zs) == Z_OK);
  std::string out(4096, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(raw->data());
  zs.avail_in = static_cast<uInt>(raw->size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(inflate(&zs, Z_FINISH) == Z_NEED_DICT);
  REQUIRE(inflateSetDictionary(&zs,
                               reinterpret_cast<const Bytef*>(kDict.data()),
                               static_cast<uInt>(kDict.size())) == Z_OK);
  REQUIRE(inflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  CHECK(out == Value(7));
  // Streaming reads decompress with the dictionary too.
  auto stream = store->ReadStream("k9");
  REQUIRE(stream.ok());
  std::string streamed;
  REQUIRE_OK(ReadAll(stream->get(), &streamed));
  CHECK(streamed == Value(9));
}

TEST_CASE("a diskv tree written with a zlib dictionary opens",
          "[store][compression][diskv]") {
  // diskv's layout with its default (flat) transform: BASE/<key>, each file
  // the zlib stream of the value; no .fpk-meta.
  testing::TempDir tmp;
  for (int i = 0; i < 20; i++) {
    REQUIRE_OK(Env::Default()->WriteFileAtomically(
        tmp.Sub("key" + std::to_string(i)), DeflateWithDict(Value(i), kDict)));
  }
  Options o;
  o.compressor = Dict(kDict);
  o.index = true;
  auto store = MustOpen(tmp.path(), o);
  CHECK(store->value_checksum() == ValueChecksum::kNone);
  for (int i = 0; i < 20; i++) {
    std::string v;
    REQUIRE_OK(store->Read("key" + std::to_string(i), &v));
    CHECK(v == Value(i));
  }
  REQUIRE_OK(store->WaitForIndex());
  CHECK(store->stats().index_keys == 20);
}

TEST_CASE("a wrong or missing dictionary is a clear Corruption, not garbage",
          "[store][compression]") {
  testing::TempDir tmp;
  Options o;
  o.compressor = Dict(kDict);
  REQUIRE_OK(MustOpen(tmp.path(), o)->Write("k", Value(1)));
  {
    Options wrong;
    wrong.compressor = Dict(kOtherDict);
    auto store = MustOpen(tmp.path(), wrong);
    std::string v = "caller's bytes";
    const Status s = store->Read("k", &v);
    CHECK(s.IsCorruption());
    CHECK(s.ToString().find("wrong zlib dictionary") != std::string::npos);
    CHECK(v.empty());  // nothing half-decoded is handed out
    auto stream = store->ReadStream("k");
    REQUIRE(stream.ok());
    std::string out;
    const Status r = ReadAll(stream->get(), &out);
    CHECK(r.IsCorruption());
    CHECK(out.empty());
  }
  {
    Options none;
    none.compression = Codec::kZlib;  // built-in zlib: no dictionary
    auto store = MustOpen(tmp.path(), none);
    std::string v;
    const Status s = store->Read("k", &v);
    CHECK(s.IsCorruption());
    CHECK(s.ToString().find("needs a preset dictionary") != std::string::npos);
  }
  // The dictionary variant still reads plain zlib, gzip and zstd frames.
  {
    Options gz;
    gz.compression = Codec::kGzip;
    auto store = MustOpen(tmp.path(), gz);
    REQUIRE_OK(store->Write("g", "gzipped"));
  }
  auto store = MustOpen(tmp.path(), o);
  std::string v;
  REQUIRE_OK(store->Read("g", &v));
  CHECK(v == "gzipped");
}

TEST_CASE("bad dictionary options are refused", "[compression]") {
  CHECK(ZlibDictCompression(6, "").status().IsInvalidArgument());
  CHECK(ZlibDictCompression(10, kDict).status().IsInvalidArgument());
  CHECK(BuiltinCompression(Codec::kNone, 0).status().IsInvalidArgument());
  CHECK(BuiltinCompression(Codec::kZstd, 99).status().IsInvalidArgument());
  auto c = ZlibDictCompression(0, kDict);
  REQUIRE(c.ok());
  CHECK((*c)->Describe().find("dictionary 0x") != std::string::npos);
}

// A user implementation: wraps a built-in codec and counts its use.
class CountingCompression final : public Compression {
 public:
  explicit CountingCompression(std::shared_ptr<const Compression> inner)
      : inner_(std::move(inner)) {}
  mutable std::atomic<int> writers{0};
  mutable std::atomic<int> readers{0};

  std::string Describe() const override {
    return "counting " + inner_->Describe();
  }
  Codec codec() const override { return inner_->codec(); }
  Result<std::unique_ptr<ValueWriter>> NewWriter(
      std::unique_ptr<ValueWriter> dst) const override {
    writers++;
    return inner_->NewWriter(std::move(dst));
  }
  std::unique_ptr<ValueReader> NewReader(
      std::unique_ptr<ValueReader> src) const override {
    readers++;
    return inner_->NewReader(std::move(src));
  }

 private:
  std::shared_ptr<const Compression> inner_;
};

TEST_CASE("a user Compression is used for every write and read",
          "[store][compression]") {
  auto env = NewMemEnv();
  auto inner = BuiltinCompression(Codec::kZstd, 3);
  REQUIRE(inner.ok());
  auto counting = std::make_shared<CountingCompression>(*inner);
  Options o;
  o.env = env.get();
  o.compressor = counting;
  auto store = MustOpen("/s", o);
  REQUIRE_OK(store->Write("a", "alpha"));
  REQUIRE_OK(store->Write("b", std::string(100000, 'b')));
  std::string v;
  REQUIRE_OK(store->Read("a", &v));
  CHECK(v == "alpha");
  auto stream = store->ReadStream("b");
  REQUIRE(stream.ok());
  v.clear();  // ReadAll appends
  REQUIRE_OK(ReadAll(stream->get(), &v));
  CHECK(v == std::string(100000, 'b'));
  CHECK(counting->writers.load() == 2);
  CHECK(counting->readers.load() == 2);
  // Compressed with the store's own checksum: refused, as for the codecs.
  o.checksum = ValueChecksum::kCrc32c;
  CHECK(Store::Open("/t", o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace kvb::fileperkey
