// kvb_fuzz_seeds OUT_DIR: writes a seed corpus made by the engines themselves,
// one folder per fuzz target (OUT_DIR/<target>/seed-*), so fuzzing starts from
// valid databases and records instead of from nothing. scripts/fuzz.sh runs it
// before fuzzing.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/env.h"
#include "fuzz/fuzz_util.h"
#ifdef KVB_FUZZ_HAVE_LINHASH
#include "engines/linhash/format.h"
#include "engines/linhash/index.h"
#include "engines/linhash/linhash.h"
#endif
#ifdef KVB_FUZZ_HAVE_TYPEDMAP
#include "engines/typedmap/typedmap.h"
#endif
#ifdef KVB_FUZZ_HAVE_FILEPERKEY
#include "engines/fileperkey/fileperkey.h"
#endif

namespace kvb::fuzz {
namespace {

std::string g_out;

void Emit(const std::string& target, const std::string& name,
          std::string_view bytes) {
  std::filesystem::path dir = std::filesystem::path(g_out) / target;
  std::filesystem::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void Must(const Status& s, const char* what) {
  if (!s.ok()) Fail(what, s);
}

std::string ReadOrEmpty(Env* env, const std::string& path) {
  auto r = env->ReadFileToString(path);
  return r.ok() ? *r : std::string();
}

#ifdef KVB_FUZZ_HAVE_LINHASH
struct LinhashFiles {
  std::string seg1, seg2, index;
};

LinhashFiles ReadLinhash(Env* env) {
  return {ReadOrEmpty(env, "/db/" + linhash::SegmentFileName(0, 1)),
          ReadOrEmpty(env, "/db/" + linhash::SegmentFileName(1, 2)),
          ReadOrEmpty(env, "/db/index.lhx")};
}

// A small database; `rotate` forces a second segment; `synced_only` captures
// the files after a Sync, before Close writes its checkpoint (what a crash
// leaves: replay from the log).
LinhashFiles LinhashDb(bool rotate, bool synced_only) {
  std::unique_ptr<Env> env = NewMemEnv();
  linhash::Options o;
  o.env = env.get();
  o.checkpoint_interval_ms = 0;
  o.read_backend = linhash::ReadBackend::kPread;
  if (rotate) o.max_segment_size = 4096;
  auto db = linhash::DB::Open("/db", o);
  Must(db.status(), "linhash open");
  const int n = rotate ? 60 : 12;
  for (int i = 0; i < n; ++i) {
    Must((*db)->Put("k" + std::to_string(i % 9),
                    std::string(20 + i, 'a' + i % 26)),
         "put");
    if (i % 5 == 4) Must((*db)->Delete("k" + std::to_string(i % 7)), "delete");
  }
  linhash::WriteBatch b;
  b.Put("b1", "batch value");
  b.Delete("k2");
  Must((*db)->Write(b), "batch");
  Must((*db)->Put("", "empty key"), "put empty");
  LinhashFiles files;
  if (synced_only) {
    Must((*db)->Sync(), "sync");
    files = ReadLinhash(env.get());
  }
  Must((*db)->Close(), "close");
  return synced_only ? files : ReadLinhash(env.get());
}

void LinhashSeeds() {
  int seed = 0;
  for (int variant = 0; variant < 3; ++variant) {
    LinhashFiles f = LinhashDb(variant == 1, variant == 2);
    const std::string& s1 = f.seg1;
    const std::string& s2 = f.seg2;
    const std::string& ix = f.index;
    const std::string name = "seed-" + std::to_string(seed++);
    Emit("linhash_open_fuzz", name, JoinParts(0, {s1, s2, ix}));
    Emit("linhash_open_fuzz", name + "-noindex", JoinParts(0, {s1, s2, ""}));
    if (s1.size() > linhash::kSegmentHeaderSize) {
      Emit("linhash_record_fuzz", name, s1.substr(linhash::kSegmentHeaderSize));
    }
    if (!ix.empty()) Emit("linhash_record_fuzz", name + "-index", ix);
  }
  // Index images in linhash_index_fuzz's layout (see that file).
  for (int keys : {0, 5, 40, 150}) {
    linhash::LinearIndex index(0.8);
    for (int i = 0; i < keys; ++i) {
      uint64_t h =
          (uint64_t{0x9E3779B97F4A7C15} * (i + 1)) & linhash::kHashMask48;
      Must(index.Reserve(), "reserve");
      index.Insert(index.FindHole(h), h, linhash::MakeLoc(h, 0, 64 + i));
    }
    std::string in(1, '\0');
    in.push_back(static_cast<char>(index.level()));
    in.push_back(static_cast<char>(index.split()));
    in.push_back(static_cast<char>(index.split() >> 8));
    in.push_back(static_cast<char>(index.num_free()));
    for (int i = 0; i < 4; ++i)
      in.push_back(static_cast<char>(index.count() >> (8 * i)));
    for (uint32_t f : index.free_list()) {
      for (int i = 0; i < 4; ++i) in.push_back(static_cast<char>(f >> (8 * i)));
    }
    Must(index.SnapshotBuckets(&in), "snapshot");
    Emit("linhash_index_fuzz", "seed-" + std::to_string(keys), in);
  }
}
#endif

#ifdef KVB_FUZZ_HAVE_TYPEDMAP
void TypedmapSeeds() {
  std::unique_ptr<Env> env = NewMemEnv();
  Must(env->CreateDirs("/db"), "mkdir");
  {
    typedmap::Options o;
    o.env = env.get();
    o.background_flush = false;
    typedmap::Store store(o);
    auto s = store.Map<std::string>("s");
    auto b = store.Map<typedmap::Bytes>("b");
    auto n = store.Map<int>("n");
    Must(store.Open("/db/log"), "typedmap open");
    Must((*s)->Set("alice", "Alice \"A\" \\ \x01 caf\xc3\xa9"), "set");
    Must((*s)->Set("", "empty key"), "set");
    Must((*b)->Set("bin", typedmap::Bytes{std::string("\xff\x00\x01", 3)}),
         "set");
    Must((*b)->Set("text", typedmap::Bytes{"plain"}), "set");
    Must((*n)->Set("x", 42), "set");
    Must((*n)->Set("y", -7), "set");
    Must((*s)->Delete("alice"), "delete");
    Must((*s)->Set("bob", "Bob"), "set");
    Must(store.Set("toplevel", 3.5), "store set");
    Must(store.Close(), "close");
  }
  // A checksummed record whose number does not fit the reader's type (map "n"
  // holds ints in typedmap_open_fuzz): must be an error, never a float-to-int
  // overflow.
  {
    typedmap::Options o;
    o.env = env.get();
    o.background_flush = false;
    typedmap::Store store(o);
    auto n = store.Map<double>("n");
    Must(store.Open("/db/floats"), "typedmap open");
    Must((*n)->Set("big", 6.6e44), "set");
    Must((*n)->Set("nan-ish", -1e300), "set");
    Must(store.Close(), "close");
    const std::string floats = ReadOrEmpty(env.get(), "/db/floats");
    Emit("typedmap_open_fuzz", "seed-float-in-int-map", floats);
    Emit("typedmap_log_fuzz", "seed-float", "6.6e44");
  }
  const std::string log = ReadOrEmpty(env.get(), "/db/log");
  const std::string legacy =
      "go-persist 1\nS s:alice\n\"Alice\"\nS n:x\n17\nD s:alice\n\nS "
      "other:k\n{\"a\":[1,2]}\n";
  for (const char* t : {"typedmap_open_fuzz", "typedmap_log_fuzz"}) {
    Emit(t, "seed-native", log);
    Emit(t, "seed-legacy", legacy);
    Emit(t, "seed-torn", log.substr(0, log.size() - 5));
  }
  Emit("typedmap_log_fuzz", "seed-value", "{\"b64\":\"/wAB\"}");
}
#endif

#ifdef KVB_FUZZ_HAVE_FILEPERKEY
void FileperkeySeeds() {
  using fileperkey::Codec;
  using fileperkey::KeyEncoding;
  using fileperkey::Transform;
  for (uint8_t flags :
       {0x00, 0x05 | 0x08, 0x02 | 0x10 | 0x20, 0x01 | 0x04 | 0x18}) {
    std::unique_ptr<Env> env = NewMemEnv();
    fileperkey::Options o;
    o.env = env.get();
    const KeyEncoding enc =
        (flags & 4) != 0 ? KeyEncoding::kEscaped : KeyEncoding::kPlain;
    o.transform = (flags & 3) == 1   ? Transform::Blocks(2, 2, enc)
                  : (flags & 3) == 2 ? Transform::Hashed(2, 1, enc)
                                     : Transform::Flat(enc);
    constexpr Codec kCodecs[] = {Codec::kNone, Codec::kGzip, Codec::kZlib,
                                 Codec::kZstd};
    o.compression = kCodecs[(flags >> 3) & 3];
    std::string p1, p2, v1, v2;
    {
      auto store = fileperkey::Store::Open("/db", o);
      Must(store.status(), "fileperkey open");
      Must((*store)->Write("abcdef", "value one, value one"), "write");
      Must((*store)->Write("k2", std::string(300, 'z')), "write");
      p1 = (*store->get()->PathOf("abcdef")).substr(4);
      p2 = (*store->get()->PathOf("k2")).substr(4);
    }
    v1 = ReadOrEmpty(env.get(), "/db/" + p1);
    v2 = ReadOrEmpty(env.get(), "/db/" + p2);
    const std::string meta = ReadOrEmpty(env.get(), "/db/.fpk-meta");
    Emit("fileperkey_open_fuzz", "seed-" + std::to_string(flags),
         JoinParts(flags, {meta, p1, v1, p2, v2}));
    if (o.compression != Codec::kNone) {
      Emit("fileperkey_codec_fuzz", "seed-" + std::to_string(flags), v1);
      Emit("fileperkey_codec_fuzz", "seed-" + std::to_string(flags) + "-long",
           v2);
    }
    Emit("fileperkey_transform_fuzz", "seed-path-" + std::to_string(flags), p1);
  }
  for (const char* k : {"abcdef", "a%2Fb", ".hidden", "x+y", "%41"}) {
    Emit("fileperkey_transform_fuzz",
         std::string("seed-key-") +
             std::to_string(std::hash<std::string>{}(k) % 1000),
         k);
  }
}
#endif

}  // namespace
}  // namespace kvb::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: kvb_fuzz_seeds OUT_DIR\n");
    return 2;
  }
  kvb::fuzz::g_out = argv[1];
#ifdef KVB_FUZZ_HAVE_LINHASH
  kvb::fuzz::LinhashSeeds();
#endif
#ifdef KVB_FUZZ_HAVE_TYPEDMAP
  kvb::fuzz::TypedmapSeeds();
#endif
#ifdef KVB_FUZZ_HAVE_FILEPERKEY
  kvb::fuzz::FileperkeySeeds();
#endif
  return 0;
}
