// Transforms and their inverses: examples, property tests over random keys, and
// validation.
#include "engines/fileperkey/transform.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

namespace kvb::fileperkey {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash - start));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

std::string PathFor(const Transform& t, std::string_view key) {
  std::string out;
  Status s = t.AppendPath(key, 100000, &out);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return out;
}

std::string RandomKey(std::mt19937_64& rng, size_t max_len, bool any_byte) {
  std::uniform_int_distribution<size_t> len(1, max_len);
  const std::string alphabet = "abcAB09._-%+ ~";
  std::string key(len(rng), 'a');
  for (char& c : key) {
    c = any_byte ? static_cast<char>(rng() & 0xff)
                 : alphabet[rng() % alphabet.size()];
  }
  return key;
}

TEST_CASE("layout examples", "[transform]") {
  CHECK(PathFor(Transform::Flat(), "abcdef") == "abcdef");
  CHECK(PathFor(Transform::Blocks(2, 2), "abcdef") == "ab/cd/abcdef");
  // Short keys are padded so every key file sits at the same depth.
  CHECK(PathFor(Transform::Blocks(2, 2), "a") == "a_/__/a");
  CHECK(PathFor(Transform::Blocks(3, 2), "x.y..z") == "x_y/__z/x.y..z");
  const std::string hashed = PathFor(Transform::Hashed(2, 1), "abc");
  REQUIRE(hashed.size() == 2 + 1 + 3);
  CHECK(hashed.substr(3) == "abc");
  CHECK(PathFor(Transform::Flat(KeyEncoding::kEscaped),
                std::string("a\0/b", 4)) == "a%00%2Fb");
  CHECK(PathFor(Transform::Flat(KeyEncoding::kEscaped), "..") == "%2E.");
  CHECK(PathFor(Transform::Flat(KeyEncoding::kEscaped), ".fpk-lock") ==
        "%2Efpk-lock");
}

TEST_CASE(
    "the blocks transform does not let one key become another key's directory",
    "[transform]") {
  // diskv issue #31: with 3-byte blocks, abcabc's directory was abc/abc, the
  // path of key abc.
  const Transform t = Transform::Blocks(3, 2);
  const std::string long_key = PathFor(t, "abcabc");
  const std::string short_key = PathFor(t, "abc");
  CHECK(long_key == "abc/abc/abcabc");
  CHECK(short_key == "abc/___/abc");
  CHECK(long_key.rfind(short_key + "/", 0) != 0);
}

TEST_CASE("escaping round-trips and is canonical", "[transform]") {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; i++) {
    const std::string key = RandomKey(rng, 40, true);
    const std::string name = EscapeKey(key);
    for (char c : name) {
      const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '%' ||
                      c == '-' || c == '_' || c == '.';
      REQUIRE(ok);
    }
    REQUIRE(name[0] != '.');
    Result<std::string> back = UnescapeKey(name);
    REQUIRE(back.ok());
    REQUIRE(*back == key);
  }
  // Names EscapeKey never writes are refused, so no two names decode to one
  // key.
  CHECK_FALSE(UnescapeKey("%61").ok());   // 'a' escaped
  CHECK_FALSE(UnescapeKey("%2f").ok());   // lower-case hex
  CHECK_FALSE(UnescapeKey("a%2").ok());   // truncated
  CHECK_FALSE(UnescapeKey(".abc").ok());  // raw leading '.'
  CHECK_FALSE(UnescapeKey("a+b").ok());   // raw '+'
}

TEST_CASE("inverse(forward(key)) == key for every built-in transform",
          "[transform]") {
  std::mt19937_64 rng(7);
  const std::vector<Transform> transforms = {
      Transform::Flat(KeyEncoding::kEscaped),
      Transform::Blocks(2, 2, KeyEncoding::kEscaped),
      Transform::Hashed(2, 1, KeyEncoding::kEscaped),
      Transform::Blocks(1, 3, KeyEncoding::kEscaped),
      Transform::Flat(),
      Transform::Blocks(2, 2),
      Transform::Hashed(4, 2)};
  for (const Transform& t : transforms) {
    INFO(t.Describe());
    const bool escaped = t.encoding() == KeyEncoding::kEscaped;
    for (int i = 0; i < 500; i++) {
      // Escaped transforms take any bytes and long keys (split into
      // components).
      const std::string key = escaped
                                  ? RandomKey(rng, i % 10 == 0 ? 900 : 30, true)
                                  : RandomKey(rng, 30, false);
      if (!escaped && !ValidateComponent(key, "key").ok()) continue;
      const std::string path = PathFor(t, key);
      for (const std::string& c : Split(path)) {
        REQUIRE(ValidateComponent(c, "component").ok());
      }
      Result<std::string> back = t.Inverse(Split(path));
      INFO(path);
      REQUIRE(back.ok());
      REQUIRE(*back == key);
      REQUIRE(t.Validate(key, 100000).ok());
    }
  }
}

TEST_CASE("long escaped keys split into '+'-marked components", "[transform]") {
  const Transform t = Transform::Flat(KeyEncoding::kEscaped);
  const std::string key(600, 'k');
  const std::vector<std::string> comps = Split(PathFor(t, key));
  REQUIRE(comps.size() == 3);
  CHECK(comps[0].back() == '+');
  CHECK(comps[1].front() == '+');
  CHECK(comps[1].back() == '+');
  CHECK(comps[2].front() == '+');
  for (const auto& c : comps) CHECK(c.size() <= kMaxNameBytes);
  // A key equal to the first chunk is a file, never the continuation directory.
  const std::string chunk(254, 'k');
  CHECK(PathFor(t, chunk) != comps[0]);
  // Escapes are never cut in two.
  const std::string binary(300, '\x01');
  for (const auto& c : Split(PathFor(t, binary))) {
    std::string body = c;
    if (!body.empty() && body.front() == '+') body.erase(0, 1);
    if (!body.empty() && body.back() == '+') body.pop_back();
    CHECK(body.size() % 3 == 0);
  }
}

TEST_CASE("hostile keys are InvalidArgument", "[transform][validation]") {
  const std::string nul("a\0b", 3);
  const std::vector<std::string> hostile = {
      "",          "..", ".",   "../x",      "/etc/passwd",
      "a/../../b", nul,  "a/b", ".fpk-meta", std::string(256, 'x')};
  for (const Transform& t :
       {Transform::Flat(), Transform::Blocks(2, 2), Transform::Hashed(2, 1)}) {
    for (const std::string& key : hostile) {
      INFO(t.Describe() << " key=" << key);
      std::string out;
      Status s = t.AppendPath(key, 4000, &out);
      CHECK(s.IsInvalidArgument());
      CHECK(out.empty());
      CHECK(t.Validate(key, 4000).IsInvalidArgument());
    }
  }
  // The escaped encoding accepts the same bytes, but only as harmless names.
  const Transform esc = Transform::Flat(KeyEncoding::kEscaped);
  for (const std::string& key : hostile) {
    if (key.empty()) continue;
    std::string out;
    REQUIRE(esc.AppendPath(key, 100000, &out).ok());
    CHECK(out.find("..") != 0);
    CHECK(out.find('\0') == std::string::npos);
    CHECK(out.front() != '/');
    CHECK(out.front() != '.');
  }
  std::string none;
  CHECK(esc.AppendPath("", 100, &none).IsInvalidArgument());
}

TEST_CASE("path length limit", "[transform][validation]") {
  const Transform t = Transform::Flat(KeyEncoding::kEscaped);
  std::string out;
  const std::string key(80, '\xff');  // escapes to 240 bytes
  CHECK(t.AppendPath(key, 239, &out).IsInvalidArgument());
  CHECK(out.empty());
  CHECK(t.AppendPath(key, 240, &out).ok());
  CHECK(t.Validate(key, 239).IsInvalidArgument());
  CHECK(t.Validate(key, 240).ok());
  // Split names: Validate agrees with AppendPath at the exact limit.
  const std::string long_key(100, '\xff');
  std::string path;
  REQUIRE(t.AppendPath(long_key, 100000, &path).ok());
  CHECK(t.Validate(long_key, path.size()).ok());
  CHECK(t.Validate(long_key, path.size() - 1).IsInvalidArgument());
}

TEST_CASE("user transforms are validated and inverted", "[transform]") {
  const Transform bad = Transform::Function(
      [](std::string_view) { return std::vector<std::string>{".."}; });
  std::string out;
  CHECK(bad.AppendPath("k", 1000, &out).IsInvalidArgument());
  const Transform throwing =
      Transform::Function([](std::string_view) -> std::vector<std::string> {
        throw std::runtime_error("boom");
      });
  CHECK(throwing.AppendPath("k", 1000, &out).IsInvalidArgument());

  // The README's advanced example: keys with slashes stored as nested
  // directories + ".txt".
  const Transform adv = Transform::Advanced(
      [](std::string_view key) {
        PathKey pk;
        size_t start = 0;
        while (true) {
          size_t slash = key.find('/', start);
          if (slash == std::string_view::npos) break;
          pk.dirs.emplace_back(key.substr(start, slash - start));
          start = slash + 1;
        }
        pk.file_name = std::string(key.substr(start)) + ".txt";
        return pk;
      },
      [](const PathKey& pk) -> Result<std::string> {
        const std::string& f = pk.file_name;
        if (f.size() < 5 || f.compare(f.size() - 4, 4, ".txt") != 0) {
          return Status::InvalidArgument("not a .txt file");
        }
        std::string key;
        for (const auto& d : pk.dirs) key += d + "/";
        return key + f.substr(0, f.size() - 4);
      });
  CHECK(PathFor(adv, "alpha/beta/gamma") == "alpha/beta/gamma.txt");
  Result<std::string> back = adv.Inverse({"alpha", "beta", "gamma.txt"});
  REQUIRE(back.ok());
  CHECK(*back == "alpha/beta/gamma");
  // diskv defect D4: the inverse is never asked about directories, and a
  // foreign file is an error, not a panic.
  CHECK_FALSE(adv.Inverse({"README"}).ok());
  CHECK(adv.AppendPath("a/../../b", 1000, &out).IsInvalidArgument());
  CHECK(adv.AppendPath("/etc/passwd", 1000, &out)
            .IsInvalidArgument());  // empty directory
}

TEST_CASE("CheckValid refuses bad parameters and missing functions",
          "[transform]") {
  CHECK(Transform::Blocks(2, 2).CheckValid().ok());
  CHECK(Transform::Blocks(0, 2).CheckValid().IsInvalidArgument());
  CHECK(Transform::Hashed(4, 5).CheckValid().IsInvalidArgument());
  CHECK(Transform::Function(nullptr).CheckValid().IsInvalidArgument());
  CHECK(Transform::Advanced([](std::string_view) { return PathKey{}; }, nullptr)
            .CheckValid()
            .IsInvalidArgument());
}

TEST_CASE("Parse accepts the documented forms only", "[transform]") {
  CHECK(Transform::Parse("flat", KeyEncoding::kPlain).ok());
  REQUIRE(Transform::Parse("blocks:2:2", KeyEncoding::kPlain).ok());
  CHECK(Transform::Parse("blocks:2:2", KeyEncoding::kPlain)->Describe() ==
        "blocks:2:2");
  CHECK(Transform::Parse("hash:2:1", KeyEncoding::kEscaped)->Describe() ==
        "hash:2:1");
  for (const char* bad :
       {"", "blocks", "blocks:2", "blocks:0:2", "blocks:2:x", "hash:4:5",
        "tree:1:1", "blocks:2:2:2", "blocks:-1:2"}) {
    INFO(bad);
    CHECK(Transform::Parse(bad, KeyEncoding::kPlain)
              .status()
              .IsInvalidArgument());
  }
}

TEST_CASE("prefix directories narrow walks for the blocks layout",
          "[transform]") {
  const Transform t = Transform::Blocks(2, 2);
  bool impossible = false;
  CHECK(t.PrefixDirs("abc", &impossible) == std::vector<std::string>{"ab"});
  CHECK(t.PrefixDirs("abcdef", &impossible) ==
        std::vector<std::string>{"ab", "cd"});
  CHECK(t.PrefixDirs("a", &impossible).empty());
  CHECK_FALSE(impossible);
  t.PrefixDirs("a/b", &impossible);
  CHECK(impossible);
  CHECK(Transform::Hashed(2, 1).PrefixDirs("abcd", &impossible).empty());
}

}  // namespace
}  // namespace kvb::fileperkey
