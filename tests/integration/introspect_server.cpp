// gidlog::debug_server exercised with real clients (cpp-httplib's, and raw sockets for what a
// polite client never sends): every endpoint, the token on /level, and the bad requests -- an
// unknown path, a bad debug= value, huge headers, a slowloris, 200 connections at once -- which
// get a 4xx or are cut off while the server keeps answering.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#include "introspect_util.h"
#include "test_sink.h"

using namespace std::chrono_literals;

#ifdef GIDLOG_TEST_DEBUG_SERVER
#include <httplib.h>

#ifdef GIDLOG_TEST_UNDER_TSAN
// Debian's cpp-httplib is a compiled library, not instrumented: ThreadSanitizer cannot see how it
// synchronizes, and reports its function-local statics (the set of method names that
// parse_request_line() builds on first use, read by memcmp on every request) as races between
// two connection threads. Only reports from interceptors called inside that library are
// suppressed; everything of gidlog's stays checked.
extern "C" const char* __tsan_default_suppressions() { return "called_from_lib:libcpp-httplib.so\n"; }
#endif

namespace {

// A logger for the process, writing to a test sink (the stats list it).
struct logger_fixture {
  std::shared_ptr<gidlog_test::test_sink> sink = std::make_shared<gidlog_test::test_sink>();
  logger_fixture() {
    gidlog::options opt;
    opt.sinks = {sink};
    gidlog::start(opt);
  }
  ~logger_fixture() { gidlog::stop(); }
};

// GET `path`, which must answer 200: its body.
std::string get_ok(httplib::Client& cli, const std::string& path) {
  auto r = cli.Get(path);
  INFO("GET " << path);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return r->body;
}

std::unique_ptr<httplib::Client> client(const gidlog::debug_server& srv) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", srv.port());
  c->set_connection_timeout(10, 0);
  c->set_read_timeout(20, 0);
  return c;
}

// A raw TCP connection to the server, for requests a client library will not send. Reads time
// out after `read_timeout`.
class raw_connection {
 public:
  raw_connection(std::uint16_t port, std::chrono::milliseconds read_timeout = 10s) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{static_cast<time_t>(read_timeout.count() / 1000), static_cast<suseconds_t>(read_timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::system_error(errno, std::generic_category(), "connect");
  }
  ~raw_connection() { ::close(fd_); }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  bool send(const std::string& s) { return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()); }

  // Everything until the server closes the connection (closed() then says so) or a read times out.
  std::string read_all() {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      closed_ = n == 0 || errno == ECONNRESET;
      return out;
    }
  }
  bool closed() const { return closed_; }

  // The response's status line, without waiting for the connection to close.
  std::string status_line() {
    std::string out;
    char c = 0;
    while (out.find("\r\n") == std::string::npos && ::recv(fd_, &c, 1, 0) == 1) out += c;
    return out.substr(0, out.find("\r\n"));
  }

 private:
  int fd_ = -1;
  bool closed_ = false;
};

}  // namespace

TEST_CASE("every endpoint answers", "[debug_server]") {
  logger_fixture logger;
  const int line = __LINE__ + 1;
  gidlog::debug_server srv({.address = "127.0.0.1", .port = 0});
  REQUIRE(srv.port() != 0);
  CHECK(srv.url() == "http://127.0.0.1:" + std::to_string(srv.port()));
  auto cli = client(srv);

  auto index = cli->Get("/");
  REQUIRE(index);
  CHECK(index->status == 200);
  for (const char* link : {"/debug/gidlog/threads?debug=1", "/debug/gidlog/threads?debug=2", "/debug/gidlog/tasks?debug=1",
                           "/debug/gidlog/tasks?debug=2", "/debug/gidlog/stats", "/debug/gidlog/level"}) {
    CHECK(index->body.find(std::string("href=\"") + link + "\"") != std::string::npos);
  }

  const std::string t1 = get_ok(*cli, "/debug/gidlog/threads?debug=1");
  CHECK(t1.rfind("thread profile: total ", 0) == 0);
  CHECK(t1.find("\"gidlog-http\"") != std::string::npos);
  CHECK(get_ok(*cli, "/debug/gidlog/threads").rfind("thread profile: total ", 0) == 0);

  const std::string t2 = get_ok(*cli, "/debug/gidlog/threads?debug=2");
  INFO(t2);
  // The server's threads were created by this thread, here.
  CHECK(t2.find("created by gid-" + std::to_string(gidlog::gid()) + " at " + __FILE__ + ":" + std::to_string(line)) !=
        std::string::npos);
  CHECK(t2.find("(gidlog::debug_server)") != std::string::npos);

  // A task in a pool, blocked until released, shows in the task profiles.
  gidlog_test::gate g;
  gidlog::worker_pool pool({.name = "http-test", .threads = 1});
  auto job = pool.submit([&g] { g.wait(); });
  const std::string k1 = get_ok(*cli, "/debug/gidlog/tasks?debug=1");
  CHECK(k1.rfind("task profile: total 1\n", 0) == 0);
  CHECK(k1.find("pool \"http-test\"") != std::string::npos);
  CHECK(std::regex_search(get_ok(*cli, "/debug/gidlog/tasks?debug=2"), std::regex("^task [0-9]+ \\[(queued|running), ")));
  g.release();
  job.get();

  for (int i = 0; i < 100; ++i) LOG_INFO("record {}", i);
  gidlog::flush();
  auto stats = cli->Get("/debug/gidlog/stats");
  REQUIRE(stats);
  CHECK(stats->status == 200);
  CHECK(stats->get_header_value("Content-Type") == "application/json");
  INFO(stats->body);
  CHECK(std::regex_search(stats->body, std::regex("^\\{\"running\":true,\"level\":\"INFO\",\"queue_depth\":[0-9]+,\"pending\":[0-9]+,"
                                                  "\"records_per_second\":[0-9.]+,\"written\":[0-9]+,\"dropped\":0,")));
  const std::smatch written = [&] {
    std::smatch m;
    std::regex_search(stats->body, m, std::regex("\"written\":([0-9]+)"));
    return m;
  }();
  REQUIRE(written.size() == 2);
  CHECK(std::stoull(written[1].str()) >= 100);
  CHECK(stats->body.find("\"backend_lag_ms\":") != std::string::npos);
  CHECK(stats->body.find(R"("sinks":[{"index":0,"type":"gidlog_test::test_sink","backlog_bytes":0,"lost_lines":0,"failures":0}])") !=
        std::string::npos);
  CHECK(std::regex_search(stats->body, std::regex("\"threads\":[0-9]+,\"tasks\":0\\}\n$")));

  auto level = cli->Get("/debug/gidlog/level");
  REQUIRE(level);
  CHECK(level->status == 200);
  CHECK(level->body == "INFO\n");
}

TEST_CASE("the level changes over HTTP only with the token", "[debug_server]") {
  logger_fixture logger;
  {
    gidlog::debug_server open_srv({.port = 0});
    auto cli = client(open_srv);
    auto r = cli->Put("/debug/gidlog/level", "debug", "text/plain");
    REQUIRE(r);
    CHECK(r->status == 403);
    CHECK(gidlog::get_level() == gidlog::level::info);
  }
  gidlog::debug_server srv({.port = 0, .token = "s3cret"});
  auto cli = client(srv);
  auto none = cli->Put("/debug/gidlog/level", "debug", "text/plain");
  REQUIRE(none);
  CHECK(none->status == 401);
  auto wrong = cli->Put("/debug/gidlog/level", {{"Authorization", "Bearer s3creT"}}, "debug", "text/plain");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  CHECK(gidlog::get_level() == gidlog::level::info);

  const httplib::Headers auth{{"Authorization", "Bearer s3cret"}};
  auto put = cli->Put("/debug/gidlog/level", auth, "debug\n", "text/plain");
  REQUIRE(put);
  CHECK(put->status == 200);
  CHECK(put->body == "DEBUG\n");
  CHECK(gidlog::get_level() == gidlog::level::debug);
  auto post = cli->Post("/debug/gidlog/level?level=warn", auth, "", "text/plain");
  REQUIRE(post);
  CHECK(post->status == 200);
  CHECK(gidlog::get_level() == gidlog::level::warn);
  auto bad = cli->Put("/debug/gidlog/level", auth, "loud", "text/plain");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  auto huge = cli->Put("/debug/gidlog/level", auth, std::string(10000, 'x'), "text/plain");
  if (huge) CHECK(huge->status == 413);  // or the connection was cut while the body was sent
  CHECK(gidlog::get_level() == gidlog::level::warn);
  // The change is in the log.
  gidlog::flush();
  bool logged = false;
  for (const std::string& l : logger.sink->lines()) logged = logged || l.find("level changed from DEBUG to WARN by 127.0.0.1") != std::string::npos;
  CHECK(logged);
}

TEST_CASE("bad requests get a 4xx and the server goes on", "[debug_server]") {
  gidlog::debug_server srv({.port = 0});
  auto cli = client(srv);
  auto missing = cli->Get("/debug/pprof/goroutine");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->body.find("/debug/pprof/goroutine") != std::string::npos);
  for (const char* q : {"?debug=3", "?debug=0", "?debug=x", "?debug=", "?debug=11"}) {
    for (const char* path : {"/debug/gidlog/threads", "/debug/gidlog/tasks"}) {
      auto r = cli->Get(std::string(path) + q);
      REQUIRE(r);
      INFO(path << q);
      CHECK(r->status == 400);
    }
  }

  {  // a header line longer than 8 KiB
    raw_connection c(srv.port());
    REQUIRE(c.send("GET /debug/gidlog/level HTTP/1.1\r\nHost: x\r\nX-Huge: " + std::string(20000, 'a') + "\r\n\r\n"));
    CHECK(c.status_line() == "HTTP/1.1 400 Bad Request");
  }
  {  // a request line longer than 8 KiB
    raw_connection c(srv.port());
    REQUIRE(c.send("GET /debug/gidlog/level?" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(c.status_line() == "HTTP/1.1 414 URI Too Long");
  }
  {  // not HTTP at all
    raw_connection c(srv.port());
    REQUIRE(c.send("\x16\x03\x01 hello?\r\n\r\n"));
    CHECK(c.status_line() == "HTTP/1.1 400 Bad Request");
  }
  auto after = cli->Get("/debug/gidlog/level");
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("a slowloris is cut off after read_timeout and does not hold up other clients", "[debug_server]") {
  gidlog::debug_server srv({.port = 0, .threads = 2, .read_timeout = 200ms});
  // More slow clients than threads: each sends the request line and one header, then nothing.
  std::vector<std::unique_ptr<raw_connection>> slow;
  for (int i = 0; i < 3; ++i) {
    slow.push_back(std::make_unique<raw_connection>(srv.port()));
    REQUIRE(slow.back()->send("GET /debug/gidlog/level HTTP/1.1\r\nHost: x\r\n"));
  }
  const auto start = std::chrono::steady_clock::now();
  auto cli = client(srv);
  auto r = cli->Get("/debug/gidlog/level");
  REQUIRE(r);
  CHECK(r->status == 200);
  for (auto& c : slow) {
    // The rest of the headers never came: 400, and the connection is closed.
    CHECK(c->status_line() == "HTTP/1.1 400 Bad Request");
    c->read_all();
    CHECK(c->closed());
  }
  // Three slow connections on two threads, 200 ms each: well under the 10 s a read waits.
  CHECK(std::chrono::steady_clock::now() - start < 8s);
}

TEST_CASE("200 idle connections do not keep a request waiting", "[debug_server]") {
  auto srv = std::make_unique<gidlog::debug_server>(gidlog::debug_options{.port = 0, .threads = 4});
  std::vector<std::unique_ptr<raw_connection>> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(std::make_unique<raw_connection>(srv->port()));
  const auto start = std::chrono::steady_clock::now();
  auto r = client(*srv)->Get("/debug/gidlog/level");
  REQUIRE(r);
  CHECK(r->status == 200);
  // The newest connection is served first: within one keep-alive timeout (1 s), not after the
  // 200 idle ones have each held a thread for theirs (50 s).
  CHECK(std::chrono::steady_clock::now() - start < 8s);
  // Stopping with 200 connections open finishes, and closes every one.
  const auto stop_start = std::chrono::steady_clock::now();
  srv.reset();
  CHECK(std::chrono::steady_clock::now() - stop_start < 8s);
  int closed = 0;
  for (auto& c : idle) {
    c->read_all();
    closed += c->closed() ? 1 : 0;
  }
  CHECK(closed == 200);
}

TEST_CASE("200 requests at once are all answered", "[debug_server]") {
  gidlog::debug_server srv({.port = 0, .threads = 4});
  std::vector<std::unique_ptr<raw_connection>> conns;
  for (int i = 0; i < 200; ++i) conns.push_back(std::make_unique<raw_connection>(srv.port()));
  for (std::size_t i = 0; i < conns.size(); ++i) {
    const char* path = i % 10 == 0 ? "/debug/gidlog/stats" : i % 10 == 1 ? "/debug/gidlog/nope" : "/debug/gidlog/level";
    REQUIRE(conns[i]->send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  }
  int ok = 0, not_found = 0;
  for (auto& c : conns) {
    const std::string status = c->status_line();
    ok += status == "HTTP/1.1 200 OK" ? 1 : 0;
    not_found += status == "HTTP/1.1 404 Not Found" ? 1 : 0;
  }
  CHECK(ok == 180);
  CHECK(not_found == 20);
}

TEST_CASE("options are checked and a taken port is an error", "[debug_server]") {
  CHECK_THROWS_AS(gidlog::debug_server({.threads = 0}), std::invalid_argument);
  CHECK_THROWS_AS(gidlog::debug_server({.read_timeout = 1ms}), std::invalid_argument);
  CHECK_THROWS_AS(gidlog::debug_server({.address = ""}), std::invalid_argument);
  gidlog::debug_server srv({.port = 0});
  CHECK_THROWS_AS(gidlog::debug_server({.port = srv.port()}), std::system_error);
  CHECK_THROWS_AS(gidlog::debug_server({.address = "203.0.113.1", .port = 0}), std::system_error);  // not ours
}

#else

TEST_CASE("without the debug server its constructor says so", "[debug_server]") {
  CHECK_THROWS_AS(gidlog::debug_server({.port = 0}), std::runtime_error);
}

#endif
