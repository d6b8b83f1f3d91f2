// Format-level tests: value codecs, record framing, the scanner, and go-persist
// files written by hand following specs/go-persist.md §3.
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/typedmap/log_format.h"
#include "engines/typedmap/tests/test_helpers.h"
#include "engines/typedmap/typedmap.h"
#include "engines/typedmap/value_codec.h"

namespace kvb::typedmap {
namespace {

using testutil::MemOptions;
using testutil::ReadFile;
using testutil::WriteFile;

// prefix + decimal n, written out because g++ 12 warns falsely (-Wrestrict, GCC
// bug 105651) on "literal" + std::to_string(n).
std::string Cat(std::string_view prefix, uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

struct User {
  std::string Name;
  std::string Email;
  int Age = 0;
  bool operator==(const User&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, Name, Email, Age)

struct Meta {
  int64_t CreatedAt = 0;
  std::vector<std::string> Tags;
  bool operator==(const Meta&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Meta, CreatedAt, Tags)

std::string EncodeString(const std::string& s) {
  std::string out;
  REQUIRE_OK(ValueCodec<std::string>::Encode(s, &out));
  return out;
}

TEST_CASE("JSON string codec round-trips every kind of text") {
  std::vector<std::string> samples = {
      "",
      "plain",
      "quote\" back\\slash",
      "ctl\n\t\r\b\f\x01\x1f end",
      std::string("nul\0x", 5),
      "utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
      "<a&b>",
      std::string(10000, 'z')};
  for (const auto& s : samples) {
    std::string json = EncodeString(s);
    CHECK(json.find('\n') == std::string::npos);
    std::string back;
    REQUIRE_OK(ValueCodec<std::string>::Decode(json, &back));
    CHECK(back == s);
    // nlohmann agrees on the meaning of what we wrote.
    CHECK(nlohmann::json::parse(json).get<std::string>() == s);
  }
}

// The exact bytes matter, not only the meaning: go-persist's readers and diffs
// of logs see them. Short escapes where JSON has one, \u00XX for the other
// control bytes, '/' never escaped on output.
TEST_CASE("JSON string codec writes and reads the short escapes byte for byte") {
  CHECK(EncodeString("\"\\\b\f\n\r\t\x01\x1f/") ==
        "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f/\"");
  std::string out;
  REQUIRE(DecodeJsonString("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", &out));
  CHECK(out == "\"\\/\b\f\n\r\t");
}

TEST_CASE(
    "JSON string decoder accepts Go's escapes and rejects malformed text") {
  std::string out;
  // What Go's encoder writes for "<a&b>\n" and a surrogate pair.
  REQUIRE(DecodeJsonString("\"\\u003ca\\u0026b\\u003e\\n\"", &out));
  CHECK(out == "<a&b>\n");
  REQUIRE(DecodeJsonString("\"\\ud83d\\ude00\\/\"", &out));
  CHECK(out == "\xf0\x9f\x98\x80/");
  REQUIRE(DecodeJsonString("  \"x\"\r", &out));
  CHECK(out == "x");
  for (std::string bad : {"", "\"", "x", "\"a\"b\"", "\"\\x\"", "\"\\ud800\"",
                          "\"\\u12\"", "\"raw\nlf\"", "\"\xff\"", "\"a\\\""}) {
    INFO(bad);
    CHECK_FALSE(DecodeJsonString(bad, &out));
  }
}

TEST_CASE("std::string values must be UTF-8; Bytes carry anything") {
  std::string out;
  CHECK(ValueCodec<std::string>::Encode("\xff\xfe", &out).IsInvalidArgument());
  CHECK_FALSE(IsValidUtf8("\xc0\x80"));          // overlong
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK(IsValidUtf8("\xf4\x8f\xbf\xbf"));

  std::string binary;
  for (int i = 0; i < 256; i++) binary.push_back(static_cast<char>(i));
  for (const std::string& data :
       {std::string(), std::string("text \xc3\xa9"), binary,
        std::string("\x80"), std::string("ab\xff")}) {
    std::string json;
    REQUIRE_OK(ValueCodec<Bytes>::Encode(Bytes{data}, &json));
    CHECK(json.find('\n') == std::string::npos);
    Bytes back;
    REQUIRE_OK(ValueCodec<Bytes>::Decode(json, &back));
    CHECK(back.data == data);
  }
  std::string json;
  REQUIRE_OK(ValueCodec<Bytes>::Encode(Bytes{"\xff"}, &json));
  CHECK(json == "{\"b64\":\"/w==\"}");
  Bytes back;
  REQUIRE_OK(ValueCodec<Bytes>::Decode("{ \"b64\" : \"/w==\" }", &back));
  CHECK(back.data == "\xff");
  CHECK(ValueCodec<Bytes>::Decode("{\"b64\":\"!!\"}", &back)
            .IsInvalidArgument());  // JSON, but not bytes: a schema error
  CHECK(ValueCodec<Bytes>::Decode("12", &back).IsInvalidArgument());
  CHECK(ValueCodec<Bytes>::Decode("12x", &back).IsCorruption());  // not JSON
}

TEST_CASE("base64 round-trips all lengths") {
  std::string data;
  for (int n = 0; n < 40; n++) {
    std::string enc, dec;
    AppendBase64(data, &enc);
    REQUIRE(DecodeBase64(enc, &dec));
    CHECK(dec == data);
    data.push_back(static_cast<char>(n * 37));
  }
  std::string dec;
  CHECK_FALSE(DecodeBase64("abc", &dec));
  CHECK_FALSE(DecodeBase64("ab$=", &dec));
}

TEST_CASE("nlohmann structs encode and decode through the default codec") {
  User u{"Alice", "a@x", 28};
  std::string json;
  REQUIRE_OK(ValueCodec<User>::Encode(u, &json));
  User back;
  REQUIRE_OK(ValueCodec<User>::Decode(json, &back));
  CHECK(back == u);
  CHECK(ValueCodec<User>::Decode("{\"Name\":1}", &back).IsInvalidArgument());
  CHECK(ValueCodec<User>::Decode("not json", &back).IsCorruption());
  int n = 0;
  REQUIRE_OK(ValueCodec<int>::Decode("42", &n));
  CHECK(n == 42);
}

TEST_CASE(
    "key and map name validation follows go-persist plus the separator rule") {
  CHECK_OK(ValidateKey(""));
  CHECK_OK(ValidateKey("a:b c/\xc3\xa9"));
  CHECK(ValidateKey("a\nb").IsInvalidArgument());
  CHECK(ValidateKey(std::string("a\0b", 3)).IsInvalidArgument());
  CHECK(ValidateKey("\x7f").IsInvalidArgument());
  CHECK(ValidateKey("x\xc2\x85y").IsInvalidArgument());  // U+0085 NEL
  CHECK_OK(ValidateMapName("users"));
  CHECK(ValidateMapName("a:b").IsInvalidArgument());
}

TEST_CASE("records are framed, checksummed and scanned back") {
  auto env = NewMemEnv();
  for (LogFormat f : {LogFormat::kNative, LogFormat::kLegacy}) {
    std::string log = std::string(HeaderFor(f)) + "\n";
    size_t start = BeginRecord(f, 'S', "users:", "alice", &log);
    log.append("{\"Age\":3}");
    FinishRecord(f, start, &log);
    start = BeginRecord(f, 'D', "users:", "bob", &log);
    FinishRecord(f, start, &log);
    if (f == LogFormat::kNative) {
      // CRC-32C of the legacy spelling of the record.
      std::string legacy = "S users:alice\n{\"Age\":3}\n";
      char hex[9];
      snprintf(hex, sizeof(hex), "%08x", Crc32c(legacy));
      std::string needle = "S ";
      needle.append(hex).append(" users:alice\n{\"Age\":3}\n");
      CHECK(log.find(needle) != std::string::npos);
    } else {
      CHECK(log == "go-persist 1\nS users:alice\n{\"Age\":3}\nD users:bob\n\n");
    }
    WriteFile(env.get(), "/log", log);
    auto file = env->OpenFile("/log", OpenMode::kReadOnly);
    REQUIRE(file.ok());
    Header h;
    REQUIRE_OK(ReadHeader(**file, log.size(), &h));
    CHECK(h.format == f);
    std::vector<std::string> seen;
    ScanResult r;
    REQUIRE_OK(ScanLog(
        **file, f, h.size, log.size(),
        [&](const RecordView& rec) {
          seen.push_back(std::string(1, rec.op) + "|" + std::string(rec.key) +
                         "|" + std::string(rec.value));
          return Status::OK();
        },
        &r));
    CHECK(r.stop == ScanResult::Stop::kEnd);
    CHECK(r.records == 2);
    CHECK(r.good_end == log.size());
    CHECK(seen == std::vector<std::string>{"S|users:alice|{\"Age\":3}",
                                           "D|users:bob|"});
  }
}

TEST_CASE("the scanner tells a torn tail from a corrupt record") {
  auto env = NewMemEnv();
  std::string log = std::string(kNativeHeader) + "\n";
  std::vector<size_t> ends;
  for (int i = 0; i < 3; i++) {
    size_t start = BeginRecord(LogFormat::kNative, 'S', ":", Cat("k", i), &log);
    log.append("\"v\"");
    FinishRecord(LogFormat::kNative, start, &log);
    ends.push_back(log.size());
  }
  auto scan = [&](const std::string& data, ScanResult* r) {
    WriteFile(env.get(), "/log", data);
    auto file = env->OpenFile("/log", OpenMode::kReadOnly);
    REQUIRE(file.ok());
    REQUIRE_OK(ScanLog(
        **file, LogFormat::kNative, kNativeHeader.size() + 1, data.size(),
        [](const RecordView&) { return Status::OK(); }, r));
  };
  ScanResult r;
  // Every cut inside the last record is a torn tail ending at the second
  // record.
  for (size_t cut = ends[1] + 1; cut < ends[2]; cut++) {
    scan(log.substr(0, cut), &r);
    CHECK(r.stop == ScanResult::Stop::kTornTail);
    CHECK(r.good_end == ends[1]);
    CHECK(r.records == 2);
  }
  // A flipped byte inside the middle record is corruption at its offset.
  std::string bad = log;
  bad[ends[0] + 14] ^= 0x01;
  scan(bad, &r);
  CHECK(r.stop == ScanResult::Stop::kCorrupt);
  CHECK(r.good_end == ends[0]);
  CHECK(r.error.find("checksum") != std::string::npos);
}

TEST_CASE("headers: foreign files are refused, torn headers count as empty") {
  auto env = NewMemEnv();
  auto check = [&](const std::string& data, bool ok, bool empty) {
    WriteFile(env.get(), "/h", data);
    auto file = env->OpenFile("/h", OpenMode::kReadOnly);
    REQUIRE(file.ok());
    Header h;
    Status s = ReadHeader(**file, data.size(), &h);
    INFO(data);
    CHECK(s.ok() == ok);
    if (ok) CHECK(h.empty == empty);
    if (!ok) CHECK(s.IsCorruption());
  };
  check("", true, true);
  check("kvb-typ", true, true);
  check("go-persist 1\r\n", true, false);
  check("kvb-typedmap 1\n", true, false);
  check("SQLite format 3\n", false, false);
  check("garbage without newline", false, false);
  check("kvb-typedmap 2\n", true, false);  // version 2: batch records
  check("kvb-typedmap 3\n", false, false);
}

// A file laid out exactly as go-persist writes it (spec §3.1 example, then
// typed maps).
TEST_CASE("a go-persist file opens and decodes into the same structs") {
  auto env = NewMemEnv();
  std::string file =
      "go-persist 1\n"
      "S users:alice\n"
      "{\"Name\":\"Alice\",\"Email\":\"alice@example.com\",\"Age\":28}\n"
      "S users:bob\n"
      "{\"Name\":\"Bob \\u003cb\\u003e\",\"Email\":\"\",\"Age\":40}\n"
      "S meta:m1\n"
      "{\"CreatedAt\":1718557123,\"Tags\":[\"a\",\"b\\tc\"]}\n"
      "D users:bob\n"
      "\n"
      "S :a\n\"1\"\n"
      "S :a\n\"2\"\n"
      "S :b\n\"x\"\n"
      "D :b\n\n"
      "S users:carol\n"
      "{\"Name\":\"Carol\",\"Email\":\"c@x\",\"Age\":33}\n";
  WriteFile(env.get(), "/gp.db", file);
  {
    Store store(MemOptions(env.get()));
    auto users = store.Map<User>("users");
    auto meta = store.Map<Meta>("meta");
    REQUIRE(users.ok());
    REQUIRE(meta.ok());
    REQUIRE_OK(store.Open("/gp.db"));
    User u;
    REQUIRE_OK((*users)->Get("alice", &u));
    CHECK(u == User{"Alice", "alice@example.com", 28});
    CHECK((*users)->Get("bob", &u).IsNotFound());
    REQUIRE_OK((*users)->Get("carol", &u));
    CHECK(u.Age == 33);
    Meta m;
    REQUIRE_OK((*meta)->Get("m1", &m));
    CHECK(m == Meta{1718557123, {"a", "b\tc"}});
    // Unregistered namespaces are kept; a map registered after Open adopts
    // them.
    auto single = store.Map<std::string>("");
    REQUIRE(single.ok());
    std::string s;
    REQUIRE_OK((*single)->Get("a", &s));
    CHECK(s == "2");
    CHECK((*single)->Get("b", &s).IsNotFound());
    CHECK(store.GetStats().format == LogFormat::kLegacy);
    // Appends keep the go-persist format, so go-persist can still read the
    // file.
    REQUIRE_OK((*users)->Set("dave", User{"Dave", "d@x", 1}));
    REQUIRE_OK(store.Close());
  }
  std::string after = ReadFile(env.get(), "/gp.db");
  CHECK(after.starts_with(file));
  CHECK(after.substr(file.size()) ==
        "S users:dave\n{\"Age\":1,\"Email\":\"d@x\",\"Name\":\"Dave\"}\n");
}

TEST_CASE("go-persist files: routing of colon-less keys, orphans, upgrade") {
  auto env = NewMemEnv();
  std::string file =
      "go-persist 1\n"
      "S system_config\n{\"Debug\":true,\"MaxConnections\":100}\n"
      "S other:k\n\"orphan\"\n"
      "S other:gone\n\"x\"\n"
      "D other:gone\n\n";
  WriteFile(env.get(), "/gp.db", file);
  {
    Store store(MemOptions(env.get()));
    REQUIRE_OK(store.Open("/gp.db"));
    auto cfg = store.Get<nlohmann::json>("system_config");
    REQUIRE(cfg.ok());
    CHECK((*cfg)["MaxConnections"] == 100);
    // Defect 8 fixed: a loaded string is decoded, not returned with its quotes.
    auto orphan = store.Get<std::string>("other:k");
    REQUIRE(orphan.ok());
    CHECK(*orphan == "orphan");
    CHECK(store.Get<std::string>("other:gone").status().IsNotFound());
    CHECK(store.Get<int>("other:k").status().IsInvalidArgument());
    // Registering "other" adopts its records; store-level access to them is
    // then refused.
    auto other = store.Map<std::string>("other");
    REQUIRE(other.ok());
    std::string v;
    REQUIRE_OK((*other)->Get("k", &v));
    CHECK(v == "orphan");
    CHECK(store.Set("other:k2", 1).IsInvalidArgument());
    CHECK(store.Get<std::string>("other:k").status().IsNotFound());
    // A map whose type does not fit its records cannot adopt them.
    CHECK_FALSE(store.Map<int>("").ok());
    REQUIRE_OK(store.Close());
  }
  {
    Options o = MemOptions(env.get());
    o.upgrade_legacy_format = true;
    Store store(o);
    auto other = store.Map<std::string>("other");
    REQUIRE_OK(store.Open("/gp.db"));
    CHECK(store.GetStats().format == LogFormat::kNative);
    REQUIRE_OK(store.Close());
  }
  std::string upgraded = ReadFile(env.get(), "/gp.db");
  CHECK(upgraded.starts_with("kvb-typedmap 1\n"));
  CHECK(upgraded.find("other:k\n\"orphan\"\n") != std::string::npos);
  CHECK(upgraded.find("gone") == std::string::npos);
}

TEST_CASE("go-persist's own failure cases are handled") {
  auto env = NewMemEnv();
  Options o = MemOptions(env.get());
  // Defect 1: a torn record glued to the next append ("\"2S :c") cannot be told
  // from a torn tail without a checksum, so Open reports it; recover keeps what
  // came before.
  WriteFile(env.get(), "/glued.db",
            "go-persist 1\nS :a\n\"1\"\nS :b\n\"2S :c\n\"3\"\n");
  {
    Store store(o);
    auto m = store.Map<std::string>("");
    Status s = store.Open("/glued.db");
    CHECK(s.IsCorruption());
  }
  {
    Options r = o;
    r.recover = true;
    Store store(r);
    auto m = store.Map<std::string>("");
    REQUIRE_OK(store.Open("/glued.db"));
    std::string v;
    REQUIRE_OK((*m)->Get("a", &v));
    CHECK((*m)->Size() == 1);
    REQUIRE_OK(store.Close());
    CHECK(ReadFile(env.get(), "/glued.db") == "go-persist 1\nS :a\n\"1\"\n");
    CHECK(ReadFile(env.get(), "/glued.db.corrupt") == "S :b\n\"2S :c\n\"3\"\n");
  }
  // The same with an existing key: its earlier value survives the bad record.
  WriteFile(env.get(), "/glued2.db",
            "go-persist 1\nS :a\n\"1\"\nS :a\n\"2S :c\n\"3\"\n");
  {
    Options r = o;
    r.recover = true;
    Store store(r);
    auto m = store.Map<std::string>("");
    REQUIRE_OK(store.Open("/glued2.db"));
    std::string v;
    REQUIRE_OK((*m)->Get("a", &v));
    CHECK(v == "1");
  }
  // Defect 2: lines of any length read back (go-persist fails at 4096 bytes).
  std::string big(100000, 'q');
  WriteFile(env.get(), "/big.db", "go-persist 1\nS :big\n\"" + big + "\"\n");
  {
    Store store(o);
    auto m = store.Map<std::string>("");
    REQUIRE_OK(store.Open("/big.db"));
    std::string v;
    REQUIRE_OK((*m)->Get("big", &v));
    CHECK(v == big);
  }
}

struct Person {
  std::string name;
  int age = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Person, name, age)

// The example in FORMAT.md, byte for byte (its CRCs were computed
// independently).
TEST_CASE("FORMAT.md's example is what the store writes") {
  auto env = NewMemEnv();
  {
    Store store(MemOptions(env.get()));
    auto users = store.Map<Person>("users");
    REQUIRE_OK(store.Open("/db"));
    REQUIRE_OK((*users)->Set("alice", Person{"Alice", 28}));
    REQUIRE_OK((*users)->Delete("alice"));
    REQUIRE_OK(store.Close());
  }
  CHECK(ReadFile(env.get(), "/db") ==
        "kvb-typedmap 1\n"
        "S e7b15fcb users:alice\n"
        "{\"age\":28,\"name\":\"Alice\"}\n"
        "D 52d88700 users:alice\n"
        "\n");
}

}  // namespace
}  // namespace kvb::typedmap
