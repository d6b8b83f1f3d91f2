// The Env helpers shared by every implementation, written only in terms of the
// virtual interface so MemEnv and FaultInjectionEnv get identical semantics
// (and identical faults).
#include "core/env.h"

#include "core/env_internal.h"

namespace kvb {
namespace {

// Drops trailing slashes but keeps a lone "/".
std::string_view StripTrailingSlashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace

namespace internal {

std::string NormalizePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Status SymlinkRefused(std::string_view what, std::string_view path) {
  return Status::InvalidArgument(std::string(what) + " " + std::string(path) +
                                 ": is a symbolic link (not followed)");
}

}  // namespace internal

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out(dir);
  if (out.back() != '/') out += '/';
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  out += name;
  return out;
}

std::string DirName(std::string_view path) {
  path = StripTrailingSlashes(path);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  std::string_view dir = StripTrailingSlashes(path.substr(0, slash));
  if (dir.empty()) return "/";
  return std::string(dir);
}

std::string BaseName(std::string_view path) {
  path = StripTrailingSlashes(path);
  if (path == "/") return "/";
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return std::string(path);
  return std::string(path.substr(slash + 1));
}

bool Env::FileExists(const std::string& path) { return Stat(path).ok(); }

Status Env::CreateDirs(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("CreateDirs: empty path");
  Result<FileStat> st = Stat(path);
  if (st.ok()) {
    if (st->is_dir) return Status::OK();
    if (st->is_symlink) return internal::SymlinkRefused("CreateDirs", path);
    return Status::InvalidArgument("CreateDirs " + path +
                                   ": exists and is not a directory");
  }
  if (!st.status().IsNotFound()) return st.status();
  std::string parent = DirName(path);
  if (parent != path && parent != "." && parent != "/") {
    // An ancestor of the directory asked for is the caller's own path (a
    // symlinked /data is common), so it may be a link; only `path` may not.
    Result<FileStat> up = Stat(parent);
    if (!up.ok() || !up->is_symlink) KVB_RETURN_IF_ERROR(CreateDirs(parent));
  }
  return CreateDir(path);
}

Status Env::CreateDirsDurably(const std::string& path) {
  std::vector<std::string> missing;  // deepest first
  for (std::string p = path;; p = DirName(p)) {
    Result<FileStat> st = Stat(p);
    if (st.ok()) break;
    if (!st.status().IsNotFound()) return st.status();
    missing.push_back(p);
    if (DirName(p) == p) break;
  }
  KVB_RETURN_IF_ERROR(CreateDirs(path));
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    KVB_RETURN_IF_ERROR(SyncDir(DirName(*it)));
  }
  return Status::OK();
}

Status Env::RemoveAll(const std::string& path) {
  Result<FileStat> st = Stat(path);
  if (!st.ok()) return st.status().IsNotFound() ? Status::OK() : st.status();
  // Stat does not follow links, so a link to a directory is seen here, before
  // ListDir (which would follow it) could descend into its target.
  if (st->is_symlink) return internal::SymlinkRefused("remove", path);
  if (!st->is_dir) {
    Status s = RemoveFile(path);
    return s.IsNotFound() ? Status::OK() : s;
  }
  Result<std::vector<std::string>> names = ListDir(path);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    KVB_RETURN_IF_ERROR(RemoveAll(JoinPath(path, name)));
  }
  Status s = RemoveDir(path);
  return s.IsNotFound() ? Status::OK() : s;
}

Result<std::string> Env::ReadFileToString(const std::string& path) {
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                       OpenFile(path, OpenMode::kReadOnly));
  KVB_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string out(size, '\0');
  size_t done = 0;
  // The file may shrink or grow while we read; stop at the first short read.
  while (done < out.size()) {
    size_t got = 0;
    KVB_RETURN_IF_ERROR(
        file->ReadAt(done, out.size() - done, out.data() + done, &got));
    if (got == 0) break;
    done += got;
  }
  out.resize(done);
  KVB_RETURN_IF_ERROR(file->Close());
  return out;
}

Status Env::WriteFileAtomically(const std::string& path,
                                std::string_view data) {
  const std::string tmp = path + ".tmp";
  {
    KVB_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                         OpenFile(tmp, OpenMode::kTruncate));
    Status s = file->Append(data);
    if (s.ok()) s = file->Sync();
    Status c = file->Close();
    if (s.ok()) s = c;
    if (!s.ok()) {
      RemoveFile(tmp).IgnoreError();  // best effort; the error to report is `s`
      return s;
    }
  }
  KVB_RETURN_IF_ERROR(RenameFile(tmp, path));
  return SyncDir(DirName(path));
}

}  // namespace kvb
