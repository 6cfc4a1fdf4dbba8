// The fleet recipe of the README ("Running it in a fleet"), run as written: two processes log
// through syslog_sink to a local rsyslogd (examples/rsyslog/local.conf, forwarding over RELP, or
// local-tcp.conf, over plain TCP), which forwards to a second rsyslogd, the central collector
// (examples/rsyslog/collector.conf). The test reads the example files themselves and replaces only
// the paths and ports (replace() below fails when one of them is no longer in the file, so the
// recipe and the test cannot drift apart). Both daemons run as this user, in a temp dir, on
// loopback ports.
//
// Each process logs `per_process` numbered records with named fields and a context field. The
// collector is stopped (SIGTERM, as for an upgrade) or killed (SIGKILL, as a crash) while records
// flow, the processes keep logging, and it is started again on the same ports. At the collector's
// file, every record has the host, the app, the process id, the context and the named fields as
// structured data, and:
//   RELP, SIGTERM: every record of each process once, in order: nothing lost, nothing twice.
//   RELP, SIGKILL: nothing lost, in order; the records the collector had written but not yet
//         acknowledged come again after its restart (RELP delivers at least once), as one run.
//   TCP:  what is missing is one run of consecutive records per process (what the dead
//         connection had taken), what comes twice is one run sent again after the restart, the
//         rest in order, every record logged after the restart there. The test prints how many.
// Without rsyslogd or rsyslog-relp's modules the test fails and names the package.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <gidlog/gidlog.h>

#include "rsyslog_daemon.h"
#include "test_timing.h"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr int per_process = 3000;
constexpr int before_freeze = 300;  // each process logs these, all at the collector before it freezes
constexpr int frozen_until = 600;   // each logs up to this record while the collector is frozen (SIGSTOP)
constexpr int outage_until = 2000;  // the processes log up to this record while the collector is down

const std::filesystem::path examples_dir = std::filesystem::path(__FILE__).parent_path() / "../../examples/rsyslog";

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `text` with every `from` replaced by its `to`; a `from` that is not in the text is an error.
std::string replace(std::string text, const std::vector<std::pair<std::string, std::string>>& subs,
                    const std::string& name) {
  for (const auto& [from, to] : subs) {
    std::size_t at = text.find(from);
    if (at == std::string::npos)
      throw std::runtime_error(name + " no longer has \"" + from + "\": update tests/integration/sinks_syslog_fleet.cpp");
    for (; at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  }
  return text;
}

std::string find_rsyslogd() {
  for (const char* p : {"/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"})
    if (::access(p, X_OK) == 0) return p;
  throw std::runtime_error("rsyslogd not found (/usr/sbin, /sbin, /usr/local/sbin): the fleet recipe is tested "
                           "against a real rsyslog. Install it with `apt-get install rsyslog` (./dev.sh test does)");
}

// rsyslogd loads a module it cannot find with an error message and goes on without it; say so first.
void require_relp_modules() {
  for (const char* module : {"omrelp.so", "imrelp.so"}) {
    bool found = false;
    for (const char* dir : {"/usr/lib/*/rsyslog/", "/usr/lib/rsyslog/", "/usr/lib64/rsyslog/"}) {
      glob_t g{};
      found = found || ::glob((std::string(dir) + module).c_str(), 0, nullptr, &g) == 0;
      ::globfree(&g);
    }
    if (!found)
      throw std::runtime_error(std::string("rsyslog's RELP module ") + module +
                               " not found (/usr/lib/*/rsyslog, /usr/lib/rsyslog, /usr/lib64/rsyslog): install "
                               "it with `apt-get install rsyslog-relp` (./dev.sh test does)");
  }
}

// A TCP port nobody listens on now (the kernel's pick); the collector keeps it across its restart.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error(std::string("free_port: ") + std::strerror(errno));
  ::close(fd);
  return ntohs(a.sin_port);
}

// The TCP ports process `pid` listens on (its descriptors' inodes in /proc/net/tcp and tcp6).
std::set<int> listening_ports(pid_t pid) {
  const std::set<std::string> inodes = gidlog_test::socket_inodes(pid);
  std::set<int> ports = gidlog_test::ports_in_state(inodes, "/proc/net/tcp", "0A");  // 0A: LISTEN
  ports.merge(gidlog_test::ports_in_state(inodes, "/proc/net/tcp6", "0A"));
  return ports;
}

// One rsyslogd in the foreground (-n) with its own config, pid file and output file.
class rsyslogd {
 public:
  rsyslogd(std::string name, std::string dir) : name_(std::move(name)), dir_(std::move(dir)) {}
  rsyslogd(const rsyslogd&) = delete;
  rsyslogd& operator=(const rsyslogd&) = delete;
  ~rsyslogd() { kill(SIGKILL); }

  // Starts it with `config` and waits (10 s at most) until `ready()` holds.
  void start(const std::string& config, const std::function<bool(pid_t)>& ready) {
    const std::string conf = dir_ + "/" + name_ + ".conf", log = dir_ + "/" + name_ + ".out";
    std::ofstream(conf, std::ios::trunc) << config;
    pid_ = gidlog_test::spawn_rsyslogd(find_rsyslogd(), conf, dir_ + "/" + name_ + ".pid", log);
    const auto until = clock_type::now() + gidlog_test::wakeup_deadline(10s);
    for (;;) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error(name_ + " rsyslogd exited at start-up:\n" + output());
      }
      if (ready(pid_)) return;
      if (clock_type::now() >= until) {
        kill(SIGKILL);
        throw std::runtime_error(name_ + " rsyslogd was not ready within 10 s:\n" + output());
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  // Freezes it (SIGSTOP): it reads nothing more, writes nothing more and acknowledges nothing.
  void freeze() const {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }

  // Sends `sig` (and SIGCONT, so a frozen one acts on it) and waits for it to end.
  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    ::kill(pid_, SIGCONT);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  std::string output() const {
    try {
      return read_all(dir_ + "/" + name_ + ".out");
    } catch (const std::exception&) {
      return "(no output)";
    }
  }

 private:
  std::string name_, dir_;
  pid_t pid_ = -1;
};

// One line of the collector's file, "TIME HOST APP[PROCID]: SD MSG" (the template fleet_line).
struct collected {
  std::string time, host, app, procid, sd, msg;
};

// The structured data at the start of `s`: "-" or "[...]..." up to the first ']' that is outside a
// quoted value and not followed by '['. Returns its length, or npos when it does not end.
std::size_t sd_length(const std::string& s) {
  if (s.starts_with("-")) return 1;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (quoted) {
      if (s[i] == '\\') ++i;
      else if (s[i] == '"') quoted = false;
    } else if (s[i] == '"') {
      quoted = true;
    } else if (s[i] == ']' && (i + 1 == s.size() || s[i + 1] != '[')) {
      return i + 1;
    }
  }
  return std::string::npos;
}

struct collector_file {
  std::vector<collected> records;
  std::vector<std::string> unparsed;  // lines not in the template's shape
};

collector_file read_collector(const std::string& path) {
  collector_file out;
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    collected r;
    std::istringstream ss(line);
    std::string app;
    ss >> r.time >> r.host >> app;
    const std::size_t open = app.find('['), rest_at = static_cast<std::size_t>(ss.tellg()) + 1;
    if (!ss || open == std::string::npos || !app.ends_with("]:") || rest_at >= line.size()) {
      out.unparsed.push_back(line);
      continue;
    }
    r.app = app.substr(0, open);
    r.procid = app.substr(open + 1, app.size() - open - 3);
    const std::string rest = line.substr(rest_at);
    const std::size_t n = sd_length(rest);
    if (n == std::string::npos || n >= rest.size() || rest[n] != ' ') {
      out.unparsed.push_back(line);
      continue;
    }
    r.sd = rest.substr(0, n);
    r.msg = rest.substr(n + 1);
    out.records.push_back(std::move(r));
  }
  return out;
}

// What the two logging processes and the test share (a MAP_SHARED page made before fork()).
struct shared_state {
  std::atomic<int> allowed;    // a process logs record i once allowed > i
  std::atomic<int> logged[2];  // records each process has logged so far
};

const char* const users[] = {"alice", "bob", "carol"};

// A logging process: `per_process` records, as far as the test allows at each moment, then stop().
// Its exit status: 0, or what went wrong.
[[noreturn]] void log_in_child(int index, const std::string& socket, shared_state* shared) {
  int status = 0;
  try {
    gidlog::options opt;
    opt.sinks = {gidlog::syslog_sink(
        {.address = "unix:" + socket, .app_name = "orders", .reconnect_min = 10ms, .reconnect_max = 100ms})};
    gidlog::start(opt);
    gidlog::context_scope scope{{"worker", index}};
    const auto until = clock_type::now() + gidlog_test::wakeup_deadline(60s);
    for (int i = 0; i < per_process && status == 0; ++i) {
      while (shared->allowed.load() <= i && status == 0) {
        if (clock_type::now() >= until) status = 3;  // the test never let it go on
        std::this_thread::sleep_for(1ms);
      }
      LOG_INFO("order {seq} for {user}", i, users[i % 3]);
      shared->logged[index].store(i + 1);
    }
    gidlog::stop();
    if (status == 0 && gidlog::get_counters().sink_dropped != 0) status = 4;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "logging process %d: %s\n", index, e.what());
    status = 5;
  }
  ::_exit(status);
}

std::string hostname() {
  char h[256] = {};
  ::gethostname(h, sizeof h - 1);
  return h;
}

// Numbers of the records of the process with id `procid`, in the collector's order.
std::vector<int> seqs_of(const std::vector<collected>& recs, const std::string& procid) {
  std::vector<int> out;
  for (const collected& r : recs) {
    if (r.procid != procid) continue;
    const std::size_t at = r.sd.find("[fields@32473 seq=\"");
    out.push_back(at == std::string::npos ? -1 : std::atoi(r.sd.c_str() + at + 19));
  }
  return out;
}

enum class transport { relp, tcp };

struct run_result {
  std::vector<collected> records;
  std::vector<std::string> unparsed;
  std::vector<std::string> procids;  // of the two logging processes
  std::size_t at_kill = 0;           // records at the collector when it was killed
  int logged_at_kill = 0;            // records both processes had logged by then
  long outage_ms = 0;
  long total_ms = 0;
  std::string collector_output, local_output;
};

// Runs the recipe (RELP: local.conf, TCP: local-tcp.conf), stopping the collector mid-run with
// `stop_signal`; returns once the last record of each process is at the collector (RELP: every
// record), or after 20 s.
run_result run_fleet(transport t, int stop_signal) {
  find_rsyslogd();  // fails first, naming the package to install
  if (t == transport::relp) require_relp_modules();
  char tmpl[] = "/tmp/gidlog_fleet_XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::string dir = tmpl;
  struct cleanup {
    std::string dir;
    ~cleanup() {
      if (std::getenv("GIDLOG_TEST_KEEP") == nullptr) std::filesystem::remove_all(dir);
    }
  } cleanup_dir{dir};
  for (const char* sub : {"/collector-work", "/local-work", "/fleet"}) std::filesystem::create_directory(dir + sub);
  const int relp_port = free_port(), tcp_port = free_port();
  const std::string socket = dir + "/gidlog-syslog.sock", fleet_log = dir + "/fleet/fleet.log";

  const std::string collector_conf = replace(read_all(examples_dir / "collector.conf"),
                                             {{"/var/spool/rsyslog-collector", dir + "/collector-work"},
                                              {"/var/log/fleet", dir + "/fleet"},
                                              {R"(port="2514")", fmt::format(R"(address="127.0.0.1" port="{}")", relp_port)},
                                              {R"(port="514")", fmt::format(R"(address="127.0.0.1" port="{}")", tcp_port)}},
                                             "examples/rsyslog/collector.conf");
  const std::string local_name = t == transport::relp ? "local.conf" : "local-tcp.conf";
  const std::string local_conf =
      replace(read_all(examples_dir / local_name),
              {{"/var/spool/rsyslog-gidlog", dir + "/local-work"},
               {"/run/gidlog-syslog.sock", socket},
               {"collector.example.net", "127.0.0.1"},
               t == transport::relp ? std::pair<std::string, std::string>{R"(port="2514")", fmt::format(R"(port="{}")", relp_port)}
                                    : std::pair<std::string, std::string>{R"(port="514")", fmt::format(R"(port="{}")", tcp_port)}},
              "examples/rsyslog/" + local_name);

  rsyslogd collector("collector", dir), local("local", dir);
  const auto collector_ready = [&](pid_t pid) {
    const std::set<int> ports = listening_ports(pid);
    return ports.contains(relp_port) && ports.contains(tcp_port);
  };
  collector.start(collector_conf, collector_ready);
  local.start(local_conf, [&](pid_t) {
    struct stat st;
    return ::stat(socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
  });

  void* page = ::mmap(nullptr, sizeof(shared_state), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) throw std::runtime_error("mmap failed");
  auto* shared = new (page) shared_state{};
  struct unmap {
    void* p;
    ~unmap() { ::munmap(p, sizeof(shared_state)); }
  } unmap_page{page};

  run_result res;
  const auto began = clock_type::now();
  shared->allowed.store(before_freeze);
  pid_t children[2] = {-1, -1};
  struct reap {
    pid_t* pids;
    ~reap() {
      for (int i = 0; i < 2; ++i)
        if (pids[i] > 0) {
          ::kill(pids[i], SIGKILL);
          ::waitpid(pids[i], nullptr, 0);
        }
    }
  } reap_children{children};
  for (int i = 0; i < 2; ++i) {
    children[i] = ::fork();
    if (children[i] == 0) log_in_child(i, socket, shared);
    if (children[i] < 0) throw std::runtime_error("fork failed");
    res.procids.push_back(std::to_string(children[i]));
  }

  // The processes log; the collector freezes once it has their first records, they log on, and it
  // dies with what they logged meanwhile on the way: in its socket, unread and unacknowledged. The
  // freeze makes that so on any machine; killing it at a moment chosen by polling its file did not
  // (under load the poll saw the file only once every record logged so far was in it).
  const auto wait_until = [&](const std::function<bool()>& done, std::chrono::seconds limit, const char* what) {
    const auto until = clock_type::now() + gidlog_test::wakeup_deadline(limit);
    while (!done()) {
      if (clock_type::now() >= until)
        throw std::runtime_error(std::string("timed out waiting until ") + what + "\ncollector:\n" +
                                 collector.output() + "\nlocal:\n" + local.output());
      std::this_thread::sleep_for(2ms);
    }
  };
  const auto logged_at_least = [&](int n) {
    return [&shared, n] { return shared->logged[0].load() >= n && shared->logged[1].load() >= n; };
  };
  wait_until([&] { return read_collector(fleet_log).records.size() >= 2 * before_freeze; }, 10s,
             "the collector had the first records");
  collector.freeze();
  shared->allowed.store(frozen_until);
  wait_until(logged_at_least(frozen_until), 10s, "the processes had logged while the collector was frozen");
  res.logged_at_kill = shared->logged[0].load() + shared->logged[1].load();
  res.at_kill = read_collector(fleet_log).records.size();
  collector.kill(stop_signal);
  const auto down = clock_type::now();
  shared->allowed.store(outage_until);

  // Down: the processes log on up to outage_until, the local rsyslogd keeps what it cannot send.
  wait_until(logged_at_least(outage_until), 10s, "the processes had logged during the outage");
  collector.start(collector_conf, collector_ready);
  res.outage_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - down).count();
  shared->allowed.store(per_process);

  for (int i = 0; i < 2; ++i) {
    int status = -1;
    wait_until([&] { return ::waitpid(children[i], &status, WNOHANG) == children[i]; }, 20s,
               "the logging processes had exited");
    children[i] = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error(fmt::format("logging process {} ended with wait status {:#x}", i, status));
  }

  // At the collector: every record (RELP), or each process's last one (TCP keeps the order on
  // one connection, so after it nothing more comes).
  const auto all_there = [&](const std::vector<collected>& recs) {
    for (const std::string& p : res.procids) {
      const std::vector<int> s = seqs_of(recs, p);
      if (t == transport::relp ? static_cast<int>(std::set<int>(s.begin(), s.end()).size()) < per_process
                               : std::find(s.begin(), s.end(), per_process - 1) == s.end())
        return false;
    }
    return true;
  };
  const auto until = clock_type::now() + gidlog_test::wakeup_deadline(20s);
  collector_file f;
  do {
    std::this_thread::sleep_for(10ms);
    f = read_collector(fleet_log);
  } while (!all_there(f.records) && clock_type::now() < until);
  res.total_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - began).count();
  res.records = std::move(f.records);
  res.unparsed = std::move(f.unparsed);
  res.collector_output = collector.output();
  res.local_output = local.output();
  if (const char* keep = std::getenv("GIDLOG_TEST_KEEP"); keep != nullptr) std::printf("kept %s\n", dir.c_str());
  return res;
}

// Checks what every transport must deliver: the records are this test's, with the host, the app,
// the context and the fields; returns the numbers of each process's records in arrival order.
std::vector<std::vector<int>> check_records(const run_result& res) {
  const std::string host = hostname();
  std::vector<std::vector<int>> seqs;
  for (std::size_t p = 0; p < res.procids.size(); ++p) {
    seqs.push_back(seqs_of(res.records, res.procids[p]));
    for (const collected& r : res.records) {
      if (r.procid != res.procids[p]) continue;
      INFO("collector line: " << r.time << ' ' << r.host << ' ' << r.app << '[' << r.procid << "]: " << r.sd << ' '
                              << r.msg);
      REQUIRE(r.host == host);
      REQUIRE(r.app == "orders");
      const std::size_t at = r.sd.find("[fields@32473 seq=\"");
      REQUIRE(at != std::string::npos);
      const int i = std::atoi(r.sd.c_str() + at + 19);
      const std::string user = users[i % 3];
      REQUIRE(r.sd.find(fmt::format(R"([fields@32473 seq="{}" user="{}"])", i, user)) != std::string::npos);
      REQUIRE(r.sd.starts_with("[gidlog@32473 gid=\""));
      REQUIRE(r.sd.find(fmt::format(R"( worker="{}"])", p)) != std::string::npos);
      REQUIRE(r.msg == fmt::format("order {} for {}", i, user));
    }
  }
  std::size_t other = 0;
  for (const collected& r : res.records)
    if (r.procid != res.procids[0] && r.procid != res.procids[1]) ++other;
  CHECK(other == 0);
  return seqs;
}

void print_sample(const char* what, const run_result& res) {
  std::printf("%s: collector stopped at %zu of %d records there (%d logged), down %ld ms; %zu records at the "
              "collector after %ld ms. First and last lines:\n",
              what, res.at_kill, 2 * per_process, res.logged_at_kill, res.outage_ms, res.records.size(),
              res.total_ms);
  for (std::size_t i : {std::size_t{0}, res.records.size() - 1}) {
    if (i >= res.records.size()) continue;
    const collected& r = res.records[i];
    std::printf("  %s %s %s[%s]: %s %s\n", r.time.c_str(), r.host.c_str(), r.app.c_str(), r.procid.c_str(),
                r.sd.c_str(), r.msg.c_str());
  }
}

std::vector<int> zero_to(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

}  // namespace

TEST_CASE("fleet over RELP, the collector stopped (SIGTERM) and started again mid-run, every record once and in order",
          "[syslog]") {
  const run_result res = run_fleet(transport::relp, SIGTERM);
  INFO("collector rsyslogd said:\n" << res.collector_output << "\nlocal rsyslogd said:\n" << res.local_output);
  print_sample("RELP, SIGTERM", res);
  CHECK(res.unparsed.empty());
  CHECK(res.at_kill < static_cast<std::size_t>(res.logged_at_kill));  // stopped with records on the way
  const std::vector<std::vector<int>> seqs = check_records(res);
  for (std::size_t p = 0; p < seqs.size(); ++p) {
    INFO("logging process " << p);
    CHECK(seqs[p] == zero_to(per_process));  // each once, in order: nothing lost, nothing twice
  }
}

// A collector that dies between writing a record and acknowledging it gets the record again from
// omrelp after its restart: RELP delivers at least once. What arrives twice is the tail of what
// was on the way, sent again in order, so each process's numbers step back once at most.
TEST_CASE("fleet over RELP, the collector killed (SIGKILL) and started again mid-run, nothing lost and in order, "
          "records it had not acknowledged again after the restart",
          "[syslog]") {
  const run_result res = run_fleet(transport::relp, SIGKILL);
  INFO("collector rsyslogd said:\n" << res.collector_output << "\nlocal rsyslogd said:\n" << res.local_output);
  print_sample("RELP, SIGKILL", res);
  CHECK(res.unparsed.empty());
  CHECK(res.at_kill < static_cast<std::size_t>(res.logged_at_kill));  // killed with records on the way
  const std::vector<std::vector<int>> seqs = check_records(res);
  std::size_t twice = 0;
  for (std::size_t p = 0; p < seqs.size(); ++p) {
    INFO("logging process " << p);
    const std::vector<int>& s = seqs[p];
    std::vector<int> first;  // the numbers as they first arrived
    std::set<int> seen;
    int steps_back = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (i > 0 && s[i] <= s[i - 1]) ++steps_back;
      if (seen.insert(s[i]).second) first.push_back(s[i]);
    }
    CHECK(first == zero_to(per_process));  // nothing lost, in order
    CHECK(steps_back <= 1);                // the records sent again form one run
    twice += s.size() - first.size();
  }
  std::printf("RELP, SIGKILL: %zu records twice at the collector (written, not yet acknowledged at the kill)\n", twice);
}

// Plain TCP has no acknowledgement. At the kill, what the collector's kernel had taken and it had
// not written is lost, and omfwd, finding the connection broken in the middle of a batch, sends
// that batch again from its start on the new connection: some records come twice. Observed in
// release runs: 0 to 2523 of 6000 records lost; twice in about 70 runs, 19 and 71 records twice. What
// holds: each process's records in order but for one step back at the restart, the missing ones
// one run of consecutive records, the last record (logged after the restart) there. The lost run
// can begin at a process's first record: under load one process logged 800 records before the
// other's first reached the collector, and the kill took that one's first records with it.
//
// The test names have no ": " far to the right: Catch 2.13's console reporter indents a header's
// continuation lines to just after its first ": ", and one past the console width never ends (a
// failing check then printed the name's tail for ever: 2.8 GB in a minute).
TEST_CASE("fleet over plain TCP, the collector killed (SIGKILL) and started again mid-run, in order but for one "
          "resent run, one run lost at most",
          "[syslog]") {
  const run_result res = run_fleet(transport::tcp, SIGKILL);
  INFO("collector rsyslogd said:\n" << res.collector_output << "\nlocal rsyslogd said:\n" << res.local_output);
  print_sample("TCP, SIGKILL", res);
  const std::vector<std::vector<int>> seqs = check_records(res);
  std::size_t lost = 0, twice = 0;
  for (std::size_t p = 0; p < seqs.size(); ++p) {
    INFO("logging process " << p);
    const std::vector<int>& s = seqs[p];
    REQUIRE(!s.empty());
    int steps_back = 0;
    for (std::size_t i = 1; i < s.size(); ++i)
      if (s[i] <= s[i - 1]) ++steps_back;
    CHECK(steps_back <= 1);
    const std::set<int> got(s.begin(), s.end());
    int missing_runs = 0;
    for (int i = 0; i < per_process; ++i)
      if (!got.contains(i) && (i == 0 || got.contains(i - 1))) ++missing_runs;
    CHECK(missing_runs <= 1);
    CHECK(got.contains(per_process - 1));  // everything logged after the restart arrived
    lost += static_cast<std::size_t>(per_process) - got.size();
    twice += s.size() - got.size();
  }
  // A line half written at the kill can only be one of the lost records.
  CHECK(res.unparsed.size() <= 1);
  std::printf("TCP, SIGKILL: %zu records lost, %zu twice at the collector (%zu unparsable lines)\n", lost, twice,
              res.unparsed.size());
}
