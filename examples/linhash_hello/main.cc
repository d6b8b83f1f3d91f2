// linhash_hello DIR: stores one key in a linhash database at DIR, closes it, reopens it and
// reads the key back. Prints "linhash: hello = world (1 key)" and exits 0, or prints the
// failing step's Status and exits 1.
#include <cstdint>
#include <cstdio>
#include <string>

#include "engines/linhash/linhash.h"

namespace {

int Fail(const char* step, const kvb::Status& s) {
  std::fprintf(stderr, "linhash_hello: %s: %s\n", step, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: linhash_hello DIR\n");
    return 2;
  }
  kvb::linhash::Options options;
  {
    auto db = kvb::linhash::DB::Open(argv[1], options);
    if (!db.ok()) return Fail("open", db.status());
    if (kvb::Status s = (*db)->Put("hello", "world"); !s.ok())
      return Fail("put", s);
    if (kvb::Status s = (*db)->Close(); !s.ok()) return Fail("close", s);
  }
  auto db = kvb::linhash::DB::Open(
      argv[1], options);  // replays what the first handle wrote
  if (!db.ok()) return Fail("reopen", db.status());
  std::string value;
  if (kvb::Status s = (*db)->Get("hello", &value); !s.ok())
    return Fail("get", s);
  const uint64_t keys = (*db)->GetStats().keys;
  if (kvb::Status s = (*db)->Close(); !s.ok()) return Fail("close", s);
  std::printf("linhash: hello = %s (%llu key)\n", value.c_str(),
              static_cast<unsigned long long>(keys));
  return 0;
}
