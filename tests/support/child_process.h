#pragma once
// The tests' one child-process harness: runs part of a test executable in a child process, the
// way crashes, exits, dead pipes and process-wide loggers happen in production, and tells the
// parent how the child ended. The child is this test executable started again (a clean process
// with its own logger), in one of two forms:
//
// - A scenario (run_child): the child runs it as the program's main() itself, with no Catch in
//   the process. Crash and exit tests need that: an uncaught exception must reach std::terminate
//   with the throwing frame still on the stack (Catch would catch it), a crash must meet only
//   gidlog's signal handlers (Catch installs its own around each test case), and "main returns"
//   must mean exactly that (thread_local and static destructors, exit() running stop()).
//
//     GIDLOG_CHILD_SCENARIO(segv) {             // the child's main(): returns its exit status
//       gidlog::start(opt);
//       crash_by_null_write();
//       return 0;
//     }
//     TEST_CASE("...") {
//       auto r = gidlog_test::run_child("segv", {.env = {"GIDLOG_TEST_LOG=" + path}});
//       CHECK(r.killed_by(SIGSEGV));
//     }
//
//   How the child becomes the scenario: the executable is compiled with GIDLOG_TEST_CHILD_MAIN and
//   linked with -Wl,--wrap=main (gidlog_test_child_main() in tests/CMakeLists.txt), so the C
//   runtime calls __wrap_main below, which runs the scenario named by `--gidlog-child NAME` and
//   otherwise calls Catch's main. Without the link option, an executable defining
//   GIDLOG_TEST_CHILD_MAIN fails to link (undefined __real_main) instead of running the whole
//   suite in every child; without the macro, run_child's children reject the unknown option
//   `--gidlog-child` and exit with an error.
//
// - A hidden Catch test case (run_child_test), in executables that keep Catch's main: for
//   scenarios whose failure would take the process down (SIGPIPE) or that need a process-wide
//   logger of their own. The test case ends with end_child() and reports through write_facts().
//
//     TEST_CASE("child: my scenario", "[.]") {        // hidden: runs only when named
//       const std::string dir = gidlog_test::child_env("MY_DIR");
//       if (dir.empty()) return;                       // run by hand, not as a child
//       ...
//       gidlog_test::end_child(0);                     // no Catch report: stdout may be a dead pipe
//     }
//     TEST_CASE("...") {
//       auto r = gidlog_test::run_child_test("child: my scenario", {.env = {"MY_DIR=" + dir}});
//       CHECK(r.exited_with(0));
//     }
//
// Either way the child starts with every signal at its default action and none blocked (whatever
// the test runner ignored or blocked), stdin from /dev/null, the parent's environment plus
// child_options::env and without GIDLOG_LEVEL; the parent waits with a deadline and gets a
// child_result: the wait status, stdout, stderr, and a readable account of how the child ended.
// The log lines the child wrote are read back with log_lines.h.
//
// Threading: run_child and run_child_test are called on the test thread; scenarios run in the
// child process only.
#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

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

// The value of environment variable `name` in this process ("" when unset): in a child, what the
// parent passed in child_options::env.
inline std::string child_env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// Ends a child test case now with `code`: no Catch report (its stdout may be a pipe nobody reads)
// and no exit handlers. The scenario stops the logger first.
[[noreturn]] inline void end_child(int code) { std::_Exit(code); }

// What a child measured in itself, as "key=value" lines (values without '\n'): written by the
// child to a file the parent names, read by the parent after the child ended.
using child_facts = std::map<std::string, std::string>;
void write_facts(const std::string& path, const child_facts& f);
child_facts read_facts(const std::string& path);

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
  bool timed_out = false;               // the parent killed it at the deadline (or could not start it)
  std::chrono::milliseconds elapsed{};  // from the start to reaping
  std::string out;                      // its stdout (unless child_options::stdout_fd was given)
  std::string err;                      // its stderr
  std::string threads_at_deadline;      // when timed out: each thread's name, state and wait channel

  bool exited() const { return !timed_out && WIFEXITED(status); }
  bool exited_with(int code) const { return exited() && WEXITSTATUS(status) == code; }
  bool signaled() const { return !timed_out && WIFSIGNALED(status); }
  bool killed_by(int sig) const { return signaled() && WTERMSIG(status) == sig; }

  // "exited with 3", "killed by SIGSEGV", "timed out ... (threads: ...)", the time, then stderr's
  // tail: for INFO() in the test that ran the child.
  std::string describe() const;
};

// Starts this executable again running scenario `name` (GIDLOG_CHILD_SCENARIO) and waits for it
// at most opt.deadline.
child_result run_child(const std::string& name, const child_options& opt = {});

// Starts this executable running the Catch test case `test_name` (a plain name: no commas,
// brackets, quotes or wildcards) and waits for it at most opt.deadline.
child_result run_child_test(const std::string& test_name, const child_options& opt = {});

// Waits for child `pid` (of this process) at most `timeout`; on timeout kills it with SIGKILL and
// reaps it. For scenarios that fork() themselves. Returns the wait status, or nullopt on timeout.
std::optional<int> wait_child_for(pid_t pid, std::chrono::milliseconds timeout);

// "NAME=options" for a child that crashes on purpose, `name` being ASAN_OPTIONS or TSAN_OPTIONS:
// this process's own options plus those that leave the crash to gidlog's handler. Under ASan or
// TSan the sanitizer's own SEGV/abort reports would replace the default action the crash handler
// chains to (TSan even takes the SEGV before any handler of the program), so the child runs
// without them and its wait status is the signal's.
std::string crash_sanitizer_env(const char* name);

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
