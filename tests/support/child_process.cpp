// The parent side of the child-process harness (child_process.h): builds the child's environment
// and argument vector, starts it with posix_spawn, waits with a deadline, captures its output and
// describes how it ended. Runs on the test thread of the parent; nothing here runs in the child.
#include "child_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "self_exec.h"

extern "C" char** environ;

namespace gidlog_test {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Name, state and wait channel of every thread of `pid`, one per line: what a hang is stuck in.
std::string describe_threads(pid_t pid) {
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
bool wait_pid_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status) {
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child any more: nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::string temp_capture(const char* what) {
  std::string t = "/tmp/gidlog_child_" + std::to_string(::getpid()) + "_" + what + "_XXXXXX";
  int fd = ::mkstemp(t.data());
  if (fd >= 0) ::close(fd);
  return t;
}

// This process's environment, less GIDLOG_LEVEL and the names `extra` sets, plus `extra`.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  auto replaced = [&extra](std::string_view entry) {
    std::string_view name_eq = entry.substr(0, entry.find('=') + 1);
    if (name_eq == "GIDLOG_LEVEL=") return true;
    for (const std::string& e : extra)
      if (std::string_view(e).substr(0, e.find('=') + 1) == name_eq) return true;
    return false;
  };
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (!replaced(*e)) env.emplace_back(*e);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (std::string& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// Starts this executable with `args` and waits for it: both kinds of child come through here.
child_result run_self(const std::vector<std::string>& args, const child_options& opt) {
  child_result res;
  std::string exe(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n <= 0) {
    res.timed_out = true;
    res.err = "readlink(/proc/self/exe) failed";
    return res;
  }
  exe.resize(static_cast<std::size_t>(n));

  std::vector<std::string> env_strings = child_environment(opt.env);
  std::vector<char*> envp = pointers(env_strings);
  // Through the emulator when the tests run under one (self_exec.h).
  std::vector<std::string> arg_strings = self_exec_args(exe, args);
  std::vector<char*> argv = pointers(arg_strings);

  const std::string out_path = temp_capture("out"), err_path = temp_capture("err");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (opt.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&fa, opt.stdout_fd, STDOUT_FILENO);
  else posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_TRUNC, 0);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&at, &all);  // e.g. SIGPIPE, which a test runner may ignore
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &fa, &at, argv.data(), envp.data());
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    ::unlink(out_path.c_str());
    ::unlink(err_path.c_str());
    res.timed_out = true;
    res.err = std::string("posix_spawn failed: ") + std::strerror(rc);
    return res;
  }
  res.pid = pid;
  int status = 0;
  if (!wait_pid_until(pid, t0 + opt.deadline, status)) {
    res.timed_out = true;
    res.threads_at_deadline = describe_threads(pid);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  res.status = status;
  if (opt.stdout_fd < 0) res.out = slurp(out_path);
  res.err = slurp(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return res;
}

}  // namespace

void write_facts(const std::string& path, const child_facts& f) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& [k, v] : f) out << k << '=' << v << '\n';
}

child_facts read_facts(const std::string& path) {
  child_facts f;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) f[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return f;
}

std::string child_result::describe() const {
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

child_result run_child(const std::string& name, const child_options& opt) {
  return run_self({"--gidlog-child", name}, opt);
}

child_result run_child_test(const std::string& test_name, const child_options& opt) {
  return run_self({test_name}, opt);
}

std::optional<int> wait_child_for(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  if (wait_pid_until(pid, std::chrono::steady_clock::now() + timeout, status)) return status;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return std::nullopt;
}

std::string crash_sanitizer_env(const char* name) {
  std::string o = child_env(name);
  if (!o.empty()) o += ':';
  o += "handle_segv=0:handle_sigbus=0:handle_sigill=0:handle_sigfpe=0:handle_abort=0";
  // A crash on the backend thread drains on that thread, which allocates (README, "Nothing is
  // lost"); TSan reports any allocation inside a signal handler.
  if (std::string_view(name) == "TSAN_OPTIONS") o += ":report_signal_unsafe=0";
  return std::string(name) + "=" + o;
}

}  // namespace gidlog_test
