// The ordered index: "strictly after" paging that returns exactly n keys (diskv
// D5).
#include "engines/fileperkey/key_index.h"

#include <catch2/catch.hpp>

namespace kvb::fileperkey {
namespace {

using Keys = std::vector<std::string>;

TEST_CASE("KeysAfter returns exactly n keys strictly after", "[index]") {
  KeyIndex index;
  for (const char* k : {"d", "b", "a", "c"}) index.Insert(k);
  CHECK(index.KeysAfter("", 2) == Keys{"a", "b"});
  CHECK(index.KeysAfter("b", 2) == Keys{"c", "d"});  // diskv: ["c"]
  CHECK(index.KeysAfter("bb", 2) ==
        Keys{"c", "d"});  // absent: diskv restarted at "a"
  CHECK(index.KeysAfter("d", 2).empty());
  CHECK(index.KeysFrom("b", 2) == Keys{"b", "c"});
  index.Erase("c");
  CHECK(index.KeysAfter("b", 5) == Keys{"d"});
  CHECK(index.size() == 3);
  index.Insert("b");  // idempotent
  CHECK(index.size() == 3);
  index.Clear();
  CHECK(index.KeysAfter("", 10).empty());
}

TEST_CASE("a user ordering is honoured", "[index]") {
  KeyIndex index([](std::string_view a, std::string_view b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  for (const char* k : {"ccc", "a", "bb", "b"}) index.Insert(k);
  CHECK(index.KeysAfter("", 10) == Keys{"a", "b", "bb", "ccc"});
  CHECK(index.KeysAfter("b", 1) == Keys{"bb"});
}

TEST_CASE("paging visits every key once", "[index]") {
  KeyIndex index;
  for (int i = 0; i < 1000; i++)
    index.Insert(std::string("key").append(std::to_string(i)));
  size_t seen = 0;
  std::string last;
  while (true) {
    Keys page = index.KeysAfter(last, 7);
    if (page.empty()) break;
    REQUIRE((page.size() == 7 || seen + page.size() == 1000));
    seen += page.size();
    last = page.back();
  }
  CHECK(seen == 1000);
}

}  // namespace
}  // namespace kvb::fileperkey
