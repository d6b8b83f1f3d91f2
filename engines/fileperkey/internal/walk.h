// Depth-first walk of a store's directory tree, shared by the Store (key
// iteration, index rebuild, Sync of everything) and the offline inspector.
// Internal to the fileperkey engine.
#ifndef KVB_ENGINES_FILEPERKEY_INTERNAL_WALK_H_
#define KVB_ENGINES_FILEPERKEY_INTERNAL_WALK_H_

#include <functional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace kvb::fileperkey::internal {

// kSymlink: a symbolic link, reported and never followed (not even one that
// points at a directory), so no walk leaves the store's tree.
enum class WalkEvent { kFile, kDir, kSymlink };

// Called for every regular file, every symbolic link, and every directory
// after its contents, with the path components relative to the walk's root
// (`comps`) and the entry's own stat (lstat). Return false to stop the walk (Walk then returns OK).
using WalkFn = std::function<bool(WalkEvent event, const std::string& path,
                                  const std::vector<std::string>& comps,
                                  const FileStat& st)>;

// Walks `root` (whose components relative to the store's base are `*comps`) in
// byte order of names. Entries whose names start with ".fpk" are skipped at
// every level (the store's own), and so is `skip_dir` (a temp directory inside
// the base). Entries that vanish during the walk are skipped; other errors are
// returned.
Status Walk(Env* env, const std::string& root, std::vector<std::string>* comps,
            const std::string& skip_dir, const WalkFn& fn);

}  // namespace kvb::fileperkey::internal

#endif  // KVB_ENGINES_FILEPERKEY_INTERNAL_WALK_H_
