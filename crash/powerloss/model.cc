#include "crash/powerloss/model.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "workloads/random.h"

namespace kvb::powerloss {

namespace fs = std::filesystem;

namespace {

// One change to a file's contents since its last durable state.
struct Change {
  uint64_t seq = 0;
  bool durable = false;
  RecordType kind = RecordType::kWrite;  // kWrite, kTruncate or kFallocate
  int64_t a = 0, b = 0, c = 0;           // as in the log record
  std::string data;
};

// One change to a directory's entries; ino 0 removes the name.
struct EntryChange {
  uint64_t seq = 0;
  bool durable = false;
  std::string name;
  uint64_t ino = 0;
};

void ApplyChange(const Change& ch, std::string* s) {
  if (ch.kind == RecordType::kWrite) {
    size_t end = static_cast<size_t>(ch.a) + ch.data.size();
    if (end > s->size()) s->resize(end, '\0');
    s->replace(static_cast<size_t>(ch.a), ch.data.size(), ch.data);
  } else if (ch.kind == RecordType::kTruncate) {
    s->resize(static_cast<size_t>(ch.a), '\0');
  } else {  // fallocate: a = mode, b = offset, c = length
    size_t end = static_cast<size_t>(ch.b + ch.c);
    bool keep = (ch.a & FALLOC_FL_KEEP_SIZE) != 0;
    bool zero = (ch.a & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) != 0;
    if (zero) {
      size_t from = static_cast<size_t>(ch.b);
      for (size_t i = from; i < end && i < s->size(); ++i) (*s)[i] = '\0';
    }
    if (!keep && end > s->size()) s->resize(end, '\0');
  }
}

}  // namespace

struct Model::Inode {
  bool dir = false;
  std::string base;             // file: durable contents
  std::vector<Change> changes;  // file: since `base`, in log order
  std::map<std::string, uint64_t> durable_entries;  // dir
  std::map<std::string, uint64_t> entries;          // dir: current
  std::vector<EntryChange> entry_changes;           // dir: since durable
};

Model::Model(ModelOptions options) : options_(options) {
  inodes_.push_back(nullptr);  // inode 0 = none
  root_ = NewInode(true);
}

Model::~Model() = default;

uint64_t Model::NewInode(bool dir) {
  inodes_.push_back(std::make_unique<Inode>());
  inodes_.back()->dir = dir;
  return inodes_.size() - 1;
}

void Model::Note(const std::string& what) {
  if (anomalies_.size() < 100) anomalies_.push_back(what);
}

Status Model::LoadSnapshot(const std::string& snapshot_dir) {
  std::error_code ec;
  std::map<std::string, uint64_t> dirs{{"", root_}};
  for (fs::recursive_directory_iterator it(snapshot_dir, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::string rel = fs::relative(it->path(), snapshot_dir).string();
    std::string parent = fs::path(rel).parent_path().string();
    auto p = dirs.find(parent);
    if (p == dirs.end()) continue;
    bool is_dir = it->is_directory();
    uint64_t ino = NewInode(is_dir);
    if (is_dir) {
      dirs[rel] = ino;
    } else {
      std::ifstream in(it->path(), std::ios::binary);
      inodes_[ino]->base.assign(std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>());
    }
    std::string name = it->path().filename().string();
    inodes_[p->second]->entries[name] = ino;
    inodes_[p->second]->durable_entries[name] = ino;
  }
  if (ec) return Status::IOError("cannot read snapshot " + snapshot_dir);
  return Status::OK();
}

uint64_t Model::Lookup(const std::string& path, uint64_t* parent,
                       std::string* name) {
  *parent = 0;
  name->clear();
  if (path.empty()) return root_;
  uint64_t cur = root_;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string comp = path.substr(start, slash - start);
    if (slash == std::string::npos) {
      *parent = cur;
      *name = comp;
      auto it = inodes_[cur]->entries.find(comp);
      return it == inodes_[cur]->entries.end() ? 0 : it->second;
    }
    auto it = inodes_[cur]->entries.find(comp);
    if (it == inodes_[cur]->entries.end() || !inodes_[it->second]->dir) {
      return 0;  // parent missing: *parent stays 0
    }
    cur = it->second;
    start = slash + 1;
  }
}

void Model::AddEntryChange(uint64_t dir, uint64_t seq, const std::string& name,
                           uint64_t ino) {
  Inode& d = *inodes_[dir];
  if (ino == 0) {
    d.entries.erase(name);
  } else {
    d.entries[name] = ino;
  }
  d.entry_changes.push_back(EntryChange{seq, false, name, ino});
}

void Model::ApplyOpen(const Entry& e, uint64_t seq) {
  uint64_t parent = 0;
  std::string name;
  uint64_t ino = Lookup(e.path1, &parent, &name);
  if (ino == 0) {
    if (parent == 0) {
      Note("open of " + e.path1 + ": parent directory unknown");
      return;
    }
    if ((e.a & O_CREAT) == 0) {
      Note("open of " + e.path1 + " which the log never created (treated " +
           "as created empty now)");
    }
    ino = NewInode((e.a & O_DIRECTORY) != 0);
    AddEntryChange(parent, seq, name, ino);
  } else if ((e.a & O_TRUNC) != 0 && !inodes_[ino]->dir) {
    Change ch;
    ch.seq = seq;
    ch.kind = RecordType::kTruncate;
    inodes_[ino]->changes.push_back(ch);
  }
  fds_[e.fd] = FdInfo{ino, (e.a & O_DSYNC) != 0};
}

Model::Inode* Model::FdInode(int fd, const Entry& e) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) {
    Note(std::string(RecordTypeName(e.type)) + " on unknown descriptor " +
         std::to_string(fd));
    return nullptr;
  }
  return inodes_[it->second.ino].get();
}

void Model::ApplyFileChange(const Entry& e, uint64_t seq) {
  Inode* inode = nullptr;
  bool dsync = false;
  if (e.type == RecordType::kTruncate && e.fd < 0) {
    uint64_t parent = 0;
    std::string name;
    uint64_t ino = Lookup(e.path1, &parent, &name);
    if (ino != 0) inode = inodes_[ino].get();
    if (ino == 0) Note("truncate of unknown " + e.path1);
  } else {
    inode = FdInode(e.fd, e);
    auto it = fds_.find(e.fd);
    dsync = it != fds_.end() && it->second.dsync;
  }
  if (inode == nullptr || inode->dir) return;
  if (e.type == RecordType::kFallocate &&
      (e.a & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) != 0) {
    Note("fallocate collapse/insert range is not modelled");
    return;
  }
  Change ch;
  ch.seq = seq;
  ch.kind = e.type;
  ch.a = e.a;
  ch.b = e.b;
  ch.c = e.c;
  ch.data = e.data;
  ch.durable = e.type == RecordType::kWrite && (dsync || e.b != 0);
  inode->changes.push_back(std::move(ch));
}

void Model::ApplyNamespace(const Entry& e, uint64_t seq) {
  uint64_t p1 = 0, p2 = 0;
  std::string n1, n2;
  uint64_t src = Lookup(e.path1, &p1, &n1);
  if (e.type == RecordType::kMkdir) {
    if (p1 == 0) return Note("mkdir " + e.path1 + ": parent unknown");
    return AddEntryChange(p1, seq, n1, NewInode(true));
  }
  if (src == 0 || p1 == 0) {
    return Note(std::string(RecordTypeName(e.type)) + " of unknown " + e.path1);
  }
  if (e.type == RecordType::kUnlink || e.type == RecordType::kRmdir) {
    return AddEntryChange(p1, seq, n1, 0);
  }
  uint64_t dst = Lookup(e.path2, &p2, &n2);
  if (p2 == 0) return Note("rename/link to " + e.path2 + ": parent unknown");
  if (p1 == p2 && n1 == n2) return;
  AddEntryChange(p2, seq, n2, src);
  if (e.type == RecordType::kLink) return;
  bool exchange = (e.a & 2) != 0;  // RENAME_EXCHANGE
  AddEntryChange(p1, seq, n1, exchange ? dst : 0);
}

void Model::ApplySync(uint64_t ino, uint64_t start_seq) {
  Inode& n = *inodes_[ino];
  for (Change& ch : n.changes) {
    if (ch.seq < start_seq) ch.durable = true;
  }
  size_t folded = 0;
  while (folded < n.changes.size() && n.changes[folded].durable) {
    ApplyChange(n.changes[folded], &n.base);
    ++folded;
  }
  n.changes.erase(n.changes.begin(), n.changes.begin() + folded);
  for (EntryChange& ch : n.entry_changes) {
    if (ch.seq < start_seq) ch.durable = true;
  }
  folded = 0;
  while (folded < n.entry_changes.size() && n.entry_changes[folded].durable) {
    const EntryChange& ch = n.entry_changes[folded];
    if (ch.ino == 0) {
      n.durable_entries.erase(ch.name);
    } else {
      n.durable_entries[ch.name] = ch.ino;
    }
    ++folded;
  }
  n.entry_changes.erase(n.entry_changes.begin(),
                        n.entry_changes.begin() + folded);
}

void Model::CommitAllDirs(uint64_t start_seq) {
  for (size_t i = 1; i < inodes_.size(); ++i) {
    if (inodes_[i]->dir) ApplySync(i, start_seq);
  }
}

void Model::CommitAll(uint64_t start_seq) {
  for (size_t i = 1; i < inodes_.size(); ++i) ApplySync(i, start_seq);
}

void Model::Apply(const Entry& e, uint64_t seq) {
  switch (e.type) {
    case RecordType::kOpen:
      return ApplyOpen(e, seq);
    case RecordType::kClose:
      fds_.erase(e.fd);
      return;
    case RecordType::kDup: {
      auto it = fds_.find(e.fd2);
      if (it == fds_.end()) return Note("dup of unknown descriptor");
      fds_[e.fd] = it->second;
      return;
    }
    case RecordType::kWrite:
    case RecordType::kTruncate:
    case RecordType::kFallocate:
      return ApplyFileChange(e, seq);
    case RecordType::kRename:
    case RecordType::kUnlink:
    case RecordType::kMkdir:
    case RecordType::kRmdir:
    case RecordType::kLink:
      return ApplyNamespace(e, seq);
    case RecordType::kFsync: {
      auto it = fds_.find(e.fd);
      if (it == fds_.end()) return Note("fsync on unknown descriptor");
      ApplySync(it->second.ino, static_cast<uint64_t>(e.a));
      if (options_.dir == DirModel::kExt4) {
        CommitAllDirs(static_cast<uint64_t>(e.a));
      }
      return;
    }
    case RecordType::kSync:
      return CommitAll(static_cast<uint64_t>(e.a));
    case RecordType::kMmapShared:
      shared_mappings_.push_back(e.path1);
      return;
    case RecordType::kUnsupported:
      return Note("unsupported: " + e.path1);
    case RecordType::kBegin:
      if (seq != 0) Note("a second process logged (fork/exec under the shim)");
      return;
    case RecordType::kSyncFileRange:
    case RecordType::kMsync:
    case RecordType::kAck:
      return;
  }
}

Status Model::WriteDir(uint64_t ino, const std::string& path, uint64_t seed,
                       std::vector<bool>* visited) const {
  (*visited)[ino] = true;
  std::error_code ec;
  fs::create_directory(path, ec);
  if (ec) return Status::IOError("cannot create " + path + ": " + ec.message());
  const Inode& d = *inodes_[ino];
  std::map<std::string, uint64_t> names = d.durable_entries;
  for (const EntryChange& ch : d.entry_changes) {
    if (!ch.durable) continue;
    if (ch.ino == 0) {
      names.erase(ch.name);
    } else {
      names[ch.name] = ch.ino;
    }
  }
  for (const auto& [name, child] : names) {
    const Inode& n = *inodes_[child];
    std::string sub = path + "/" + name;
    if (n.dir) {
      if ((*visited)[child]) continue;  // reachable twice (a torn dir rename)
      Status s = WriteDir(child, sub, seed, visited);
      if (!s.ok()) return s;
      continue;
    }
    std::string bytes = n.base;
    size_t keep = 0;  // unsynced changes kept (DataModel::kPrefix)
    if (options_.data == DataModel::kPrefix) {
      keep = ScaleBelow(Mix64(seed ^ Mix64(child)), n.changes.size() + 1);
    }
    for (size_t i = 0; i < n.changes.size(); ++i) {
      if (n.changes[i].durable || i < keep) ApplyChange(n.changes[i], &bytes);
    }
    std::ofstream out(sub, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status::IOError("cannot write " + sub);
  }
  return Status::OK();
}

Status Model::Materialize(const std::string& out_dir,
                          uint64_t point_seed) const {
  std::vector<bool> visited(inodes_.size(), false);
  return WriteDir(root_, out_dir, point_seed, &visited);
}

}  // namespace kvb::powerloss
