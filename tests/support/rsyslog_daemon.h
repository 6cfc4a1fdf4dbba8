#pragma once
// A real rsyslogd for the syslog sink's integration tests (tests/integration/sinks_syslog*.cpp).
//
//   gidlog_test::rsyslog_daemon d;          // temp dir, config, `rsyslogd -n`, waits until it listens
//   opt.sinks = {gidlog::syslog_sink({.address = "tcp://127.0.0.1:" + std::to_string(d.tcp_port())})};
//   auto recs = d.wait_for(10, 10s);          // what it received, one record per message
//   d.kill();  d.restart();                   // SIGKILL mid-run, then again on the same ports
//
// The daemon listens on a unix datagram socket in its temp dir (imuxsock, with the system socket
// off, so /dev/log is never touched), on UDP and on TCP on loopback ports the kernel picks, and
// writes each message it receives as one line of out.log: PRI, severity, facility, APP-NAME,
// PROCID, MSGID, HOSTNAME, structured data and MSG, tab-separated (rsyslog writes a tab or a
// newline inside a message as #011 / #012, so the fields cannot run together). It runs without
// root: nothing outside its temp dir, no privileged port.
//
// rsyslogd missing is an error, never a skip: the tests exist to run against the real daemon, and
// `./dev.sh test` installs it (Debian package rsyslog). Everything waits with a deadline: a daemon
// that does not come up within 10 s (x GIDLOG_TEST_TIME_SCALE) throws with its own output.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_timing.h"

extern "C" char** environ;

namespace gidlog_test {

// One message as rsyslog parsed it.
struct rsyslog_record {
  int pri = -1, severity = -1, facility = -1;
  std::string app, procid, msgid, host, sd, msg;
};

// Starts `exe -n -f conf -i pidfile` (rsyslogd in the foreground) with stdin from /dev/null and
// stdout and stderr appended to `out_log`, and returns its pid. The child dies with the test even
// when the test dies without running destructors (a sanitizer abort): PR_SET_PDEATHSIG. Throws
// naming what failed.
// The inodes of the sockets process `pid` has open: its descriptors' "socket:[inode]" targets.
inline std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> out;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(fd_dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    char target[64] = {};
    const ssize_t n = ::readlink((fd_dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
    const std::string t(target, n > 0 ? static_cast<std::size_t>(n) : 0);
    if (t.starts_with("socket:[")) out.insert(t.substr(8, t.size() - 9));
  }
  ::closedir(d);
  return out;
}

// The local ports of the sockets among `inodes` that `table` (/proc/net/udp, tcp, tcp6) lists in
// `state` (the kernel's hex code: "0A" LISTEN, "07" UNCONN, i.e. a bound UDP socket).
inline std::set<int> ports_in_state(const std::set<std::string>& inodes, const char* table, const char* state) {
  std::set<int> ports;
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
    ss >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
    if (st == state && inodes.contains(inode))
      ports.insert(static_cast<int>(std::stoul(local.substr(local.rfind(':') + 1), nullptr, 16)));
  }
  return ports;
}

inline pid_t spawn_rsyslogd(const std::string& exe, const std::string& conf, const std::string& pidfile,
                            const std::string& out_log) {
  std::vector<std::string> args{exe, "-n", "-f", conf, "-i", pidfile};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int out = ::open(out_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || null_in < 0) {
    if (out >= 0) ::close(out);
    if (null_in >= 0) ::close(null_in);
    throw std::runtime_error("spawn_rsyslogd: cannot open " + out_log + " or /dev/null");
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(out);
  ::close(null_in);
  if (pid < 0) throw std::runtime_error(std::string("spawn_rsyslogd: fork: ") + std::strerror(fork_errno));
  return pid;
}

class rsyslog_daemon {
 public:
  rsyslog_daemon() {
    exe_ = find_rsyslogd();
    char tmpl[] = "/tmp/gidlog_rsyslog_XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("rsyslog_daemon: mkdtemp failed");
    dir_ = tmpl;
    ::mkdir((dir_ + "/work").c_str(), 0700);
    start(0, 0);
  }
  rsyslog_daemon(const rsyslog_daemon&) = delete;
  rsyslog_daemon& operator=(const rsyslog_daemon&) = delete;
  ~rsyslog_daemon() {
    kill();
    if (std::getenv("GIDLOG_TEST_KEEP") == nullptr) std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  std::string unix_socket() const { return dir_ + "/log.sock"; }
  int udp_port() const { return udp_port_; }
  int tcp_port() const { return tcp_port_; }
  const std::string& dir() const { return dir_; }

  // SIGKILL, as a crash would, and reap it: it answers nothing afterwards.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  // Starts it again on the same ports, the same socket path and the same output file.
  void restart() {
    kill();
    start(udp_port_, tcp_port_);
  }

  // Every record in out.log so far.
  std::vector<rsyslog_record> records() const {
    std::vector<rsyslog_record> out;
    std::ifstream in(dir_ + "/out.log", std::ios::binary);
    for (std::string line; std::getline(in, line);) {
      rsyslog_record r;
      std::vector<std::string> f;
      std::size_t at = 0;
      for (int i = 0; i < 8; ++i) {
        const std::size_t tab = line.find('\t', at);
        if (tab == std::string::npos) break;
        f.push_back(line.substr(at, tab - at));
        at = tab + 1;
      }
      if (f.size() != 8) continue;  // a line being written: read it next time
      r.pri = std::atoi(f[0].c_str());
      r.severity = std::atoi(f[1].c_str());
      r.facility = std::atoi(f[2].c_str());
      r.app = f[3];
      r.procid = f[4];
      r.msgid = f[5];
      r.host = f[6];
      r.sd = f[7];
      r.msg = line.substr(at);
      out.push_back(std::move(r));
    }
    return out;
  }

  // Polls out.log until `done(records)` holds or `timeout` passes; returns the last read.
  std::vector<rsyslog_record> wait_until(const std::function<bool(const std::vector<rsyslog_record>&)>& done,
                                         std::chrono::milliseconds timeout) const {
    const auto until = std::chrono::steady_clock::now() + wakeup_deadline(timeout);
    for (;;) {
      std::vector<rsyslog_record> r = records();
      if (done(r) || std::chrono::steady_clock::now() >= until) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::vector<rsyslog_record> wait_for(std::size_t count, std::chrono::milliseconds timeout) const {
    return wait_until([count](const std::vector<rsyslog_record>& r) { return r.size() >= count; }, timeout);
  }

  // rsyslogd's own stdout and stderr, for a failure message.
  std::string output() const {
    std::ifstream in(dir_ + "/rsyslogd.out");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  static std::string find_rsyslogd() {
    std::vector<std::string> dirs;
    if (const char* path = std::getenv("PATH"); path != nullptr) {
      std::stringstream ss(path);
      for (std::string d; std::getline(ss, d, ':');) dirs.push_back(d);
    }
    dirs.insert(dirs.end(), {"/usr/sbin", "/sbin"});
    for (const std::string& d : dirs) {
      const std::string p = d + "/rsyslogd";
      if (::access(p.c_str(), X_OK) == 0) return p;
    }
    throw std::runtime_error(
        "rsyslogd not found (PATH, /usr/sbin, /sbin): the syslog sink is tested against a real rsyslog. "
        "Install it with `apt-get install rsyslog` (./dev.sh test does); the tests do not start the system service");
  }

  void write_config(int udp_port, int tcp_port) const {
    std::ofstream c(dir_ + "/rsyslog.conf", std::ios::trunc);
    c << "global(workDirectory=\"" << dir_ << "/work\")\n"
      << "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
      << "module(load=\"imudp\")\n"
      << "module(load=\"imtcp\")\n"
      << "template(name=\"gidlog_test\" type=\"string\" string=\"%pri%\\t%syslogseverity%\\t%syslogfacility%\\t"
         "%app-name%\\t%procid%\\t%msgid%\\t%hostname%\\t%structured-data%\\t%msg%\\n\")\n"
      << "ruleset(name=\"gidlog_test\") {\n"
      << "  action(type=\"omfile\" file=\"" << dir_ << "/out.log\" template=\"gidlog_test\")\n"
      << "}\n"
      // useSpecialParser off: the normal parsers, which read RFC 5424 and RFC 3164 alike.
      << "input(type=\"imuxsock\" Socket=\"" << unix_socket() << "\" ruleset=\"gidlog_test\" "
      << "useSpecialParser=\"off\" parseHostname=\"on\" ratelimit.interval=\"0\")\n"
      << "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" << udp_port << "\" ruleset=\"gidlog_test\")\n"
      // imtcp takes port 0 as "any" only with listenPortFileName.
      << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << tcp_port << "\" ruleset=\"gidlog_test\" "
      << "listenPortFileName=\"" << dir_ << "/tcp.port\")\n";
  }

  void start(int udp_port, int tcp_port) {
    write_config(udp_port, tcp_port);
    const std::string conf = dir_ + "/rsyslog.conf", pidfile = dir_ + "/rsyslogd.pid", log = dir_ + "/rsyslogd.out";
    pid_ = spawn_rsyslogd(exe_, conf, pidfile, log);
    // Listening: its UDP socket and TCP listener show in /proc, and the unix socket exists.
    const auto until = std::chrono::steady_clock::now() + wakeup_deadline(std::chrono::seconds(10));
    for (;;) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("rsyslogd exited at start-up:\n" + output());
      }
      const std::set<std::string> inodes = socket_inodes(pid_);
      const std::set<int> udp = ports_in_state(inodes, "/proc/net/udp", "07");
      const std::set<int> tcp = ports_in_state(inodes, "/proc/net/tcp", "0A");
      udp_port_ = udp.empty() ? 0 : *udp.begin();
      tcp_port_ = tcp.empty() ? 0 : *tcp.begin();
      struct stat st;
      if (udp_port_ > 0 && tcp_port_ > 0 && ::stat(unix_socket().c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return;
      if (std::chrono::steady_clock::now() >= until) {
        kill();
        throw std::runtime_error("rsyslogd did not listen within 10 s:\n" + output());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::string exe_, dir_;
  pid_t pid_ = -1;
  int udp_port_ = 0, tcp_port_ = 0;
};

}  // namespace gidlog_test
