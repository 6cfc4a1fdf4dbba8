// Backend thread: the syslog sink. Formats each line (syslog_format.h) and sends it over a unix
// datagram or stream socket, UDP, or TCP with octet counting. Sockets are non-blocking; every
// wait is a poll() bounded by syslog_options::timeout, so a stalled daemon cannot wedge the
// backend. A message that cannot be sent makes write() or flush() throw, and the backend keeps
// the line and retries (writer.cpp): the sink holds no backlog of its own beyond its stream buffer.
#include <errno.h>  // program_invocation_short_name (GNU)
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include <gidlog/sinks/syslog.h>

#include "sinks/syslog_format.h"

namespace gidlog {
inline namespace v0 {
namespace {

using detail::syslog_formatter;

constexpr std::size_t stream_buffer_bytes = 64 * 1024;
constexpr std::size_t min_datagram = 480, max_datagram = 65507;

enum class transport : std::uint8_t { unix_socket, udp, tcp };

struct endpoint {
  transport kind = transport::unix_socket;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
};

std::int64_t monotonic_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument("syslog_sink: " + what); }

// "unix:/path", "udp://host[:port]", "tcp://host[:port]"; host names are resolved here.
endpoint parse_endpoint(const std::string& address) {
  endpoint ep;
  std::string_view a = address;
  if (a.starts_with("unix:")) {
    const std::string_view path = a.substr(5);
    sockaddr_un un{};
    if (path.empty() || path.size() >= sizeof un.sun_path)
      bad("address \"" + address + "\": the socket path must be 1.." + std::to_string(sizeof un.sun_path - 1) +
          " bytes");
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    std::memcpy(&ep.addr, &un, sizeof un);
    ep.addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return ep;
  }
  if (a.starts_with("udp://")) ep.kind = transport::udp;
  else if (a.starts_with("tcp://")) ep.kind = transport::tcp;
  else bad("address \"" + address + "\": expected unix:/path, udp://host:port or tcp://host:port");
  std::string_view rest = a.substr(6), host, port = "514";
  if (rest.starts_with('[')) {  // [IPv6]:port
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) bad("address \"" + address + "\": no ']' after the IPv6 address");
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) bad("address \"" + address + "\": expected ':port' after ']'");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const std::size_t colon = rest.find(':');
    if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos)
      bad("address \"" + address + "\": put an IPv6 address in brackets, as in udp://[::1]:514");
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  const bool port_ok = !port.empty() && port.size() <= 5 &&
                       std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                       std::stoi(std::string(port)) >= 1 && std::stoi(std::string(port)) <= 65535;
  if (host.empty() || !port_ok) bad("address \"" + address + "\": expected host:port with a port 1..65535");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = ep.kind == transport::tcp ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string host_s(host), port_s(port);
  if (int rc = ::getaddrinfo(host_s.c_str(), port_s.c_str(), &hints, &res); rc != 0 || res == nullptr)
    bad("cannot resolve \"" + host_s + "\" in \"" + address + "\": " + ::gai_strerror(rc));
  std::memcpy(&ep.addr, res->ai_addr, res->ai_addrlen);
  ep.addr_len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return ep;
}

// Waits until `events` on fd or the deadline (steady clock, ms); false when the deadline passed.
bool wait_for(int fd, short events, std::int64_t deadline_ms) noexcept {
  for (;;) {
    const std::int64_t left = deadline_ms - monotonic_ms();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left, INT_MAX)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return true;  // let the send report the error
  }
}

class syslog_sink_impl final : public sink {
 public:
  explicit syslog_sink_impl(syslog_options o) : opts_(std::move(o)), fmt_({}) {}

  ~syslog_sink_impl() override {
    try {
      if (!buf_.empty()) drain();
    } catch (...) {
    }
    close_fd();
  }

  void open() override {
    if (opts_.facility < 0 || opts_.facility > 23) bad("facility must be 0..23");
    if (opts_.max_datagram_bytes != 0 &&
        (opts_.max_datagram_bytes < min_datagram || opts_.max_datagram_bytes > max_datagram))
      bad("max_datagram_bytes must be 0 or 480..65507");
    if (opts_.timeout < std::chrono::milliseconds(1) || opts_.timeout > std::chrono::seconds(60))
      bad("timeout must be 1 ms .. 60 s");
    if (opts_.reconnect_min < std::chrono::milliseconds(1) || opts_.reconnect_min > opts_.reconnect_max ||
        opts_.reconnect_max > std::chrono::minutes(10))
      bad("reconnect back-off must be 1 ms <= reconnect_min <= reconnect_max <= 10 min");
    ep_ = parse_endpoint(opts_.address);
    max_datagram_ = opts_.max_datagram_bytes != 0 ? opts_.max_datagram_bytes
                    : ep_.kind == transport::udp  ? 2048
                                                  : 8192;
    syslog_formatter::config c;
    c.format = opts_.format;
    c.facility = opts_.facility;
    // RFC 3164 over a local socket: no HOSTNAME, as syslog(3) sends it and local daemons parse it.
    if (opts_.format == syslog_format::rfc5424 || ep_.kind != transport::unix_socket) {
      std::string host = opts_.hostname;
      if (host.empty()) {
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) == 0) host = name;
      }
      c.hostname = detail::printable_ascii(host, 255);
    }
    std::string_view app = opts_.app_name;
    if (app.empty()) app = program_invocation_short_name;
    if (app.empty()) app = "gidlog";
    c.app_name = detail::printable_ascii(app,
                                         opts_.format == syslog_format::rfc5424 ? 48 : 32,
                                         opts_.format == syslog_format::rfc3164 ? "[]:" : "");
    c.enterprise_number = opts_.enterprise_number;
    c.named_fields = opts_.named_fields;
    fmt_ = syslog_formatter(std::move(c));
    pid_ = ::getpid();
  }

  void write(const log_line& line) override {
    if (ep_.kind == transport::unix_socket && fd_ < 0) connect();  // to learn datagram or stream
    if (ep_.kind == transport::tcp || stream_) write_stream(line);
    else write_datagram(line);
  }

  void flush() override { drain(); }

  void after_fork_child() noexcept override {
    close_fd();  // the parent keeps its connection; the child makes its own
    buf_.clear();
    ends_.clear();
    pid_ = ::getpid();
    next_connect_ms_ = 0;
    connect_failures_ = 0;
  }

  bool wants_text() const noexcept override { return false; }

  syslog_counters counters() const noexcept {
    return {sent_.load(std::memory_order_relaxed), truncated_.load(std::memory_order_relaxed),
            connects_.load(std::memory_order_relaxed), disconnects_.load(std::memory_order_relaxed),
            refused_.load(std::memory_order_relaxed)};
  }

 private:
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }

  [[noreturn]] void fail(int err, const char* op) const {
    throw std::system_error(err, std::generic_category(), "syslog " + opts_.address + ": " + op);
  }

  // One message per datagram, cut to max_datagram_ when longer.
  void write_datagram(const log_line& line) {
    std::size_t cut = fmt_.format(line, pid_, msg_, max_datagram_);
    const std::int64_t deadline = monotonic_ms() + opts_.timeout.count();
    for (int attempt = 0;; ++attempt) {
      if (fd_ < 0) connect();
      if (::send(fd_, msg_.data(), msg_.size(), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
        bump(sent_);
        if (cut != 0) bump(truncated_);
        return;
      }
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN) {  // a unix reader's queue is full: wait for room, up to the timeout
        if (!wait_for(fd_, POLLOUT, deadline)) fail(ETIMEDOUT, "the reader took nothing within the timeout");
        continue;
      }
      if (err == EMSGSIZE && msg_.size() > min_datagram) {  // the socket's buffer is smaller than the option
        cut = fmt_.format(line, pid_, msg_, min_datagram);
        continue;
      }
      if (attempt == 0 && err == ECONNREFUSED && ep_.kind == transport::udp) {
        bump(refused_);  // the report is for an earlier datagram (ICMP port unreachable): send this one
        continue;
      }
      drop_connection();
      // A unix socket refusing: the daemon may have made its socket again; reconnect once now.
      if (attempt == 0 && ep_.kind == transport::unix_socket) continue;
      fail(err, "send");
    }
  }

  void write_stream(const log_line& line) {
    fmt_.format(line, pid_, msg_);
    const std::size_t framed = msg_.size() + (stream_ ? 1 : fmt::format_int(msg_.size()).size() + 1);
    if (!buf_.empty() && buf_.size() + framed > stream_buffer_bytes) drain();  // throws: line not taken
    if (stream_) {  // unix stream: NUL-terminated, as syslog(3)
      buf_ += msg_;
      buf_ += '\0';
    } else {
      detail::append_octet_counted(buf_, msg_);
    }
    ends_.push_back(buf_.size());
  }

  // Sends the stream buffer. On a failure, the frames sent whole are done; the rest, from the
  // start of the frame the connection took only part of, stays for the next connection.
  void drain() {
    if (buf_.empty()) return;
    if (fd_ >= 0 && !peer_alive()) drop_connection();
    if (fd_ < 0) connect();
    const std::int64_t deadline = monotonic_ms() + opts_.timeout.count();
    std::size_t done = 0;
    int err = 0;
    while (done < buf_.size()) {
      const ssize_t n = ::send(fd_, buf_.data() + done, buf_.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        done += static_cast<std::size_t>(n);
      } else if (errno == EAGAIN) {
        if (!wait_for(fd_, POLLOUT, deadline)) {
          err = ETIMEDOUT;
          break;
        }
      } else if (errno != EINTR) {
        err = errno;
        break;
      }
    }
    const std::size_t whole = static_cast<std::size_t>(std::upper_bound(ends_.begin(), ends_.end(), done) - ends_.begin());
    bump(sent_, whole);
    if (err == 0) {
      buf_.clear();
      ends_.clear();
      return;
    }
    const std::size_t keep_from = whole == 0 ? 0 : ends_[whole - 1];
    buf_.erase(0, keep_from);
    ends_.erase(ends_.begin(), ends_.begin() + static_cast<std::ptrdiff_t>(whole));
    for (std::size_t& e : ends_) e -= keep_from;
    drop_connection();
    fail(err, err == ETIMEDOUT ? "the peer took nothing within the timeout" : "send");
  }

  // A syslog daemon never writes back: a readable stream socket means it closed or reset.
  bool peer_alive() noexcept {
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return true;
    if ((p.revents & (POLLERR | POLLHUP | POLLRDHUP)) != 0) return false;
    char scratch[512];
    const ssize_t n = ::recv(fd_, scratch, sizeof scratch, MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
  }

  // Connects, or throws: at once while the reconnect back-off runs, else after one attempt
  // bounded by the timeout (which starts the back-off when it fails).
  void connect() {
    const std::int64_t now = monotonic_ms();
    if (now < next_connect_ms_)
      throw std::runtime_error(fmt::format("syslog {}: not connected; next attempt in {} ms (reconnect back-off)",
                                           opts_.address, next_connect_ms_ - now));
    const int err = try_connect(now + opts_.timeout.count());
    if (err == 0) {
      connect_failures_ = 0;
      bump(connects_);
      return;
    }
    const std::int64_t backoff = std::min<std::int64_t>(
        opts_.reconnect_max.count(), opts_.reconnect_min.count() << std::min(connect_failures_, 20));
    ++connect_failures_;
    next_connect_ms_ = monotonic_ms() + backoff;
    fail(err, "connect");
  }

  int try_connect(std::int64_t deadline) {
    const int family = ep_.addr.ss_family;
    int type = ep_.kind == transport::tcp ? SOCK_STREAM : SOCK_DGRAM;
    for (;;) {
      const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return errno;
      int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ep_.addr), ep_.addr_len);
      int err = rc == 0 ? 0 : errno;
      if (err == EINPROGRESS) {  // TCP: wait for the handshake, up to the deadline
        socklen_t len = sizeof err;
        if (!wait_for(fd, POLLOUT, deadline)) err = ETIMEDOUT;
        else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      }
      if (err == EPROTOTYPE && type == SOCK_DGRAM && ep_.kind == transport::unix_socket) {
        ::close(fd);
        type = SOCK_STREAM;  // the daemon listens on a stream socket
        continue;
      }
      if (err != 0) {
        ::close(fd);
        return err;
      }
      fd_ = fd;
      stream_ = ep_.kind == transport::unix_socket && type == SOCK_STREAM;
      return 0;
    }
  }

  // The connection is gone or unusable: the next attempt reconnects at once.
  void drop_connection() noexcept {
    if (fd_ < 0) return;
    close_fd();
    bump(disconnects_);
    next_connect_ms_ = 0;
    connect_failures_ = 0;
  }

  void close_fd() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  syslog_options opts_;
  endpoint ep_;
  syslog_formatter fmt_;
  std::size_t max_datagram_ = 0;
  int pid_ = 0;
  int fd_ = -1;
  bool stream_ = false;          // a unix stream socket (NUL-terminated frames)
  std::string msg_;              // the message being sent
  std::string buf_;              // stream transports: frames not yet sent
  std::vector<std::size_t> ends_;  // end offset in buf_ of each frame
  std::int64_t next_connect_ms_ = 0;
  int connect_failures_ = 0;
  std::atomic<std::uint64_t> sent_{0}, truncated_{0}, connects_{0}, disconnects_{0}, refused_{0};
};

}  // namespace

sink_ptr syslog_sink(syslog_options opts) { return std::make_shared<syslog_sink_impl>(std::move(opts)); }

syslog_counters get_syslog_counters(const sink_ptr& s) noexcept {
  if (const auto* impl = dynamic_cast<const syslog_sink_impl*>(s.get()); impl != nullptr) return impl->counters();
  return {};
}

}  // namespace v0
}  // namespace gidlog
