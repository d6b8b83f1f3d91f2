#include "engines/fileperkey/internal/walk.h"

#include <algorithm>

#include "engines/fileperkey/transform.h"

namespace kvb::fileperkey::internal {
namespace {

Status WalkDir(Env* env, const std::string& dir,
               std::vector<std::string>* comps, const std::string& skip_dir,
               const WalkFn& fn, bool* stop) {
  Result<std::vector<std::string>> names = env->ListDir(dir);
  if (!names.ok()) {
    // Gone (a concurrent erase pruned it) or not a directory: nothing to walk.
    if (names.status().IsNotFound() || names.status().IsInvalidArgument())
      return Status::OK();
    return names.status();
  }
  std::sort(names->begin(), names->end());
  for (const std::string& name : *names) {
    if (name.compare(0, kReservedPrefix.size(), kReservedPrefix) == 0) continue;
    const std::string path = JoinPath(dir, name);
    if (path == skip_dir) continue;
    Result<FileStat> st = env->Stat(path);
    if (!st.ok()) {
      if (st.status().IsNotFound()) continue;
      return st.status();
    }
    comps->push_back(name);
    if (st->is_symlink) {
      if (!fn(WalkEvent::kSymlink, path, *comps, *st)) *stop = true;
    } else if (st->is_dir) {
      Status s = WalkDir(env, path, comps, skip_dir, fn, stop);
      if (s.ok() && !*stop && !fn(WalkEvent::kDir, path, *comps, *st))
        *stop = true;
      if (!s.ok()) return s;
    } else if (!fn(WalkEvent::kFile, path, *comps, *st)) {
      *stop = true;
    }
    comps->pop_back();
    if (*stop) break;
  }
  return Status::OK();
}

}  // namespace

Status Walk(Env* env, const std::string& root, std::vector<std::string>* comps,
            const std::string& skip_dir, const WalkFn& fn) {
  bool stop = false;
  return WalkDir(env, root, comps, skip_dir, fn, &stop);
}

}  // namespace kvb::fileperkey::internal
