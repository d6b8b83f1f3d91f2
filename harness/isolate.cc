#include "harness/isolate.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/cgroup.h"
#include "harness/results.h"

namespace kvb {
namespace {

using json = nlohmann::json;

// Exit codes of the child besides 0.
constexpr int kChildNoGo = 3;       // the parent never said go
constexpr int kChildException = 4;  // an exception escaped the point
constexpr int kChildWriteFailed = 5;

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// The child: waits for the parent's go (it is in the group then), runs the
// point, writes {"rep": entry} or {"error": {code, message}}; never returns.
[[noreturn]] void ChildMain(const RunSettings& settings, const CgroupRef& group,
                            const PointSpec& point, int repetition, int go_fd,
                            int out_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  char c = 0;
  if (read(go_fd, &c, 1) != 1) _exit(kChildNoGo);
  close(go_fd);
  std::string text;
  try {
    RunSettings s = settings;
    s.memory_cgroup = group;
    Runner runner(s);
    Result<RepResult> rep = runner.RunOnce(point, repetition);
    json out;
    if (rep.ok()) {
      out["rep"] = RepToJson(*rep, point.repetitions);
    } else {
      out["error"] = {{"code", static_cast<int>(rep.status().code())},
                      {"message", std::string(rep.status().message())}};
    }
    text = out.dump();
  } catch (...) {
    _exit(kChildException);
  }
  std::cout.flush();
  std::cerr.flush();
  _exit(WriteAll(out_fd, text) ? 0 : kChildWriteFailed);
}

// How the child ended, in words.
std::string DescribeEnd(int wstatus, const CgroupMemoryFigures& f,
                        uint64_t limit) {
  std::string what;
  if (WIFSIGNALED(wstatus)) {
    const int sig = WTERMSIG(wstatus);
    what = "the point's process was killed by signal " + std::to_string(sig) +
           " (" + strsignal(sig) + ")";
  } else if (WIFEXITED(wstatus)) {
    switch (WEXITSTATUS(wstatus)) {
      case kChildException:
        what = "the point's process ended with an exception";
        break;
      case kChildWriteFailed:
        what = "the point's process could not write its result";
        break;
      default:
        what = "the point's process exited with status " +
               std::to_string(WEXITSTATUS(wstatus)) + " and no result";
    }
  }
  if (f.oom_kills > 0) {
    what += ": out of memory under --memory-limit " + FormatMemorySize(limit) +
            " (the cgroup's OOM killer ran " + std::to_string(f.oom_kills) +
            " time" + (f.oom_kills == 1 ? "" : "s") + ")";
  }
  return what;
}

void AddGroupFigures(const MemoryCgroup& group, const CgroupMemoryFigures& f,
                     RepResult* rep) {
  MemoryCapResult& m = rep->memory_cap;
  m.limit_bytes = group.limit_bytes();
  m.cgroup = group.version_name();
  m.swap_capped = group.swap_capped();
  m.peak_bytes = f.peak_bytes;
  m.peak_source = f.peak_bytes >= 0 ? group.peak_source() : "";
  m.oom_kills = f.oom_kills;
  if (f.peak_bytes < 0) {
    rep->notes.push_back("memory cgroup: no " + group.peak_source() +
                         " on this kernel, peak unknown");
  }
}

// The parent's reading of the child's output.
Result<RepResult> FromChild(const std::string& text, const PointSpec& point,
                            int repetition) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return FailedRepetition(point, repetition,
                            Status::IOError("the point's process wrote an "
                                            "unreadable result"));
  }
  if (j.contains("error")) {
    const json& e = j["error"];
    return FailedRepetition(
        point, repetition,
        Status(static_cast<StatusCode>(e.value("code", 4)),
               e.value("message", std::string("unknown error"))));
  }
  Result<RepResult> rep = RepFromJson(j.value("rep", json::object()));
  if (!rep.ok()) return FailedRepetition(point, repetition, rep.status());
  return rep;
}

}  // namespace

Status CheckMemoryLimit(uint64_t limit_bytes) {
  Result<MemoryCgroup> g = MemoryCgroup::Create(limit_bytes);
  if (!g.ok()) return g.status();
  return g->Remove();
}

Result<RepResult> RunInMemoryCgroup(const RunSettings& settings,
                                    const PointSpec& point, int repetition) {
  KVB_ASSIGN_OR_RETURN(MemoryCgroup group,
                       MemoryCgroup::Create(settings.memory_limit));
  int go[2], out[2];
  if (pipe2(go, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  if (pipe2(out, O_CLOEXEC) != 0) {
    Status s = Status::FromErrno(errno, "pipe");
    close(go[0]);
    close(go[1]);
    return s;
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    Status s = Status::FromErrno(errno, "fork");
    for (int fd : {go[0], go[1], out[0], out[1]}) close(fd);
    return s;
  }
  if (pid == 0) {
    close(go[1]);
    close(out[0]);
    ChildMain(settings, group.ref(), point, repetition, go[0], out[1]);
  }
  close(go[0]);
  close(out[1]);
  Status moved = group.AddProcess(pid);
  if (moved.ok() && write(go[1], "g", 1) != 1)
    moved = Status::FromErrno(errno, "pipe");
  close(go[1]);
  if (!moved.ok()) kill(pid, SIGKILL);
  std::string text = ReadAll(out[0]);
  close(out[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  CgroupMemoryFigures f = group.Read();
  Status removed = group.Remove();
  KVB_RETURN_IF_ERROR(moved);
  const bool clean = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
  Result<RepResult> rep =
      clean ? FromChild(text, point, repetition)
            : FailedRepetition(
                  point, repetition,
                  Status::Aborted(DescribeEnd(wstatus, f, group.limit_bytes())));
  if (!rep.ok()) return rep;
  AddGroupFigures(group, f, &*rep);
  if (!removed.ok()) rep->notes.push_back("memory cgroup: " + removed.ToString());
  return rep;
}

}  // namespace kvb
