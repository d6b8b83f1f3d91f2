// A log written by the real go-persist (../shared/fixtures/go-persist; see its
// README): typedmap opens a copy with C++ mirrors of the Go types and reads
// back exactly what go-persist reads back (expected.json); what typedmap then
// appends still parses by go-persist's reader rules.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/typedmap/go_compat.h"
#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap {
namespace {

// The Go types of the fixture's README, mirrored.
struct Address {
  std::string street;
  std::string city;
};
KVB_GO_STRUCT(Address, KVB_GO_FIELD(street, "street"),
              KVB_GO_FIELD(city, "city,omitempty"))

struct Account {
  int64_t id = 0;
  std::string name;
  std::string email;
  std::vector<std::string> tags;
  std::map<std::string, int> limits;
  std::vector<uint8_t> avatar;
  go::Time created;
  std::optional<Address> home;
  double balance = 0;
  bool active = false;
  uint64_t counter = 0;
  std::optional<std::string> nickname;
  std::map<std::string, std::string> extra;
};
KVB_GO_STRUCT(Account, KVB_GO_FIELD(id, "id"), KVB_GO_FIELD(name, "name"),
              KVB_GO_FIELD(email, "email,omitempty"),
              KVB_GO_FIELD(tags, "tags"), KVB_GO_FIELD(limits, "limits"),
              KVB_GO_FIELD(avatar, "avatar,omitempty"),
              KVB_GO_FIELD(created, "created"),
              KVB_GO_FIELD(home, "home,omitempty"),
              KVB_GO_FIELD(balance, "balance"), KVB_GO_FIELD(active, "active"),
              KVB_GO_FIELD(counter, "counter"),
              KVB_GO_FIELD(nickname, "nickname"),
              KVB_GO_FIELD(extra, "extra,omitempty"))

struct Event {
  std::string kind;
  int64_t at = 0;
  double score = 0;
};
KVB_GO_STRUCT(Event, KVB_GO_FIELD(kind, "kind"), KVB_GO_FIELD(at, "at"),
              KVB_GO_FIELD(score, "score"))

using Json = nlohmann::json;

std::string FixtureDir() {
  const char* env = std::getenv("KVB_GO_PERSIST_FIXTURES");
  return env != nullptr ? env : KVB_GO_PERSIST_FIXTURES;
}

// A scratch copy of the fixture log; nullopt if the fixture is missing.
struct Fixture {
  testing::TempDir dir{"kvb-gofixture"};
  std::string log;
  Json expected;
};
std::optional<std::string> LoadFixture(Fixture* f) {
  namespace fs = std::filesystem;
  fs::path src = fs::path(FixtureDir()) / "go-idioms.gpdb";
  fs::path want = fs::path(FixtureDir()) / "expected.json";
  if (!fs::exists(src) || !fs::exists(want)) {
    return "the go-persist fixture is missing (" + src.string() +
           "; set KVB_GO_PERSIST_FIXTURES to the folder holding "
           "go-idioms.gpdb and expected.json)";
  }
  f->log = f->dir.Sub("go-idioms.gpdb");
  fs::copy_file(src, f->log);
  auto text = Env::Default()->ReadFileToString(want.string());
  REQUIRE(text.ok());
  f->expected = Json::parse(*text);
  return std::nullopt;
}

struct Maps {
  std::unique_ptr<Store> store;
  TypedMap<Account>* accounts = nullptr;
  TypedMap<Event>* events = nullptr;
  TypedMap<int64_t>* counters = nullptr;
  TypedMap<std::string>* notes = nullptr;
};
Maps OpenMaps(const std::string& path, Options o = {}) {
  o.background_flush = false;
  Maps m;
  m.store = std::make_unique<Store>(o);
  m.accounts = *m.store->Map<Account>("accounts");
  m.events = *m.store->Map<Event>("events");
  m.counters = *m.store->Map<int64_t>("counters");
  m.notes = *m.store->Map<std::string>("notes");
  REQUIRE_OK(m.store->Open(path));
  return m;
}

// Every key of `map` compared with `want` (key -> Go's JSON of the value): the
// same key set, and each value re-encoded by typedmap equals Go's JSON.
template <typename T>
size_t CompareMap(TypedMap<T>* map, const Json& want, size_t* keys) {
  size_t differences = 0;
  std::set<std::string> seen;
  REQUIRE_OK(map->Range([&](std::string_view key, const T& value) {
    seen.insert(std::string(key));
    std::string json;
    REQUIRE_OK(ValueCodec<T>::Encode(value, &json));
    auto it = want.find(std::string(key));
    bool same = it != want.end() && Json::parse(json) == *it;
    if (!same) {
      differences++;
      UNSCOPED_INFO("key " << key << ": typedmap " << json << ", go-persist "
                           << (it == want.end() ? "absent" : it->dump()));
    }
    return true;
  }));
  for (const auto& [key, value] : want.items()) {
    if (!seen.count(key)) {
      differences++;
      UNSCOPED_INFO("key " << key << " missing in typedmap");
    }
  }
  *keys += want.size();
  return differences;
}

// Field-by-field check of one account against Go's JSON, by hand (not through
// the codec under test).
void CheckAccount(const Account& a, const Json& e) {
  CHECK(a.id == e["id"].get<int64_t>());
  CHECK(a.name == e["name"]);
  CHECK(a.email == e.value("email", std::string()));
  CHECK(a.tags == (e["tags"].is_null()
                       ? std::vector<std::string>()
                       : e["tags"].get<std::vector<std::string>>()));
  CHECK(a.limits.size() == (e["limits"].is_null() ? 0 : e["limits"].size()));
  for (const auto& [k, v] : a.limits) CHECK(e["limits"][k] == v);
  std::string avatar;
  if (e.contains("avatar"))
    REQUIRE(DecodeBase64(e["avatar"].get<std::string>(), &avatar));
  CHECK(std::string(a.avatar.begin(), a.avatar.end()) == avatar);
  std::string created;
  REQUIRE(go::FormatRfc3339(a.created, &created));
  CHECK(created == e["created"]);
  CHECK(a.home.has_value() == e.contains("home"));
  if (a.home) CHECK(a.home->street == e["home"]["street"]);
  CHECK(a.balance == e["balance"].get<double>());
  CHECK(a.active == e["active"].get<bool>());
  CHECK(a.counter == e["counter"].get<uint64_t>());
  CHECK(a.nickname.has_value() == !e["nickname"].is_null());
  if (a.nickname) CHECK(*a.nickname == e["nickname"]);
  CHECK(a.extra.size() == (e.contains("extra") ? e["extra"].size() : 0));
}

TEST_CASE("the real go-persist log reads back as go-persist reads it") {
  Fixture f;
  if (auto missing = LoadFixture(&f)) KVB_SKIP(*missing);
  Maps m = OpenMaps(f.log);
  CHECK(m.store->GetStats().format == LogFormat::kLegacy);
  CHECK(m.accounts->Size() == 52);
  CHECK(m.events->Size() == 50);
  CHECK(m.counters->Size() == 2);
  CHECK(m.notes->Size() == 5);
  size_t keys = 0, differences = 0;
  differences += CompareMap(m.accounts, f.expected["accounts"], &keys);
  differences += CompareMap(m.events, f.expected["events"], &keys);
  differences += CompareMap(m.counters, f.expected["counters"], &keys);
  differences += CompareMap(m.notes, f.expected["notes"], &keys);
  std::printf(
      "go-persist fixture: 4 maps, %zu keys compared, %zu differences\n", keys,
      differences);
  CHECK(keys == 109);
  CHECK(differences == 0);
  REQUIRE_OK(m.accounts->Range([&](std::string_view key, const Account& a) {
    INFO(key);
    CheckAccount(a, f.expected["accounts"][std::string(key)]);
    return true;
  }));
  // A few values spelled out, so a symmetric codec bug cannot hide.
  Account a;
  REQUIRE_OK(m.accounts->Get("acct-002", &a));
  CHECK(a.avatar == std::vector<uint8_t>{0, 1, 2, 0xff, 2});
  CHECK(a.created.unix_seconds == 1740839445);  // 2025-03-01T14:30:45Z
  CHECK(a.created.nanos == 123456789);
  CHECK(a.tags == std::vector<std::string>{"t", "2"});
  CHECK(a.limits.empty());  // null
  CHECK_FALSE(a.nickname.has_value());
  int64_t big = 0;
  REQUIRE_OK(m.counters->Get("big", &big));
  CHECK(big == 4503599627370496);
  std::string html;
  REQUIRE_OK(m.notes->Get("html", &html));
  CHECK(html == "<tag attr=\"1\">&amp;</tag>");
}

// go-persist's reader (wal.go's loadRecords/readRecord at d9fbb53) as rules:
// the header line trimmed is "go-persist 1"; each record is a header line
// "<op> <key>" of at least 3 bytes and a value line, each read with
// bufio.Reader.ReadSlice on a 4096-byte buffer (a longer line fails the open);
// a record cut short by the end of the file ends the load. Returns the error
// go-persist would report ("" if none) and the live full keys -> JSON.
std::string GoPersistLoad(std::string_view text,
                          std::map<std::string, std::string>* live) {
  size_t lf = text.find('\n');
  if (lf == std::string_view::npos) return "EOF reading the header";
  std::string_view header = text.substr(0, lf);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\r'))
    header.remove_suffix(1);
  if (header != "go-persist 1") return "invalid WAL header";
  text.remove_prefix(lf + 1);
  auto read_line = [&](std::string_view* line) -> std::string {
    size_t end = text.find('\n');
    size_t len = end == std::string_view::npos ? text.size() : end + 1;
    if (len > 4096) return "bufio: buffer full";
    if (end == std::string_view::npos) return "EOF";
    *line = text.substr(0, end);
    text.remove_prefix(end + 1);
    return "";
  };
  while (!text.empty()) {
    std::string_view head, value;
    std::string err = read_line(&head);
    if (err == "EOF") return "";  // a partial header ends the load
    if (!err.empty()) return err;
    if (head.size() < 3) return "invalid record header: too short";
    if (head[1] != ' ') return "invalid record header format";
    err = read_line(&value);
    if (err == "EOF") return "";  // an incomplete record ends the load
    if (!err.empty()) return err;
    std::string key(head.substr(2));
    if (head[0] == 'S') (*live)[key] = std::string(value);
    if (head[0] == 'D') live->erase(key);
  }
  return "";
}

TEST_CASE("the fixture itself passes the go-persist reader rules") {
  Fixture f;
  if (auto missing = LoadFixture(&f)) KVB_SKIP(*missing);
  auto text = Env::Default()->ReadFileToString(f.log);
  REQUIRE(text.ok());
  std::map<std::string, std::string> live;
  CHECK(GoPersistLoad(*text, &live) == "");
  CHECK(live.size() == 109);
}

TEST_CASE("appending to a go-persist log keeps it readable by go-persist") {
  Fixture f;
  if (auto missing = LoadFixture(&f)) KVB_SKIP(*missing);
  {
    Maps m = OpenMaps(f.log);
    Account a;
    a.id = 99;
    a.name = "New <one>";
    a.avatar = {0xde, 0xad};
    a.home = Address{"9 Elm St", ""};
    REQUIRE(go::ParseRfc3339("2026-01-02T03:04:05.5+01:00", &a.created));
    REQUIRE_OK(m.accounts->Set("acct-new", a));
    REQUIRE_OK(m.accounts->Delete("acct-003"));
    REQUIRE_OK(
        m.events->Set("ev:new", Event{"open", 7, 0.5}, Durability::kAsync));
    REQUIRE_OK(m.events->Sync());
    REQUIRE_OK(
        m.counters->Update("hits", [](Updater<int64_t>& up) { up.value++; })
            .status());
    REQUIRE_OK(m.notes->Set("ключ", "значение & <b>"));
    // The longest value line go-persist can read: 4095 bytes + LF.
    REQUIRE_OK(m.notes->Set("edge", std::string(4093, 'x')));
    uint64_t size = m.store->GetStats().log_bytes;
    Status s = m.notes->Set("too-long", std::string(4094, 'x'));
    INFO(s.ToString());
    CHECK(s.IsInvalidArgument());
    CHECK(s.ToString().find("line limit") != std::string::npos);
    CHECK(m.notes->Set("too-long", std::string(5000, 'x'), Durability::kAsync)
              .IsInvalidArgument());
    CHECK(m.store->GetStats().log_bytes == size);
    std::string missing;
    CHECK(m.notes->Get("too-long", &missing).IsNotFound());
    REQUIRE_OK(m.store->Close());
  }
  auto text = Env::Default()->ReadFileToString(f.log);
  REQUIRE(text.ok());
  std::map<std::string, std::string> live;
  CHECK(GoPersistLoad(*text, &live) == "");
  CHECK(live.size() == 109 + 3);  // acct-new, ev:new, ключ, edge; -acct-003
  Json acct = Json::parse(live["accounts:acct-new"]);
  // Go's idioms: nil slices/maps/pointers as null, omitempty fields absent,
  // []byte as base64, time.Time as RFC 3339.
  CHECK(acct["tags"].is_null());
  CHECK(acct["limits"].is_null());
  CHECK(acct["nickname"].is_null());
  CHECK_FALSE(acct.contains("email"));
  CHECK_FALSE(acct.contains("extra"));
  CHECK(acct["avatar"] == "3q0=");
  CHECK(acct["home"] == Json::parse(R"({"street":"9 Elm St"})"));
  CHECK(acct["created"] == "2026-01-02T03:04:05.5+01:00");
  CHECK(live["counters:hits"] == "31");
  CHECK(live.count("accounts:acct-003") == 0);
  // And typedmap reads back the same.
  Maps m = OpenMaps(f.log);
  CHECK(m.accounts->Size() == 52);
  Event e;
  REQUIRE_OK(m.events->Get("ev:new", &e));
  CHECK(e.score == 0.5);
  std::string edge;
  REQUIRE_OK(m.notes->Get("edge", &edge));
  CHECK(edge.size() == 4093);
}

TEST_CASE("a key line over go-persist's limit is refused; native has none") {
  Fixture f;
  if (auto missing = LoadFixture(&f)) KVB_SKIP(*missing);
  std::string long_key(4096 - std::string("S notes:\n").size() + 1, 'k');
  {
    Maps m = OpenMaps(f.log);
    CHECK(m.notes->Set(long_key, "v").IsInvalidArgument());
    // Store-level keys have no prefix: "S " + 4094 bytes + LF is too long.
    CHECK(m.store->Set(std::string(4094, 'k'), 1).IsInvalidArgument());
    REQUIRE_OK(m.store->Set(std::string(4093, 'k'), 1));
    long_key.pop_back();
    REQUIRE_OK(m.notes->Set(long_key, "v"));  // exactly 4096 bytes with LF
    REQUIRE_OK(m.store->Close());
  }
  auto text = Env::Default()->ReadFileToString(f.log);
  REQUIRE(text.ok());
  std::map<std::string, std::string> live;
  CHECK(GoPersistLoad(*text, &live) == "");
  // With the user's consent the log becomes native, which has no line limit.
  Options o;
  o.upgrade_legacy_format = true;
  Maps m = OpenMaps(f.log, o);
  CHECK(m.store->GetStats().format == LogFormat::kNative);
  REQUIRE_OK(m.notes->Set("big", std::string(10000, 'x')));
  CHECK(m.accounts->Size() == 52);
}

}  // namespace
}  // namespace kvb::typedmap
