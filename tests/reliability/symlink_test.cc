// Issue 14 defect 3: no engine operation may follow a symbolic link out of its
// directory. Each case plants a link (on the real file system: the in-memory
// Env has no links) from where an engine keeps its files to an `outside`
// directory holding one file, runs the engine call that would have followed
// it, and checks that the call fails with an error saying so and that the
// outside file and directory are exactly as they were.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/fileperkey/fileperkey.h"
#include "engines/fileperkey/inspect.h"
#include "engines/linhash/linhash.h"
#include "engines/typedmap/typedmap.h"

namespace kvb {
namespace {

Env* env() { return Env::Default(); }

// A temp dir with `outside/victim` ("precious") and room for a database.
struct Sandbox {
  testing::TempDir tmp{"kvb-symlink"};
  std::string outside = tmp.Sub("outside");
  std::string victim = tmp.Sub("outside/victim");

  Sandbox() {
    REQUIRE_OK(env()->CreateDir(outside));
    REQUIRE_OK(env()->WriteFileAtomically(victim, "precious"));
  }
  // Replaces whatever is at `at` by a symlink to `target`.
  void Plant(const std::string& target, const std::string& at) const {
    REQUIRE_OK(env()->RemoveAll(at));
    REQUIRE(::symlink(target.c_str(), at.c_str()) == 0);
  }
  void CheckUntouched() const {
    auto text = env()->ReadFileToString(victim);
    REQUIRE_OK(text.status());
    CHECK(*text == "precious");
    auto names = env()->ListDir(outside);
    REQUIRE_OK(names.status());
    CHECK(*names == std::vector<std::string>{"victim"});
  }
};

void CheckSaysSymlink(const Status& s) {
  INFO(s.ToString());
  CHECK_FALSE(s.ok());
  CHECK(s.ToString().find("symbolic link") != std::string::npos);
}

// --- fileperkey ---------------------------------------------------------------

fileperkey::Options FpkOptions() {
  fileperkey::Options o;
  o.index = true;
  o.transform =
      fileperkey::Transform::Blocks(1, 2, fileperkey::KeyEncoding::kEscaped);
  return o;
}

// A store with three keys, closed again.
std::string MakeFpkStore(const Sandbox& box) {
  const std::string base = box.tmp.Sub("fpk");
  auto store = fileperkey::Store::Open(base, FpkOptions());
  REQUIRE_OK(store.status());
  for (const char* key : {"alpha", "beta", "gamma"})
    REQUIRE_OK((*store)->Write(key, "v"));
  return base;
}

TEST_CASE("fileperkey: a symlinked .fpk-tmp is refused, its target kept",
          "[symlink]") {
  Sandbox box;
  const std::string base = MakeFpkStore(box);
  // The old code emptied the temp directory's target at every Open.
  box.Plant(box.outside, JoinPath(base, ".fpk-tmp"));
  auto store = fileperkey::Store::Open(base, FpkOptions());
  CheckSaysSymlink(store.status());
  box.CheckUntouched();
}

TEST_CASE("fileperkey: EraseAll refuses a symlinked directory, erases nothing",
          "[symlink]") {
  Sandbox box;
  const std::string base = MakeFpkStore(box);
  auto store = fileperkey::Store::Open(base, FpkOptions());
  REQUIRE_OK(store.status());
  REQUIRE(::symlink(box.outside.c_str(), JoinPath(base, "zz").c_str()) == 0);
  CheckSaysSymlink((*store)->EraseAll());
  box.CheckUntouched();
  std::string v;
  CHECK_OK((*store)->Read("alpha", &v));
}

TEST_CASE("fileperkey: a symlinked key file or base is never read through",
          "[symlink]") {
  Sandbox box;
  const std::string base = MakeFpkStore(box);
  {
    auto store = fileperkey::Store::Open(base, FpkOptions());
    REQUIRE_OK(store.status());
    auto path = (*store)->PathOf("alpha");
    REQUIRE_OK(path.status());
    box.Plant(box.victim, *path);
    std::string v;
    CheckSaysSymlink((*store)->Read("alpha", &v));
    // Sync of everything walks the tree: the link is skipped, not followed.
    REQUIRE_OK((*store)->Sync());
  }
  const std::string link = box.tmp.Sub("fpk-link");
  REQUIRE(::symlink(base.c_str(), link.c_str()) == 0);
  CheckSaysSymlink(fileperkey::Store::Open(link, FpkOptions()).status());
  box.CheckUntouched();
}

TEST_CASE("fileperkey: inspect reports links and never walks through them",
          "[symlink]") {
  Sandbox box;
  const std::string base = MakeFpkStore(box);
  REQUIRE(::symlink(box.outside.c_str(), JoinPath(base, "zz").c_str()) == 0);
  box.Plant(box.outside, JoinPath(base, ".fpk-tmp"));
  auto report = fileperkey::Inspect(env(), base, true, nullptr);
  REQUIRE_OK(report.status());
  CHECK_FALSE(report->ok());
  CHECK(report->keys == 3);  // the victim behind "zz" is not counted
  CHECK(report->temp_files == 0);
  REQUIRE(report->problems.size() == 2);
  for (const std::string& p : report->problems)
    CHECK(p.find("symbolic link") != std::string::npos);
  box.CheckUntouched();
}

// --- typedmap -----------------------------------------------------------------

Status OpenTypedmap(const std::string& path, typedmap::Store* store) {
  KVB_ASSIGN_OR_RETURN(auto* map, store->Map<std::string>("m"));
  (void)map;
  return store->Open(path);
}

TEST_CASE("typedmap: a symlinked log or lock file is refused", "[symlink]") {
  Sandbox box;
  for (const char* which : {"", ".lock"}) {
    INFO("symlink at <log>" << which);
    const std::string log = box.tmp.Sub("tm.db");
    box.Plant(box.victim, log + which);
    typedmap::Store store;
    CheckSaysSymlink(OpenTypedmap(log, &store));
    REQUIRE_OK(env()->RemoveFile(log + which));
  }
  box.CheckUntouched();
}

TEST_CASE("typedmap: Shrink refuses a planted <log>.tmp link", "[symlink]") {
  Sandbox box;
  const std::string log = box.tmp.Sub("tm.db");
  typedmap::Store store;
  REQUIRE_OK(OpenTypedmap(log, &store));
  box.Plant(box.victim, log + ".tmp");
  // The temp file is created with O_NOFOLLOW: refused, and the failed Shrink
  // removes the link by name (unlink does not follow it).
  CheckSaysSymlink(store.Shrink());
  CHECK_FALSE(env()->FileExists(log + ".tmp"));
  REQUIRE_OK(store.Shrink());
  REQUIRE_OK(store.Close());
  box.CheckUntouched();
}

// --- linhash ------------------------------------------------------------------

std::string MakeLinhashDb(const Sandbox& box) {
  const std::string dir = box.tmp.Sub("lh");
  auto db = linhash::DB::Open(dir, linhash::Options{});
  REQUIRE_OK(db.status());
  REQUIRE_OK((*db)->Put("k", "v"));
  REQUIRE_OK((*db)->Close());
  return dir;
}

std::string FindSegment(const std::string& dir) {
  auto names = env()->ListDir(dir);
  REQUIRE_OK(names.status());
  for (const std::string& n : *names) {
    if (n.size() > 6 && n.compare(n.size() - 6, 6, ".lhlog") == 0)
      return JoinPath(dir, n);
  }
  FAIL("no segment in " << dir);
  return "";
}

TEST_CASE("linhash: a symlinked segment or LOCK file is refused", "[symlink]") {
  Sandbox box;
  for (const char* which : {"segment", "LOCK"}) {
    INFO("symlink at " << which);
    const std::string dir = MakeLinhashDb(box);
    const std::string at =
        std::string(which) == "LOCK" ? JoinPath(dir, "LOCK") : FindSegment(dir);
    box.Plant(box.victim, at);
    CheckSaysSymlink(linhash::DB::Open(dir, linhash::Options{}).status());
    REQUIRE_OK(env()->RenameFile(dir, box.tmp.Sub(std::string("lh-") + which)));
  }
  box.CheckUntouched();
}

}  // namespace
}  // namespace kvb
