#include "engines/fileperkey/inspect.h"

#include <unordered_set>

#include "engines/fileperkey/codec.h"
#include "engines/fileperkey/fileperkey.h"
#include "engines/fileperkey/internal/meta.h"
#include "engines/fileperkey/internal/walk.h"
#include "engines/fileperkey/value_checksum.h"

namespace kvb::fileperkey {
namespace {

constexpr size_t kMaxProblems = 20;

void Problem(InspectReport* r, std::string line) {
  if (r->problems.size() < kMaxProblems) r->problems.push_back(std::move(line));
}

// Reads a value file to its end through its frame decoder or its trailer
// check (`trailer`).
Status VerifyValue(Env* env, const std::string& path, bool trailer) {
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<File> f,
                       env->OpenFile(path, OpenMode::kReadOnly));
  KVB_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  std::unique_ptr<ValueReader> r =
      trailer ? NewTrailerReader(NewFileReader(std::move(f)), size)
              : NewDecompressingReader(NewFileReader(std::move(f)));
  char buf[kStreamChunk];
  size_t got = 0;
  do {
    KVB_RETURN_IF_ERROR(r->Read(buf, sizeof(buf), &got));
  } while (got > 0);
  return Status::OK();
}

void NoteSymlink(InspectReport* r, const std::string& path) {
  r->foreign_files++;
  Problem(r, "symbolic link (never followed): " + path);
}

// Leftovers in the temp directory (files the next Open removes).
Status CountTemp(Env* env, const std::string& temp_dir, InspectReport* r) {
  Result<FileStat> st = env->Stat(temp_dir);
  if (st.ok() && st->is_symlink) {
    // Walking it would list the link's target, outside the store.
    NoteSymlink(r, temp_dir);
    return Status::OK();
  }
  std::vector<std::string> comps;
  return internal::Walk(
      env, temp_dir, &comps, "",
      [&](internal::WalkEvent ev, const std::string& path,
          const std::vector<std::string>&, const FileStat& fs) {
        if (ev == internal::WalkEvent::kFile) r->temp_files++;
        if (ev == internal::WalkEvent::kSymlink) NoteSymlink(r, path);
        r->allocated_bytes += fs.allocated_bytes;
        return true;
      });
}

// The walk of the key tree: every file must be where its key maps, once.
struct KeyWalk {
  Env* env;
  const internal::StoreMeta& meta;
  bool verify_values;
  const std::function<void(const std::string& key)>& on_key;
  InspectReport* report;
  Transform transform;
  std::unordered_set<std::string> seen;

  Status Run(const std::string& base, const std::string& temp_dir) {
    if (meta.transform != "custom") {
      KVB_ASSIGN_OR_RETURN(transform,
                           Transform::Parse(meta.transform, meta.encoding));
    }
    std::vector<std::string> comps;
    return internal::Walk(
        env, base, &comps, temp_dir,
        [this](internal::WalkEvent ev, const std::string& path,
               const std::vector<std::string>& c, const FileStat& st) {
          Visit(ev, path, c, st);
          return true;
        });
  }

  void Visit(internal::WalkEvent ev, const std::string& path,
             const std::vector<std::string>& c, const FileStat& st) {
    report->allocated_bytes += st.allocated_bytes;
    if (ev == internal::WalkEvent::kDir) {
      report->directories++;
      return;
    }
    if (ev == internal::WalkEvent::kSymlink) return NoteSymlink(report, path);
    if (meta.transform == "custom") {
      // A user transform cannot be decoded offline: count files as keys.
      report->keys++;
      report->value_bytes += st.size;
      return;
    }
    Result<std::string> key = transform.Inverse(c);
    if (!key.ok()) {
      report->foreign_files++;
      Problem(report, "not a key file: " + path + " (" +
                          std::string(key.status().message()) + ")");
      return;
    }
    if (!seen.insert(*key).second) {
      report->foreign_files++;
      Problem(report, "duplicate key at " + path);
      return;
    }
    report->keys++;
    report->value_bytes += st.size;
    // A checksummed file shorter than its trailer (zero-length: a name that
    // reached the disk before its data) is damage even without verify_values.
    Status s;
    if (meta.value_crc && st.size < kTrailerSize) {
      s = Status::Corruption("file of " + std::to_string(st.size) +
                             " bytes is shorter than the 8-byte trailer");
    } else if (verify_values &&
               (meta.compression != Codec::kNone || meta.value_crc)) {
      s = VerifyValue(env, path, meta.value_crc);
    }
    if (!s.ok()) {
      report->bad_values++;
      Problem(report, "bad value " + path + ": " + s.ToString());
    }
    if (on_key) on_key(*key);
  }
};

}  // namespace

Result<InspectReport> Inspect(
    Env* env, const std::string& base, bool verify_values,
    const std::function<void(const std::string& key)>& on_key) {
  KVB_ASSIGN_OR_RETURN(FileStat base_st, env->Stat(base));
  if (base_st.is_symlink) {
    return Status::InvalidArgument(
        "fileperkey: the base directory is a symbolic link (not followed): " +
        base);
  }
  if (!base_st.is_dir)
    return Status::InvalidArgument("fileperkey: not a directory: " + base);
  Result<std::string> text =
      env->ReadFileToString(JoinPath(base, kMetaFileName));
  if (!text.ok()) {
    if (text.status().IsNotFound()) {
      return Status::Corruption("fileperkey: " + base +
                                " has no .fpk-meta: not a fileperkey store");
    }
    return text.status();
  }
  KVB_ASSIGN_OR_RETURN(internal::StoreMeta meta, internal::DecodeMeta(*text));
  InspectReport report;
  report.transform = meta.transform;
  report.encoding = std::string(internal::EncodingName(meta.encoding));
  report.compression = std::string(CodecName(meta.compression));
  report.checksum = meta.value_crc ? "crc32c" : "none";
  // The store's own files count towards the bytes on disk.
  for (std::string_view own : {kLockFileName, kMetaFileName}) {
    Result<FileStat> st = env->Stat(JoinPath(base, own));
    if (st.ok()) report.allocated_bytes += st->allocated_bytes;
  }
  const std::string temp_dir = JoinPath(base, kTempDirName);
  KVB_RETURN_IF_ERROR(CountTemp(env, temp_dir, &report));
  KeyWalk walk{env, meta, verify_values, on_key, &report, {}, {}};
  KVB_RETURN_IF_ERROR(walk.Run(base, temp_dir));
  return report;
}

}  // namespace kvb::fileperkey
