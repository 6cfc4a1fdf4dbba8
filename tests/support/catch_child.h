#pragma once
// Runs one hidden Catch test case of this executable in a child process: for scenarios whose
// failure would take the process down (SIGPIPE) or that need a process-wide logger of their own,
// in executables that keep Catch's main (child_process.h's GIDLOG_CHILD_SCENARIO needs the
// executable linked with -Wl,--wrap=main, see tests/crash.cmake). The child is this executable
// started again with the test case's name as its only argument, every signal at its default
// action and none blocked; the parent waits with a deadline and gets child_process.h's
// child_result (wait status, stdout, stderr).
//
//   TEST_CASE("child: my scenario", "[.]") {        // hidden: runs only when named
//     const std::string dir = gidlog_test::child_env("MY_DIR");
//     if (dir.empty()) return;                       // run by hand, not as a child
//     ...
//     gidlog_test::end_child(0);                     // no Catch report: stdout may be a dead pipe
//   }
//   TEST_CASE("...") {
//     auto r = gidlog_test::run_child_test("child: my scenario", {.env = {"MY_DIR=" + dir}});
//     CHECK(r.exited_with(0));
//   }
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "child_process.h"

#include "self_exec.h"

namespace gidlog_test {

// Starts this executable running the Catch test case `test_name` (a plain name: no commas,
// brackets, quotes or wildcards) and waits for it at most opt.deadline.
inline child_result run_child_test(const std::string& test_name, const child_options& opt = {}) {
  child_result res;
  std::string exe(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n <= 0) {
    res.timed_out = true;
    res.err = "readlink(/proc/self/exe) failed";
    return res;
  }
  exe.resize(static_cast<std::size_t>(n));

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name_eq = entry.substr(0, entry.find('=') + 1);
    bool replaced = name_eq == "GIDLOG_LEVEL=";
    for (const std::string& o : opt.env) replaced = replaced || std::string_view(o).substr(0, o.find('=') + 1) == name_eq;
    if (!replaced) env_strings.emplace_back(entry);
  }
  for (const std::string& e : opt.env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string name = test_name;
  // Through the emulator when the tests run under one (self_exec.h).
  std::vector<std::string> arg_strings = self_exec_args(exe, {name});
  std::vector<char*> argv;
  for (std::string& a : arg_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  const std::string out_path = child_detail::temp_capture("out"), err_path = child_detail::temp_capture("err");
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
    res.timed_out = true;
    res.err = std::string("posix_spawn failed: ") + std::strerror(rc);
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

// Ends the child now with `code`: no Catch report (its stdout may be a pipe nobody reads) and no
// exit handlers. The scenario stops the logger first.
[[noreturn]] inline void end_child(int code) { std::_Exit(code); }

// Polls `done` until it holds or `deadline` passes; true if it held. For a condition nothing
// signals (a file appearing), with a deadline so a test that fails ends.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// What a child measured in itself, as "key=value" lines (values without '\n').
using child_facts = std::map<std::string, std::string>;

inline void write_facts(const std::string& path, const child_facts& f) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& [k, v] : f) out << k << '=' << v << '\n';
}

inline child_facts read_facts(const std::string& path) {
  child_facts f;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) f[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return f;
}

}  // namespace gidlog_test
