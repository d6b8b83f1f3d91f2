// typedmap_hello FILE: stores one typed record in a typedmap log at FILE, closes the store,
// opens the log with a second store and reads the record back. Prints
// "typedmap: alice = Alice, 29" and exits 0, or prints the failing step's Status and exits 1.
#include <cstdio>
#include <string>

#include "engines/typedmap/typedmap.h"

namespace {

struct User {
  std::string name;
  int age = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, name, age)

int Fail(const char* step, const kvb::Status& s) {
  std::fprintf(stderr, "typedmap_hello: %s: %s\n", step, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: typedmap_hello FILE\n");
    return 2;
  }
  {
    kvb::typedmap::Store store;
    auto users = store.Map<User>("users");
    if (!users.ok()) return Fail("map", users.status());
    if (kvb::Status s = store.Open(argv[1]); !s.ok()) return Fail("open", s);
    if (kvb::Status s = (*users)->Set("alice", User{"Alice", 28}); !s.ok())
      return Fail("set", s);
    auto after = (*users)->Update(
        "alice", [](kvb::typedmap::Updater<User>& u) { u.value.age++; });
    if (!after.ok()) return Fail("update", after.status());
    if (kvb::Status s = store.Close(); !s.ok()) return Fail("close", s);
  }
  // A Store opens once: a second one replays the log the first one wrote.
  kvb::typedmap::Store store;
  auto users = store.Map<User>("users");
  if (!users.ok()) return Fail("map", users.status());
  if (kvb::Status s = store.Open(argv[1]); !s.ok()) return Fail("reopen", s);
  User alice;
  if (kvb::Status s = (*users)->Get("alice", &alice); !s.ok())
    return Fail("get", s);
  if (kvb::Status s = store.Close(); !s.ok()) return Fail("close", s);
  std::printf("typedmap: alice = %s, %d\n", alice.name.c_str(), alice.age);
  return 0;
}
