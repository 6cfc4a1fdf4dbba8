// The syslog sink's transports against local sockets this test owns (no daemon, no backend):
// framing per transport, truncation counted, a peer that closed, a peer that is gone and comes
// back, a peer that stops reading, and option checks. The real rsyslog is in
// tests/integration/sinks_syslog*.cpp.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include <gidlog/sinks/sink.h>
#include <gidlog/sinks/syslog.h>

namespace {

using namespace std::chrono_literals;

gidlog::log_line make_line(std::string_view msg, gidlog::level l = gidlog::level::info) {
  return {l, 7, 1796030102117503211, msg, msg, "t.cpp", 3, "f", "main", "", {}, {}};
}

// A socket this test listens or receives on; closed on destruction.
struct sock {
  int fd = -1;
  explicit sock(int f) : fd(f) { REQUIRE(fd >= 0); }
  sock(const sock&) = delete;
  ~sock() {
    if (fd >= 0) ::close(fd);
  }
  void close_now() {
    ::close(fd);
    fd = -1;
  }
};

// Binds an IPv4 loopback socket of `type` to `port` (0: any free one) and returns the port.
int bind_loopback(int fd, int port = 0) {
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

std::string unix_path(const char* name) {
  std::string p = "/tmp/gidlog_syslog_" + std::to_string(::getpid()) + "_" + name;
  ::unlink(p.c_str());
  return p;
}

void bind_unix(int fd, const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
}

// Reads from a stream until `n` bytes arrived or 5 s passed.
std::string read_stream(int fd, std::size_t n) {
  std::string out;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (out.size() < n && std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char b[65536];
    const ssize_t r = ::recv(fd, b, sizeof b, 0);
    if (r <= 0) break;
    out.append(b, static_cast<std::size_t>(r));
  }
  return out;
}

std::string recv_datagram(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) <= 0) return "<nothing>";
  std::string b(70000, '\0');
  const ssize_t r = ::recv(fd, b.data(), b.size(), 0);
  b.resize(r < 0 ? 0 : static_cast<std::size_t>(r));
  return b;
}

int accept_within(int listener) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, 5000) <= 0) return -1;
  return ::accept(listener, nullptr, nullptr);
}

gidlog::sink_ptr open_sink(gidlog::syslog_options o) {
  gidlog::sink_ptr s = gidlog::syslog_sink(std::move(o));
  s->open();
  return s;
}

}  // namespace

TEST_CASE("syslog sink: TCP frames every message with its octet count", "[syslog]") {
  sock listener(::socket(AF_INET, SOCK_STREAM, 0));
  const int port = bind_loopback(listener.fd);
  REQUIRE(::listen(listener.fd, 4) == 0);
  auto s = open_sink({.address = "tcp://127.0.0.1:" + std::to_string(port), .app_name = "t", .hostname = "h"});
  CHECK_FALSE(s->wants_text());
  s->write(make_line("one"));
  s->write(make_line("two\nlines"));
  s->flush();
  sock conn(accept_within(listener.fd));
  const std::string m1 = "<14>1 2026-11-30T09:15:02.117503Z h t " + std::to_string(::getpid()) +
                         " - [gidlog@32473 gid=\"7\" file=\"t.cpp\" line=\"3\" func=\"f\" logger=\"main\"] one";
  const std::string m2 = m1.substr(0, m1.size() - 3) + "two\nlines";
  const std::string want = std::to_string(m1.size()) + " " + m1 + std::to_string(m2.size()) + " " + m2;
  CHECK(read_stream(conn.fd, want.size()) == want);
  const auto c = gidlog::get_syslog_counters(s);
  CHECK(c.sent == 2);
  CHECK(c.connects == 1);
  CHECK(c.disconnects == 0);
}

TEST_CASE("syslog sink: a TCP peer that closed is noticed before sending, and the sink reconnects", "[syslog]") {
  sock listener(::socket(AF_INET, SOCK_STREAM, 0));
  const int port = bind_loopback(listener.fd);
  REQUIRE(::listen(listener.fd, 4) == 0);
  auto s = open_sink({.address = "tcp://127.0.0.1:" + std::to_string(port),
                      .app_name = "t",
                      .reconnect_min = std::chrono::milliseconds(50),
                      .reconnect_max = std::chrono::milliseconds(100)});
  s->write(make_line("before"));
  s->flush();
  {
    sock first(accept_within(listener.fd));
    CHECK(read_stream(first.fd, 1).find("] before") != std::string::npos);
  }  // the daemon's side closes this connection

  std::this_thread::sleep_for(20ms);  // the FIN reaches the sink's socket
  s->write(make_line("after close"));
  s->flush();  // sees the close, reconnects (the listener is still there) and sends
  sock second(accept_within(listener.fd));
  CHECK(read_stream(second.fd, 1).find("] after close") != std::string::npos);
  auto c = gidlog::get_syslog_counters(s);
  CHECK(c.connects == 2);
  CHECK(c.disconnects == 1);
  CHECK(c.sent == 2);

  SECTION("the daemon gone: flush throws, keeps the message, and sends it once the daemon is back") {
    second.close_now();
    listener.close_now();
    std::this_thread::sleep_for(20ms);
    s->write(make_line("during outage"));
    CHECK_THROWS_AS(s->flush(), std::system_error);  // connection refused
    CHECK_THROWS_WITH(s->flush(), Catch::Contains("reconnect back-off"));  // no attempt yet
    sock again(::socket(AF_INET, SOCK_STREAM, 0));
    bind_loopback(again.fd, port);
    REQUIRE(::listen(again.fd, 4) == 0);
    bool sent = false;
    for (int i = 0; i < 200 && !sent; ++i) {
      try {
        s->flush();
        sent = true;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(5ms);
      }
    }
    REQUIRE(sent);
    sock third(accept_within(again.fd));
    const std::string got = read_stream(third.fd, 1);
    CHECK(got.find("] during outage") != std::string::npos);
    CHECK(got.find("after close") == std::string::npos);  // nothing sent twice
    CHECK(gidlog::get_syslog_counters(s).connects == 3);
  }
}

TEST_CASE("syslog sink: a fork() child sends over its own connection, with its own process id", "[syslog]") {
  sock listener(::socket(AF_INET, SOCK_STREAM, 0));
  const int port = bind_loopback(listener.fd);
  REQUIRE(::listen(listener.fd, 4) == 0);
  auto s = open_sink({.address = "tcp://127.0.0.1:" + std::to_string(port), .app_name = "t"});
  s->write(make_line("parent before"));
  s->write(make_line("taken before the fork, sent by the parent"));
  const pid_t child = ::fork();
  if (child == 0) {
    s->after_fork_child();  // what the backend does in the child
    s->write(make_line("from the child"));
    s->flush();
    ::_exit(0);
  }
  REQUIRE(child > 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  s->flush();
  sock a(accept_within(listener.fd)), b(accept_within(listener.fd));
  const std::string got = read_stream(a.fd, 1) + "|" + read_stream(b.fd, 1);
  CHECK(got.find(" t " + std::to_string(child) + " - [gidlog@32473 gid=\"7\" file=\"t.cpp\" line=\"3\" func=\"f\" "
                 "logger=\"main\"] from the child") != std::string::npos);
  CHECK(got.find(" t " + std::to_string(::getpid()) + " - ") != std::string::npos);
  CHECK(got.find("] parent before") != std::string::npos);
  // The child forgot what the parent had taken: it is sent once, by the parent.
  const std::size_t first = got.find("sent by the parent");
  CHECK(first != std::string::npos);
  CHECK(got.find("sent by the parent", first + 1) == std::string::npos);
}

TEST_CASE("syslog sink: a TCP peer that stops reading costs at most the timeout per attempt", "[syslog]") {
  sock listener(::socket(AF_INET, SOCK_STREAM, 0));
  const int small = 4096;
  ::setsockopt(listener.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  const int port = bind_loopback(listener.fd);
  REQUIRE(::listen(listener.fd, 4) == 0);
  auto s = open_sink({.address = "tcp://127.0.0.1:" + std::to_string(port), .timeout = std::chrono::milliseconds(100)});
  const std::string big(4000, 'b');
  auto slowest = std::chrono::steady_clock::duration::zero();
  bool threw = false;
  // The kernel buffers several MB on loopback before the sender has to wait: write until it does.
  for (int i = 0; i < 40000 && !threw; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      s->write(make_line(big));
      if (i % 16 == 0) s->flush();
    } catch (const std::system_error& e) {
      threw = true;
      CHECK(e.code().value() == ETIMEDOUT);
    }
    slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
  }
  REQUIRE(threw);
  CHECK(slowest >= 90ms);
  CHECK(slowest < 2s);
  CHECK(gidlog::get_syslog_counters(s).disconnects == 1);
}

TEST_CASE("syslog sink: unix datagram socket, one message per datagram, cut and counted", "[syslog]") {
  const std::string path = unix_path("dgram");
  sock rx(::socket(AF_UNIX, SOCK_DGRAM, 0));
  bind_unix(rx.fd, path);
  auto s = open_sink({.address = "unix:" + path,
                      .format = gidlog::syslog_format::rfc3164,
                      .app_name = "t",
                      .max_datagram_bytes = 480});
  s->write(make_line("hello\nworld", gidlog::level::warn));
  const std::string d = recv_datagram(rx.fd);
  CHECK(d.starts_with("<12>"));
  CHECK(d.ends_with(" t[" + std::to_string(::getpid()) + "]: [gid-7:t.cpp:3] hello\nworld"));  // no HOSTNAME
  s->write(make_line(std::string(1000, 'x')));
  const std::string cut = recv_datagram(rx.fd);
  CHECK(cut.size() <= 480);
  CHECK(cut.find("xxx...[truncated ") != std::string::npos);
  auto c = gidlog::get_syslog_counters(s);
  CHECK(c.sent == 2);
  CHECK(c.truncated == 1);

  SECTION("the daemon makes its socket again: the next message reconnects") {
    rx.close_now();
    ::unlink(path.c_str());
    sock rx2(::socket(AF_UNIX, SOCK_DGRAM, 0));
    bind_unix(rx2.fd, path);
    s->write(make_line("after restart"));
    CHECK(recv_datagram(rx2.fd).ends_with("] after restart"));
    CHECK(gidlog::get_syslog_counters(s).connects == 2);
  }
  SECTION("no daemon: write throws, and not before the back-off allows a new attempt") {
    rx.close_now();
    ::unlink(path.c_str());
    CHECK_THROWS_AS(s->write(make_line("lost?")), std::system_error);
    CHECK_THROWS_WITH(s->write(make_line("lost?")), Catch::Contains("reconnect back-off"));
  }
  ::unlink(path.c_str());
}

TEST_CASE("syslog sink: unix stream socket, messages ended by NUL", "[syslog]") {
  const std::string path = unix_path("stream");
  sock listener(::socket(AF_UNIX, SOCK_STREAM, 0));
  bind_unix(listener.fd, path);
  REQUIRE(::listen(listener.fd, 4) == 0);
  auto s = open_sink({.address = "unix:" + path, .app_name = "t"});
  s->write(make_line("a"));
  s->write(make_line(std::string(3000, 'y')));  // a stream never cuts
  s->flush();
  sock conn(accept_within(listener.fd));
  const std::string got = read_stream(conn.fd, 3200);
  const std::size_t nul = got.find('\0');
  REQUIRE(nul != std::string::npos);
  CHECK(got.substr(0, nul).ends_with("] a"));
  CHECK(got.substr(nul + 1).ends_with(std::string(3000, 'y') + '\0'));
  CHECK(gidlog::get_syslog_counters(s).truncated == 0);
  ::unlink(path.c_str());
}

TEST_CASE("syslog sink: UDP, one message per datagram, a refusing port counted", "[syslog]") {
  sock rx(::socket(AF_INET, SOCK_DGRAM, 0));
  const int port = bind_loopback(rx.fd);
  auto s = open_sink({.address = "udp://127.0.0.1:" + std::to_string(port), .app_name = "t", .hostname = "h"});
  s->write(make_line("over udp", gidlog::level::error));
  const std::string d = recv_datagram(rx.fd);
  CHECK(d.starts_with("<11>1 2026-11-30T09:15:02.117503Z h t "));
  CHECK(d.ends_with("] over udp"));
  s->write(make_line(std::string(5000, 'u')));  // default limit over UDP: 2048
  const std::string cut = recv_datagram(rx.fd);
  CHECK(cut.size() <= 2048);
  CHECK(cut.find("...[truncated ") != std::string::npos);

  rx.close_now();  // nobody listens: the kernel answers "port unreachable"
  for (int i = 0; i < 5; ++i) {
    s->write(make_line("into the void"));
    std::this_thread::sleep_for(10ms);
  }
  auto c = gidlog::get_syslog_counters(s);
  CHECK(c.refused >= 1);
  CHECK(c.sent == 7);
}

TEST_CASE("syslog sink: options are checked by open()", "[syslog]") {
  auto rejects = [](gidlog::syslog_options o) {
    gidlog::sink_ptr s = gidlog::syslog_sink(std::move(o));
    CHECK_THROWS_AS(s->open(), std::invalid_argument);
  };
  rejects({.address = "syslog.example:514"});
  rejects({.address = "unix:"});
  rejects({.address = "unix:/" + std::string(200, 'p')});
  rejects({.address = "udp://"});
  rejects({.address = "udp://127.0.0.1:0"});
  rejects({.address = "udp://127.0.0.1:70000"});
  rejects({.address = "tcp://127.0.0.1:5x"});
  rejects({.address = "tcp://[::1:514"});
  rejects({.address = "tcp://::1:514"});
  rejects({.address = "udp://127.0.0.1", .facility = 24});
  rejects({.address = "udp://127.0.0.1", .facility = -1});
  rejects({.address = "udp://127.0.0.1", .max_datagram_bytes = 100});
  rejects({.address = "udp://127.0.0.1", .max_datagram_bytes = 70000});
  rejects({.address = "udp://127.0.0.1", .timeout = std::chrono::milliseconds(0)});
  rejects({.address = "tcp://127.0.0.1", .reconnect_min = std::chrono::milliseconds(10),
           .reconnect_max = std::chrono::milliseconds(5)});
  CHECK_NOTHROW(gidlog::syslog_sink({.address = "udp://127.0.0.1"})->open());  // port 514 by default
  CHECK_NOTHROW(gidlog::syslog_sink({.address = "tcp://[::1]:6514"})->open());
  CHECK_NOTHROW(gidlog::syslog_sink()->open());  // unix:/dev/log: connects at the first message

  struct other final : gidlog::sink {
    void write(const gidlog::log_line&) override {}
  };
  const auto c = gidlog::get_syslog_counters(std::make_shared<other>());
  CHECK(c.sent + c.truncated + c.connects + c.disconnects + c.refused == 0);
}
