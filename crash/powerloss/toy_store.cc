#include "crash/powerloss/toy_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace kvb::powerloss {

namespace {

Status WriteFile(const std::string& path, std::string_view bytes, bool sync) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t r = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      Status s = Status::FromErrno(errno, "write " + path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(r);
  }
  if (sync && ::fsync(fd) != 0) {
    Status s = Status::FromErrno(errno, "fsync " + path);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Status::FromErrno(errno, "close " + path);
  return Status::OK();
}

}  // namespace

bool IsToySpec(std::string_view spec) {
  return spec == "toy" || spec.substr(0, 4) == "toy:";
}

Result<ToyMode> ParseToySpec(std::string_view spec) {
  if (spec == "toy:mode=nosync") return ToyMode::kNoSync;
  if (spec == "toy:mode=correct" || spec == "toy") return ToyMode::kCorrect;
  if (spec == "toy:mode=rename-nodirsync") return ToyMode::kRenameNoDirSync;
  return Status::InvalidArgument(
      "unknown toy spec '" + std::string(spec) +
      "': use toy:mode=nosync, toy:mode=correct or toy:mode=rename-nodirsync");
}

Capabilities ToyAdapter::capabilities() const {
  Capabilities c;
  c.thread_safe = false;
  return c;
}

std::string ToyAdapter::PathOf(std::string_view key) const {
  static const char kHex[] = "0123456789abcdef";
  std::string name;
  for (unsigned char ch : key) {
    name.push_back(kHex[ch >> 4]);
    name.push_back(kHex[ch & 15]);
  }
  return dir_ + "/" + name;
}

Status ToyAdapter::SyncDir() const {
  if (mode_ != ToyMode::kCorrect) return Status::OK();
  int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open " + dir_);
  int r = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (r != 0) return Status::FromErrno(err, "fsync " + dir_);
  return Status::OK();
}

Status ToyAdapter::Open(const std::string& dir) {
  Status s = PrepareDirectory(dir);
  if (!s.ok()) return s;
  dir_ = dir;
  return Status::OK();
}

Status ToyAdapter::Put(std::string_view key, std::string_view value) {
  std::string path = PathOf(key);
  if (mode_ == ToyMode::kNoSync) return WriteFile(path, value, false);
  Status s = WriteFile(path + ".tmp", value, true);
  if (!s.ok()) return s;
  if (::rename((path + ".tmp").c_str(), path.c_str()) != 0) {
    return Status::FromErrno(errno, "rename " + path);
  }
  return SyncDir();
}

Status ToyAdapter::Get(std::string_view key, std::string* value) {
  std::string path = PathOf(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Status::NotFound();
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  value->clear();
  char buf[4096];
  ssize_t r;
  while ((r = ::read(fd, buf, sizeof(buf))) > 0) {
    value->append(buf, static_cast<size_t>(r));
  }
  int err = errno;
  ::close(fd);
  if (r < 0) return Status::FromErrno(err, "read " + path);
  return Status::OK();
}

Status ToyAdapter::Delete(std::string_view key) {
  std::string path = PathOf(key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "unlink " + path);
  }
  return SyncDir();
}

}  // namespace kvb::powerloss
