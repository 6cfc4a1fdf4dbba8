#pragma once
// A real systemd-journald for the journald sink's integration tests (tests/integration/
// sinks_journald.cpp), run privately so that it never touches the machine's own journal.
//
//   gidlog_test::journald_daemon d;           // temp dir, private journald, waits for READY=1
//   opt.sinks = {gidlog::journald_sink({.socket_path = d.socket()})};
//   ... log, gidlog::flush() ...
//   d.sync();                                  // journald has written all it received (varlink)
//   std::string json_lines = d.journalctl({"-o", "json", "REQ=r-42"});  // one object per line
//   d.kill();  d.start();                      // SIGKILL mid-run, then again on the same dirs
//
// How it is private: the child forked for journald enters a mount namespace and a network
// namespace of its own (unshare(CLONE_NEWNS | CLONE_NEWNET); the network one only so that
// journald cannot join the kernel's audit multicast group, which works in the first network
// namespace alone), mounts a tmpfs on /run there, and bind-mounts two directories of the test's
// temp dir onto /run/systemd/journal (journald's sockets: the test reaches
// <dir>/sock/socket) and /run/log/journal (its volatile journal files, which journalctl reads
// with --directory). A drop-in in the namespace's /run/systemd/journald.conf.d sets
// Storage=volatile, no kernel log reading, no forwarding and no rate limit; SYSTEMD_LOG_TARGET
// sends journald's own messages to <dir>/journald.out instead of the kernel log. Nothing outside
// the temp dir changes, and the host's journald (if any) keeps running untouched.
//
// It needs root (CAP_SYS_ADMIN for the namespace and the mounts) and the Debian package systemd
// (/lib/systemd/systemd-journald, journalctl). Without either the constructor throws with the
// reason, so the test fails: it never skips. Every wait has a deadline (x GIDLOG_TEST_TIME_SCALE).
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_timing.h"

extern "C" char** environ;

namespace gidlog_test {

class journald_daemon {
 public:
  static constexpr const char* journald_exe = "/lib/systemd/systemd-journald";
  static constexpr const char* journalctl_exe = "/usr/bin/journalctl";

  // Makes the temp dir; starts journald unless `start_now` is false (a test of a missing journald
  // points the sink at socket() first and calls start() later).
  explicit journald_daemon(bool start_now = true) {
    for (const char* exe : {journald_exe, journalctl_exe})
      if (::access(exe, X_OK) != 0)
        throw std::runtime_error(std::string(exe) +
                                 " not found: the journald sink is tested against a real systemd-journald. Install "
                                 "it with `apt-get install systemd` (./dev.sh test does)");
    char tmpl[] = "/tmp/gidlog_journald_XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("journald_daemon: mkdtemp failed");
    dir_ = tmpl;
    ::mkdir((dir_ + "/sock").c_str(), 0755);
    ::mkdir((dir_ + "/log").c_str(), 0755);
    if (start_now) start();
  }
  journald_daemon(const journald_daemon&) = delete;
  journald_daemon& operator=(const journald_daemon&) = delete;
  ~journald_daemon() {
    kill();
    if (std::getenv("GIDLOG_TEST_KEEP") == nullptr) std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  // journald's native socket, as the test process reaches it.
  std::string socket() const { return dir_ + "/sock/socket"; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

  // Starts journald (again: on the same directories, so it finds the files it wrote before) and
  // returns once it said READY=1. Throws with the reason when it cannot.
  void start() {
    kill();
    const std::string notify_path = dir_ + "/notify";
    ::unlink(notify_path.c_str());
    const int notify = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::snprintf(un.sun_path, sizeof un.sun_path, "%s", notify_path.c_str());
    if (notify < 0 || ::bind(notify, reinterpret_cast<const sockaddr*>(&un), sizeof un) != 0)
      throw std::runtime_error("journald_daemon: cannot bind the notify socket " + notify_path + ": " +
                               std::strerror(errno));

    // Everything the child needs, made before fork(): after it, only system calls until exec.
    const std::string sock_dir = dir_ + "/sock", log_dir = dir_ + "/log", out_path = dir_ + "/journald.out";
    const std::string conf =
        "[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToKMsg=no\nForwardToConsole=no\n"
        "ForwardToWall=no\nRateLimitIntervalSec=0\nRateLimitBurst=0\n";
    std::vector<std::string> env_s{"NOTIFY_SOCKET=" + notify_path, "SYSTEMD_LOG_TARGET=console",
                                   "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    std::vector<char*> envp;
    for (std::string& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    char* const argv[] = {const_cast<char*>(journald_exe), nullptr};
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int report[2];
    if (out < 0 || null_in < 0 || ::pipe2(report, O_CLOEXEC) != 0)
      throw std::runtime_error("journald_daemon: cannot open " + out_path + ", /dev/null or a pipe");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(report[0]);
      // Reports which step failed and its errno through the pipe (closed by a successful exec).
      auto die = [&](int step) {
        const int msg[2] = {step, errno};
        (void)!::write(report[1], msg, sizeof msg);
        ::_exit(127);
      };
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the test, even one killed by a sanitizer
      if (::getppid() != parent) ::_exit(127);
      if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) die(0);
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die(1);
      if (::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) die(2);
      for (const char* d : {"/run/systemd", "/run/systemd/journal", "/run/systemd/journald.conf.d", "/run/log",
                            "/run/log/journal"})
        if (::mkdir(d, 0755) != 0) die(3);
      if (::mount(sock_dir.c_str(), "/run/systemd/journal", nullptr, MS_BIND, nullptr) != 0) die(4);
      if (::mount(log_dir.c_str(), "/run/log/journal", nullptr, MS_BIND, nullptr) != 0) die(5);
      const int c = ::open("/run/systemd/journald.conf.d/zz-gidlog-test.conf", O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (c < 0 || ::write(c, conf.data(), conf.size()) != static_cast<ssize_t>(conf.size())) die(6);
      ::close(c);
      ::dup2(null_in, STDIN_FILENO);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
      ::execve(journald_exe, argv, envp.data());
      die(7);
    }
    const int fork_errno = errno;
    ::close(out);
    ::close(null_in);
    ::close(report[1]);
    if (pid_ < 0) {
      ::close(report[0]);
      ::close(notify);
      throw std::runtime_error(std::string("journald_daemon: fork: ") + std::strerror(fork_errno));
    }
    int msg[2] = {-1, 0};
    ssize_t got;
    while ((got = ::read(report[0], msg, sizeof msg)) < 0 && errno == EINTR) {
    }
    ::close(report[0]);
    if (got == sizeof msg) {
      ::close(notify);
      reap();
      static const char* const steps[] = {
          "cannot create a private mount namespace (unshare(CLONE_NEWNS | CLONE_NEWNET), which needs root)",
          "cannot make the mounts private (mount --make-rprivate /)",
          "cannot mount a tmpfs on /run in the private namespace",
          "cannot make /run/systemd/journal and /run/log/journal in the private /run",
          "cannot bind-mount the socket dir onto /run/systemd/journal",
          "cannot bind-mount the journal dir onto /run/log/journal",
          "cannot write the journald.conf drop-in",
          "cannot exec /lib/systemd/systemd-journald"};
      throw std::runtime_error(std::string("journald_daemon: ") + steps[msg[0]] + ": " + std::strerror(msg[1]));
    }

    // journald says READY=1 on NOTIFY_SOCKET once its sockets listen (sd_notify, as under systemd).
    const auto until = std::chrono::steady_clock::now() + wakeup_deadline(std::chrono::seconds(10));
    for (;;) {
      pollfd p{notify, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char buf[4096];
        const ssize_t n = ::recv(notify, buf, sizeof buf - 1, MSG_DONTWAIT);  // fds it stores are dropped
        if (n > 0 && std::string_view(buf, static_cast<std::size_t>(n)).find("READY=1") != std::string_view::npos)
          break;
        continue;
      }
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        ::close(notify);
        throw std::runtime_error("systemd-journald exited at start-up:\n" + output());
      }
      if (std::chrono::steady_clock::now() >= until) {
        ::close(notify);
        kill();
        throw std::runtime_error("systemd-journald did not say READY=1 within 10 s:\n" + output());
      }
    }
    ::close(notify);
  }

  // SIGKILL, as a crash would, and reap it. Its socket file stays: a sender gets ECONNREFUSED.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    reap();
  }

  // Returns once journald has processed every record its socket received before the call and
  // written it to its files: the varlink call io.systemd.Journal.Synchronize, which is what
  // `journalctl --sync` sends (its reply comes from an idle-priority event, after the queue).
  void sync() const {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::snprintf(un.sun_path, sizeof un.sun_path, "%s/sock/io.systemd.journal", dir_.c_str());
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&un), sizeof un) != 0) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      throw std::runtime_error(std::string("journald_daemon::sync: connect to ") + un.sun_path + ": " +
                               std::strerror(err));
    }
    static const char call[] = "{\"method\":\"io.systemd.Journal.Synchronize\",\"parameters\":{}}";
    (void)!::write(fd, call, sizeof call);  // with its NUL: varlink's message terminator
    std::string reply;
    const auto until = std::chrono::steady_clock::now() + wakeup_deadline(std::chrono::seconds(10));
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char buf[512];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
        if (reply.find('\0') != std::string::npos) break;
      }
      if (std::chrono::steady_clock::now() >= until) break;
    }
    ::close(fd);
    if (reply.find('\0') == std::string::npos || reply.find("\"error\"") != std::string::npos)
      throw std::runtime_error("journald_daemon::sync: no answer from journald within 10 s (got \"" + reply + "\")");
  }

  // The output of `journalctl --directory <dir>/log --all ARGS...` (a match "REQ=r-42", an
  // option "-o json"...), in journal order. --all: with -o json, a field over 4 KiB would
  // otherwise come back as null. Throws with journalctl's stderr when it fails.
  std::string journalctl(const std::vector<std::string>& args) const {
    std::string cmd = std::string(journalctl_exe) + " --no-pager --all --directory '" + dir_ + "/log'";
    for (const std::string& a : args) cmd += " '" + a + "'";
    cmd += " 2>'" + dir_ + "/journalctl.err'";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) throw std::runtime_error("journald_daemon: popen failed");
    std::string text;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
    const int status = ::pclose(p);
    if (status != 0) throw std::runtime_error("journald_daemon: `" + cmd + "` failed: " + file_text(dir_ + "/journalctl.err"));
    return text;
  }

  // journald's own messages (SYSTEMD_LOG_TARGET=console), for a failure message.
  std::string output() const { return file_text(dir_ + "/journald.out"); }

 private:
  static std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  void reap() {
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace gidlog_test
