#pragma once
// The argument vector that starts this test executable again (a child scenario), through the
// emulator when the test runs under one.
//
// Under qemu-user (the aarch64 cross build) the host kernel cannot exec an aarch64 executable
// unless a binfmt_misc handler for it is registered (package qemu-user-binfmt, rarely usable in a
// container): execve() fails with ENOEXEC, and a fork()ed child exits with 127. So the child goes
// through the same emulator. cmake/toolchains/aarch64-linux-gnu.cmake passes the emulator's
// command line, for example "/usr/bin/qemu-aarch64 -L /", in GIDLOG_TEST_EMULATOR to every program
// it runs, and only to those. Natively the variable is unset and the vector is {exe, args...}.
// qemu-user runs the guest in the process it was exec'ed in, so the child's pid is still the
// scenario's pid (its main thread's gid), and the guest's death by a signal is the process's.
//
//   std::vector<std::string> args = gidlog_test::self_exec_args(exe, {"--gidlog-child", name});
//   std::vector<char*> argv;
//   for (std::string& a : args) argv.push_back(a.data());
//   argv.push_back(nullptr);
//   ::execve(argv[0], argv.data(), envp);  // or posix_spawn(&pid, argv[0], ..., argv.data(), envp)
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace gidlog_test {

// Builds the vector before fork(): between fork and exec only async-signal-safe calls.
inline std::vector<std::string> self_exec_args(const std::string& exe, const std::vector<std::string>& args) {
  std::vector<std::string> out;
  if (const char* emulator = std::getenv("GIDLOG_TEST_EMULATOR"); emulator != nullptr) {
    std::istringstream words(emulator);  // an absolute path and its options, separated by spaces
    for (std::string w; words >> w;) out.push_back(w);
  }
  out.push_back(exe);
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

}  // namespace gidlog_test
