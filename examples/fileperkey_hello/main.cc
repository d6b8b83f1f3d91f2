// fileperkey_hello DIR: stores one zstd-compressed value in a fileperkey store at DIR (one
// file per key), closes it, reopens it and reads the value back. Prints
// "fileperkey: hello = world (zstd)" and exits 0, or prints the failing step's Status and
// exits 1.
#include <cstdio>
#include <string>

#include "engines/fileperkey/fileperkey.h"

namespace {

int Fail(const char* step, const kvb::Status& s) {
  std::fprintf(stderr, "fileperkey_hello: %s: %s\n", step,
               s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fileperkey_hello DIR\n");
    return 2;
  }
  kvb::fileperkey::Options options;
  options.compression = kvb::fileperkey::Codec::kZstd;
  options.sync = true;
  {
    auto store = kvb::fileperkey::Store::Open(argv[1], options);
    if (!store.ok()) return Fail("open", store.status());
    if (kvb::Status s = (*store)->Write("hello", "world"); !s.ok())
      return Fail("write", s);
  }  // the destructor closes the store and releases its lock
  auto store = kvb::fileperkey::Store::Open(argv[1], options);
  if (!store.ok()) return Fail("reopen", store.status());
  std::string value;
  if (kvb::Status s = (*store)->Read("hello", &value); !s.ok())
    return Fail("read", s);
  std::printf(
      "fileperkey: hello = %s (%s)\n", value.c_str(),
      std::string(kvb::fileperkey::CodecName(options.compression)).c_str());
  return 0;
}
