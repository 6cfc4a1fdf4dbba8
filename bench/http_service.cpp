// HTTP service: what one log record per request costs a real server (issue 19). A cpp-httplib
// server on 127.0.0.1 (an ephemeral port) answers GET /api/item?id=N with a little work (a hash
// of the id, a small JSON body) and logs ONE record per request: method, path, id, status, body
// size and a request counter. Three variants, each in a child process of its own:
//   none    no logging
//   spdlog  spdlog's async logger to a file (basic_file_sink_mt, its default queue of 8192 and
//           blocking overflow policy: lossless, as gidlog's default)
//   gidlog  gidlog with file_sink and default options
// Both loggers write the same line layout. The load comes from a client on loopback in this
// (parent) process: `wrk -t1 -cC -dSs` when wrk is on the PATH, else a built-in client of C
// threads each looping over one keep-alive connection (--client builtin forces it). The server
// has C + 2 worker threads (cpp-httplib serves a keep-alive connection on one worker for its
// lifetime), keeps connections open for the whole run and sets TCP_NODELAY.
//
// The variants alternate (the order rotates every repetition) so drift in the machine's load
// falls on all of them; the table gives each one's median requests/s, min and max, and the
// ratio of its median to that of `none`. After each run the child counts the lines in its log:
// every request the server handled must be there (the run fails otherwise).
//
//   bench/http_service [--reps R] [--seconds S] [--connections C] [--client wrk|builtin]
//                      [--variants none,spdlog,gidlog]
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <gidlog/gidlog.h>

#include "bench_util.h"

extern "C" char** environ;

namespace {

struct config {
  int reps = 5;
  int seconds = 5;
  int connections = 16;
  bool use_wrk = true;
  std::vector<std::string> variants{"none", "spdlog", "gidlog"};
};

// What a child reports after its server stopped.
struct served {
  std::uint64_t handled;  // requests the handler answered
  std::uint64_t lines;    // lines in the log file afterwards
};

// What the client measured.
struct load_result {
  double rps = 0;
  std::uint64_t requests = 0;
  std::string problem;  // non-empty: errors the client saw
};

const char* const pattern = "[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v";  // gidlog's default, in spdlog's flags

// The handler's own work, the same in every variant: a few hundred ns of hashing and a small body.
std::string make_body(long id, std::uint64_t n) {
  std::uint64_t h = 1469598103934665603ULL;
  for (int round = 0; round < 64; ++round) {
    h ^= static_cast<std::uint64_t>(id) + static_cast<std::uint64_t>(round);
    h *= 1099511628211ULL;
  }
  char body[160];
  const int len = std::snprintf(body, sizeof body, "{\"id\":%ld,\"etag\":\"%016llx\",\"served\":%llu}\n", id,
                                static_cast<unsigned long long>(h), static_cast<unsigned long long>(n));
  return std::string(body, static_cast<std::size_t>(len));
}

// Runs the server for `variant` until the parent writes to `stop_fd`; tells the parent the port
// through `port_fd`.
served serve(const std::string& variant, int connections, int port_fd, int stop_fd) {
  const std::string path = "/tmp/gidlog_http_service_" + std::to_string(getpid()) + ".log";
  std::shared_ptr<spdlog::logger> spd;
  if (variant == "spdlog") {
    spdlog::init_thread_pool(8192, 1);
    spd = spdlog::create_async<spdlog::sinks::basic_file_sink_mt>("http", path, true);
    spd->set_pattern(pattern);
  } else if (variant == "gidlog") {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
    gidlog::start(opt);
  }

  std::atomic<std::uint64_t> counter{0};
  httplib::Server svr;
  const auto workers = static_cast<std::size_t>(connections) + 2;
  svr.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  svr.set_keep_alive_max_count(std::size_t{1} << 40);
  svr.set_keep_alive_timeout(2);
  svr.set_tcp_nodelay(true);  // else Nagle and delayed ACKs hold every response ~40 ms
  const bool log_spd = variant == "spdlog", log_gid = variant == "gidlog";
  svr.Get("/api/item", [&](const httplib::Request& req, httplib::Response& res) {
    const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
    const long id = req.has_param("id") ? std::atol(req.get_param_value("id").c_str()) : 0;
    std::string body = make_body(id, n);
    const int status = 200;
    if (log_gid)
      LOG_INFO("{} {} id={} status={} bytes={} n={}", req.method, req.path, id, status, body.size(), n);
    else if (log_spd)
      SPDLOG_LOGGER_INFO(spd, "{} {} id={} status={} bytes={} n={}", req.method, req.path, id, status, body.size(), n);
    res.status = status;
    res.set_content(std::move(body), "application/json");
  });
  const int port = svr.bind_to_any_port("127.0.0.1");  // listening from here: clients may connect
  std::thread listener([&] { svr.listen_after_bind(); });
  if (write(port_fd, &port, sizeof port) != sizeof port) std::_Exit(3);
  char c;
  while (read(stop_fd, &c, 1) < 0 && errno == EINTR) {
  }
  svr.stop();
  listener.join();
  served out{counter.load(), 0};
  if (log_spd) {
    spd->flush();
    spd.reset();
    spdlog::shutdown();
  } else if (log_gid) {
    gidlog::stop();
  }
  if (variant != "none") out.lines = bench::count_lines(path);
  unlink(path.c_str());
  return out;
}

bool on_path(const char* exe) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  for (std::string dirs = path; !dirs.empty();) {
    const auto colon = dirs.find(':');
    const std::string dir = dirs.substr(0, colon);
    dirs = colon == std::string::npos ? "" : dirs.substr(colon + 1);
    if (!dir.empty() && access((dir + "/" + exe).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// `wrk -t1 -cC -dSs URL`, its report parsed.
load_result run_wrk(int port, const config& cfg) {
  load_result out;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/api/item?id=42";
  std::vector<std::string> args{"wrk", "-t1", "-c" + std::to_string(cfg.connections), "-d" + std::to_string(cfg.seconds) + "s",
                                "--timeout", "5s", url};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) return {0, 0, "pipe failed"};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "wrk", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  std::string report;
  if (rc == 0) {
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;)
      if (n > 0) report.append(buf, static_cast<std::size_t>(n));
      else if (errno != EINTR) break;
    int status = 0;
    waitpid(pid, &status, 0);
  }
  close(fds[0]);
  if (rc != 0) return {0, 0, std::string("cannot run wrk: ") + std::strerror(rc)};
  // "  123456 requests in 5.00s, 20.12MB read" and "Requests/sec:  24691.20"
  if (auto p = report.find(" requests in "); p != std::string::npos) {
    auto b = report.rfind('\n', p);
    out.requests = std::strtoull(report.c_str() + (b == std::string::npos ? 0 : b + 1), nullptr, 10);
  }
  if (auto p = report.find("Requests/sec:"); p != std::string::npos) out.rps = std::atof(report.c_str() + p + 13);
  for (const char* bad : {"Socket errors", "Non-2xx"})
    if (auto p = report.find(bad); p != std::string::npos) out.problem += report.substr(p, report.find('\n', p) - p) + "; ";
  if (out.rps <= 0) out.problem += "no rate in wrk's report:\n" + report;
  return out;
}

// C threads, each looping GET over one keep-alive connection until the time is up.
load_result run_builtin(int port, const config& cfg) {
  std::atomic<std::uint64_t> ok{0}, failed{0};
  const auto t0 = std::chrono::steady_clock::now();
  const auto until = t0 + std::chrono::seconds(cfg.seconds);
  std::vector<std::thread> clients;
  for (int c = 0; c < cfg.connections; ++c)
    clients.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      const std::string target = "/api/item?id=" + std::to_string(c);
      std::uint64_t mine = 0, bad = 0;
      while (std::chrono::steady_clock::now() < until) {
        auto res = cli.Get(target);
        if (res && res->status == 200) ++mine;
        else ++bad;
      }
      ok += mine;
      failed += bad;
    });
  for (auto& t : clients) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  load_result out{static_cast<double>(ok.load()) / secs, ok.load(), ""};
  if (failed.load() != 0) out.problem = std::to_string(failed.load()) + " failed requests";
  return out;
}

// A few requests on one connection before the timed load: the server's first-use costs (a logger's
// first record, page faults) are not in the rate.
bool warm_up(int port) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  for (int i = 0; i < 200; ++i) {
    auto res = cli.Get("/api/item?id=" + std::to_string(i));
    if (!res || res->status != 200) return false;
  }
  return true;
}

struct run_result {
  load_result load;
  served srv{};
  bool ok = false;
};

run_result run_variant(const std::string& variant, const config& cfg) {
  run_result out;
  int port_pipe[2], stop_pipe[2], result_pipe[2];
  if (pipe(port_pipe) != 0 || pipe(stop_pipe) != 0 || pipe(result_pipe) != 0) return out;
  const pid_t pid = fork();
  if (pid == 0) {
    close(port_pipe[0]);
    close(stop_pipe[1]);
    close(result_pipe[0]);
    const served s = serve(variant, cfg.connections, port_pipe[1], stop_pipe[0]);
    if (write(result_pipe[1], &s, sizeof s) != sizeof s) std::_Exit(4);
    std::_Exit(0);
  }
  close(port_pipe[1]);
  close(stop_pipe[0]);
  close(result_pipe[1]);
  int port = -1;
  if (read(port_pipe[0], &port, sizeof port) == sizeof port && port > 0) {
    if (!warm_up(port)) out.load.problem = "warm-up requests failed";
    else out.load = cfg.use_wrk ? run_wrk(port, cfg) : run_builtin(port, cfg);
  } else {
    out.load.problem = "the server did not start";
  }
  const char stop = 's';
  if (write(stop_pipe[1], &stop, 1) != 1) out.load.problem += "; cannot stop the server";
  out.ok = read(result_pipe[0], &out.srv, sizeof out.srv) == sizeof out.srv;
  close(port_pipe[0]);
  close(stop_pipe[1]);
  close(result_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  out.ok = out.ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return out;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  for (std::size_t b = 0, e; b <= list.size(); b = e + 1) {
    e = std::min(list.find(',', b), list.size());
    out.push_back(list.substr(b, e - b));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  std::string client = on_path("wrk") ? "wrk" : "builtin";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) cfg.reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--seconds" && i + 1 < argc) cfg.seconds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--connections" && i + 1 < argc) cfg.connections = std::max(1, std::atoi(argv[++i]));
    else if (a == "--client" && i + 1 < argc) client = argv[++i];
    else if (a == "--variants" && i + 1 < argc) cfg.variants = split(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--reps R] [--seconds S] [--connections C] [--client wrk|builtin] "
                           "[--variants none,spdlog,gidlog]\n", argv[0]);
      return 2;
    }
  }
  for (const std::string& v : cfg.variants)
    if (v != "none" && v != "spdlog" && v != "gidlog") {
      std::fprintf(stderr, "%s: unknown variant \"%s\" (none, spdlog, gidlog)\n", argv[0], v.c_str());
      return 2;
    }
  if (client != "wrk" && client != "builtin") {
    std::fprintf(stderr, "%s: --client wrk or builtin\n", argv[0]);
    return 2;
  }
  cfg.use_wrk = client == "wrk";
  signal(SIGPIPE, SIG_IGN);  // a server that went away is an error to report, not death

  std::printf("HTTP service on 127.0.0.1, one record per request; load: %s, %d connections, %d s per run, "
              "%d runs per variant, alternating; %u CPUs\n\n",
              cfg.use_wrk ? "wrk -t1" : "built-in keep-alive client", cfg.connections, cfg.seconds, cfg.reps,
              std::thread::hardware_concurrency());
  std::vector<std::vector<double>> rates(cfg.variants.size());
  int failures = 0;
  for (int rep = 0; rep < cfg.reps; ++rep) {
    for (std::size_t j = 0; j < cfg.variants.size(); ++j) {
      const std::size_t k = (j + static_cast<std::size_t>(rep)) % cfg.variants.size();
      const std::string& v = cfg.variants[k];
      const run_result r = run_variant(v, cfg);
      const bool lossless = v == "none" || r.srv.lines == r.srv.handled;
      std::printf("run %d %-6s: %9.0f requests/s (%llu requests; server handled %llu", rep + 1, v.c_str(), r.load.rps,
                  static_cast<unsigned long long>(r.load.requests), static_cast<unsigned long long>(r.srv.handled));
      if (v != "none") std::printf(", %llu lines in the log", static_cast<unsigned long long>(r.srv.lines));
      std::printf(")%s%s\n", r.load.problem.empty() ? "" : " PROBLEM: ", r.load.problem.c_str());
      if (!r.ok || !lossless || !r.load.problem.empty() || r.load.rps <= 0) {
        if (!lossless) std::printf("  %s lost records: %llu requests, %llu lines\n", v.c_str(),
                                   static_cast<unsigned long long>(r.srv.handled), static_cast<unsigned long long>(r.srv.lines));
        ++failures;
      }
      rates[k].push_back(r.load.rps);
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 != 0 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  double none_median = 0;
  std::size_t none_k = cfg.variants.size();
  for (std::size_t k = 0; k < cfg.variants.size(); ++k)
    if (cfg.variants[k] == "none") none_median = median(rates[k]), none_k = k;
  // The host's speed drifts over a run by more than logging costs: besides the ratio of medians,
  // each run's rate is divided by the no-logging rate of the same repetition (run next to it),
  // and the median of those paired ratios is given with their range.
  std::printf("\n| variant | median requests/s | min     | max     | of no logging | paired: median (min-max) |\n");
  std::printf("|---------|-------------------|---------|---------|---------------|--------------------------|\n");
  for (std::size_t k = 0; k < cfg.variants.size(); ++k) {
    const double m = median(rates[k]);
    const auto [lo, hi] = std::minmax_element(rates[k].begin(), rates[k].end());
    char ratio[32] = "-", paired[64] = "-";
    if (none_median > 0) std::snprintf(ratio, sizeof ratio, "%.1f %%", 100.0 * m / none_median);
    if (none_k < cfg.variants.size() && k != none_k && rates[k].size() == rates[none_k].size()) {
      std::vector<double> r;
      for (std::size_t i = 0; i < rates[k].size(); ++i)
        if (rates[none_k][i] > 0) r.push_back(100.0 * rates[k][i] / rates[none_k][i]);
      if (!r.empty()) {
        const auto [plo, phi] = std::minmax_element(r.begin(), r.end());
        std::snprintf(paired, sizeof paired, "%.1f %% (%.1f-%.1f)", median(r), *plo, *phi);
      }
    }
    std::printf("| %-7s | %17.0f | %7.0f | %7.0f | %13s | %24s |\n", cfg.variants[k].c_str(), m, *lo, *hi, ratio, paired);
  }
  if (failures != 0) std::printf("\n%d runs failed (see above)\n", failures);
  return failures == 0 ? 0 : 1;
}
