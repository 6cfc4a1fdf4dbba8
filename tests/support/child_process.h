#pragma once
// Runs a test scenario in a child process, the way crashes and exits happen in production, for
// tests/integration/crash.cpp and lifecycle.cpp: the child is this test executable started again
// (fork + exec: a clean process with its own logger), and it runs the scenario as the program's
// main() itself, with no Catch in the process. The scenarios need that: an uncaught exception
// must reach std::terminate with the throwing frame still on the stack (Catch would catch it), a
// crash must meet only gidlog's signal handlers (Catch installs its own around each test case),
// and "main returns" must mean exactly that (thread_local and static destructors, exit() running
// stop()). The parent waits with a deadline and reads what the child left: its wait status, its
// stdout and stderr, and the files it wrote.
//
//   GIDLOG_CHILD_SCENARIO(segv) {             // the child's main(): returns its exit status
//     gidlog::start(opt);
//     crash_by_null_write();
//     return 0;
//   }
//   TEST_CASE("...") {
//     auto r = gidlog_test::run_child("segv", {.env = {"GIDLOG_TEST_LOG=" + path}});
//     CHECK(r.killed_by(SIGSEGV));
//   }
//
// How the child becomes the scenario: the executable is compiled with GIDLOG_TEST_CHILD_MAIN and
// linked with -Wl,--wrap=main (tests/crash.cmake), so the C runtime calls __wrap_main below,
// which runs the scenario named by `--gidlog-child NAME` and otherwise calls Catch's main. Without
// the link option, an executable defining GIDLOG_TEST_CHILD_MAIN fails to link (undefined
// __real_main) instead of running the whole suite in every child; without the macro, run_child's
// children reject the unknown option `--gidlog-child` and exit with an error.
//
// Threading: run_child is called on the test thread; scenarios run in the child process only.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern "C" char** environ;

#include "self_exec.h"

namespace gidlog_test {

// ---- child side ---------------------------------------------------------------------------------

using child_scenario = int (*)();

inline std::map<std::string, child_scenario>& child_scenarios() {
  static std::map<std::string, child_scenario> m;
  return m;
}

struct child_scenario_registrar {
  child_scenario_registrar(const char* name, child_scenario f) { child_scenarios().emplace(name, f); }
};

// The value of environment variable `name` in the child ("" when unset).
inline std::string child_env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// ---- parent side --------------------------------------------------------------------------------

struct child_options {
  // "NAME=value" entries added to the child's environment (replacing an inherited NAME).
  // GIDLOG_LEVEL is never inherited: a scenario sets it when it is about it.
  std::vector<std::string> env{};
  // The parent SIGKILLs the child when it has not exited by then; the result says timed_out.
  std::chrono::milliseconds deadline{60000};
  // The child's stdout; -1: a file the parent reads into child_result::out.
  int stdout_fd = -1;
};

struct child_result {
  pid_t pid = -1;                       // the child's process id (its main thread's gid)
  int status = 0;                       // raw wait status
  bool timed_out = false;               // the parent killed it at the deadline
  std::chrono::milliseconds elapsed{};  // from fork to reaping
  std::string out;                      // its stdout (unless child_options::stdout_fd was given)
  std::string err;                      // its stderr
  std::string threads_at_deadline;      // when timed out: each thread's name, state and wait channel

  bool exited() const { return !timed_out && WIFEXITED(status); }
  bool exited_with(int code) const { return exited() && WEXITSTATUS(status) == code; }
  bool signaled() const { return !timed_out && WIFSIGNALED(status); }
  bool killed_by(int sig) const { return signaled() && WTERMSIG(status) == sig; }

  // "exited with 3", "killed by SIGSEGV", "timed out ... (threads: ...)", the time, then stderr.
  std::string describe() const {
    std::string s;
    if (timed_out) {
      s = "timed out and was killed; its threads then:\n" + threads_at_deadline;
    } else if (WIFEXITED(status)) {
      s = "exited with " + std::to_string(WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
      const char* name = sigabbrev_np(WTERMSIG(status));
      s = "killed by " + (name != nullptr ? "SIG" + std::string(name) : "signal " + std::to_string(WTERMSIG(status)));
    } else {
      s = "wait status " + std::to_string(status);
    }
    s += " after " + std::to_string(elapsed.count()) + " ms";
    if (!err.empty()) {
      constexpr std::size_t tail = 4000;
      s += "\n--- child stderr" + std::string(err.size() > tail ? " (tail)" : "") + " ---\n" +
           (err.size() > tail ? err.substr(err.size() - tail) : err);
    }
    return s;
  }
};

namespace child_detail {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Name, state and wait channel of every thread of `pid`, one per line: what a hang is stuck in.
inline std::string describe_threads(pid_t pid) {
  std::string out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return "(cannot read " + dir + ")\n";
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string t = dir + "/" + e->d_name;
    std::string stat = slurp(t + "/stat");
    auto rp = stat.rfind(')');
    std::string state = rp != std::string::npos && rp + 2 < stat.size() ? stat.substr(rp + 2, 1) : "?";
    out += "  tid " + std::string(e->d_name) + " \"" + trim(slurp(t + "/comm")) + "\" state " + state +
           " wchan " + trim(slurp(t + "/wchan")) + "\n";
  }
  ::closedir(d);
  return out;
}

// Waits for `pid` until `deadline`; false when it passes with the child still running. Polls
// waitpid with short sleeps: a bounded wait on a process, not synchronisation between threads.
inline bool wait_pid_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status) {
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child any more: nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

inline std::string temp_capture(const char* what) {
  std::string t = "/tmp/gidlog_child_" + std::to_string(::getpid()) + "_" + what + "_XXXXXX";
  int fd = ::mkstemp(t.data());
  if (fd >= 0) ::close(fd);
  return t;
}

}  // namespace child_detail

// Waits for child `pid` (of this process) at most `timeout`; on timeout kills it with SIGKILL and
// reaps it. For scenarios that fork() themselves. Returns the wait status, or nullopt on timeout.
inline std::optional<int> wait_child_for(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  if (child_detail::wait_pid_until(pid, std::chrono::steady_clock::now() + timeout, status)) return status;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return std::nullopt;
}

// Starts this executable again running scenario `name` and waits for it (at most opt.deadline).
// The child starts with every signal at its default action and none blocked, whatever the test
// runner ignored or blocked. Call on the test thread.
inline child_result run_child(const std::string& name, const child_options& opt = {}) {
  child_result res;
  std::string exe(4096, '\0');
  ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n <= 0) {
    res.timed_out = true;
    res.err = "readlink(/proc/self/exe) failed";
    return res;
  }
  exe.resize(static_cast<std::size_t>(n));

  // Everything the child needs is built before fork(): between fork and exec only
  // async-signal-safe calls.
  std::vector<std::string> env_strings;
  auto overridden = [&opt](std::string_view entry) {
    std::string_view name_eq = entry.substr(0, entry.find('=') + 1);
    if (name_eq == "GIDLOG_LEVEL=") return true;
    for (const std::string& e : opt.env)
      if (std::string_view(e).substr(0, e.find('=') + 1) == name_eq) return true;
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e)
    if (!overridden(*e)) env_strings.emplace_back(*e);
  for (const std::string& e : opt.env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  // Through the emulator when the tests run under one (self_exec.h).
  std::vector<std::string> arg_strings = self_exec_args(exe, {"--gidlog-child", name});
  std::vector<char*> argv;
  for (std::string& a : arg_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::string out_path = child_detail::temp_capture("out"), err_path = child_detail::temp_capture("err");
  int out_fd = opt.stdout_fd >= 0 ? opt.stdout_fd : ::open(out_path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  int err_fd = ::open(err_path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);  // SIGKILL, SIGSTOP: EINVAL, fine
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  if (opt.stdout_fd < 0) ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  if (pid < 0) {
    res.timed_out = true;
    res.err = std::string("fork failed: ") + std::strerror(errno);
    return res;
  }
  res.pid = pid;
  int status = 0;
  if (!child_detail::wait_pid_until(pid, t0 + opt.deadline, status)) {
    res.timed_out = true;
    res.threads_at_deadline = child_detail::describe_threads(pid);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  res.status = status;
  if (opt.stdout_fd < 0) res.out = child_detail::slurp(out_path);
  res.err = child_detail::slurp(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return res;
}

// ---- reading what the child left ---------------------------------------------------------------

// One line of a log written with the default pattern "[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v".
// Lines that do not start a record (a multi-line message's later lines, a torn write) have
// `is_record` false and the whole line in `text`.
struct log_record {
  bool is_record = false;
  std::string level;  // "INFO", "FATAL", ...
  unsigned long gid = 0;
  std::string site;  // "file:line"
  std::string message;
  std::string text;  // the whole line
};

// Parses one line; written by hand because the files hold up to millions of lines.
inline log_record parse_log_line(const std::string& line) {
  log_record r;
  r.text = line;
  auto digits = [&line](std::size_t from, std::size_t n) {
    if (from + n > line.size()) return false;
    for (std::size_t i = from; i < from + n; ++i)
      if (line[i] < '0' || line[i] > '9') return false;
    return true;
  };
  // [MMDD/HHMMSS.mmm:
  if (line.size() < 19 || line[0] != '[' || !digits(1, 4) || line[5] != '/' || !digits(6, 6) || line[12] != '.' ||
      !digits(13, 3) || line[16] != ':')
    return r;
  std::size_t p = 17;
  std::size_t c = line.find(':', p);
  if (c == std::string::npos) return r;
  std::string level = line.substr(p, c - p);
  if (level != "TRACE" && level != "DEBUG" && level != "INFO" && level != "WARN" && level != "ERROR" && level != "FATAL")
    return r;
  p = c + 1;
  if (line.compare(p, 4, "gid-") != 0) return r;
  p += 4;
  std::size_t g = p;
  while (p < line.size() && line[p] >= '0' && line[p] <= '9') ++p;
  if (p == g || p - g > 10 || p >= line.size() || line[p] != ':') return r;
  unsigned long gid = std::stoul(line.substr(g, p - g));
  std::size_t close = line.find("] ", p);
  if (close == std::string::npos) return r;
  r.site = line.substr(p + 1, close - p - 1);
  r.message = line.substr(close + 2);
  r.level = std::move(level);
  r.gid = gid;
  r.is_record = true;
  return r;
}

inline std::vector<log_record> parse_log_text(const std::string& text) {
  std::vector<log_record> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(parse_log_line(line));
  return out;
}

inline std::vector<log_record> read_log(const std::string& path) { return parse_log_text(child_detail::slurp(path)); }

// The last `n` lines of a parsed log, for failure messages.
inline std::string tail_of(const std::vector<log_record>& log, std::size_t n = 15) {
  std::string s;
  for (std::size_t i = log.size() > n ? log.size() - n : 0; i < log.size(); ++i) s += log[i].text + "\n";
  return s;
}

}  // namespace gidlog_test

// Defines the child scenario `name`: its body is the child's main and returns the exit status.
#define GIDLOG_CHILD_SCENARIO(name)                                                   \
  static int gidlog_child_scenario_##name();                                          \
  static const ::gidlog_test::child_scenario_registrar gidlog_child_registrar_##name{ \
      #name, &gidlog_child_scenario_##name};                                          \
  static int gidlog_child_scenario_##name()

#ifdef GIDLOG_TEST_CHILD_MAIN
// The program's entry point under -Wl,--wrap=main (the reserved names are the linker's).
// Inline and `used`: one definition per executable however many of its files include this.
extern "C" int __real_main(int argc, char** argv);
extern "C" [[gnu::used]] inline int __wrap_main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--gidlog-child") == 0) {
    auto& all = gidlog_test::child_scenarios();
    auto it = all.find(argv[2]);
    if (it == all.end()) {
      std::fprintf(stderr, "no child scenario named \"%s\"\n", argv[2]);
      return 125;
    }
    return it->second();
  }
  return __real_main(argc, argv);
}
#endif
