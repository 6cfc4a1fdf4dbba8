// Backend thread: the journald sink. Builds each record as the native journal protocol's
// "NAME=value\n" items (the binary item for a value holding a newline) and sends it as one
// datagram on a connected AF_UNIX socket, or as a sealed memfd when it is too large for one. The
// socket is non-blocking; a full journald queue is waited for with poll(), bounded by the timeout.
// A record that cannot be sent makes write() throw and the backend keeps and retries it
// (writer.cpp): the sink holds no backlog of its own.
#include <errno.h>  // program_invocation_short_name (GNU)
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include <gidlog/sinks/journald.h>

#include "sinks/syslog_format.h"

namespace gidlog {
inline namespace v0 {
namespace {

// journald ignores a field whose name is longer (journal_field_valid()).
constexpr std::size_t max_name = 64;

// The fields every record carries: a key mapping to one of these gets "F_" in front.
constexpr std::string_view fixed_names[] = {"MESSAGE",   "PRIORITY", "CODE_FILE",     "CODE_LINE",       "CODE_FUNC",
                                            "TID",       "SYSLOG_IDENTIFIER", "GIDLOG_LOGGER", "GIDLOG_TIME_USEC"};

std::int64_t monotonic_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument("journald_sink: " + what); }

// Appends `key` as a journal field name (see <gidlog/sinks/journald.h>).
void append_name(std::string& out, std::string_view key) {
  const std::size_t at = out.size();
  const bool needs_prefix = key.empty() || key[0] == '_' || (key[0] >= '0' && key[0] <= '9');
  if (needs_prefix) out += "F_";
  for (const char ch : key) {
    if (out.size() - at == max_name) break;
    const char up = ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch;
    out += (up >= 'A' && up <= 'Z') || (up >= '0' && up <= '9') || up == '_' ? up : '_';
  }
  if (needs_prefix) return;
  const std::string_view name = std::string_view(out).substr(at);
  if (std::find(std::begin(fixed_names), std::end(fixed_names), name) != std::end(fixed_names))
    out.insert(at, "F_");  // at most 17 + 2 bytes: within max_name
}

// Appends the value of the item whose name `out` ends with: "=value\n", or, when the value holds
// a newline, the binary form "\n" + its length as 64-bit little endian + the bytes + "\n".
void append_value(std::string& out, std::string_view v) {
  if (std::memchr(v.data(), '\n', v.size()) == nullptr) {
    out += '=';
    out += v;
    out += '\n';
    return;
  }
  out += '\n';
  std::uint64_t n = v.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out += static_cast<char>(n & 0xff);
  out += v;
  out += '\n';
}

void append_item(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  append_value(out, value);
}

// A field's value as text; `num` holds a number's digits.
std::string_view value_text(const field_value& v, fmt::memory_buffer& num) {
  num.clear();
  switch (v.type) {
    case field_value::kind::boolean: return v.b ? "true" : "false";
    case field_value::kind::signed_integer: fmt::format_to(std::back_inserter(num), "{}", v.i); break;
    case field_value::kind::unsigned_integer: fmt::format_to(std::back_inserter(num), "{}", v.u); break;
    case field_value::kind::floating: fmt::format_to(std::back_inserter(num), "{}", v.d); break;
    case field_value::kind::string:
    case field_value::kind::json: return v.s;
  }
  return {num.data(), num.size()};
}

class journald_sink_impl final : public sink {
 public:
  explicit journald_sink_impl(journald_options o) : opts_(std::move(o)) {}

  ~journald_sink_impl() override { close_fd(); }

  void open() override {
    sockaddr_un un{};
    if (opts_.socket_path.empty() || opts_.socket_path.size() >= sizeof un.sun_path)
      bad("socket_path \"" + opts_.socket_path + "\" must be 1.." + std::to_string(sizeof un.sun_path - 1) + " bytes");
    if (opts_.timeout < std::chrono::milliseconds(1) || opts_.timeout > std::chrono::seconds(60))
      bad("timeout must be 1 ms .. 60 s");
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, opts_.socket_path.data(), opts_.socket_path.size());
    addr_ = un;
    addr_len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + opts_.socket_path.size() + 1);
    identifier_ = opts_.syslog_identifier;
    if (identifier_.empty() && program_invocation_short_name != nullptr) identifier_ = program_invocation_short_name;
    if (identifier_.empty()) identifier_ = "gidlog";
  }

  void write(const log_line& line) override {
    build(line);
    send_record();
  }

  void after_fork_child() noexcept override { close_fd(); }  // the child connects on its own

  bool wants_text() const noexcept override { return false; }
  bool wants_fields() const noexcept override { return opts_.named_fields; }

  journald_counters counters() const noexcept {
    return {sent_.load(std::memory_order_relaxed), via_memfd_.load(std::memory_order_relaxed),
            connects_.load(std::memory_order_relaxed)};
  }

 private:
  void build(const log_line& l) {
    msg_.clear();
    append_item(msg_, "MESSAGE", l.message);
    msg_ += "PRIORITY=";
    msg_ += static_cast<char>('0' + detail::syslog_severity(l.level));
    msg_ += '\n';
    append_item(msg_, "CODE_FILE", l.file);
    msg_ += "CODE_LINE=";
    msg_ += fmt::format_int(l.line).c_str();
    msg_ += '\n';
    append_item(msg_, "CODE_FUNC", l.function);
    msg_ += "TID=";
    msg_ += fmt::format_int(l.gid).c_str();
    msg_ += '\n';
    append_item(msg_, "SYSLOG_IDENTIFIER", identifier_);
    append_item(msg_, "GIDLOG_LOGGER", l.logger);
    msg_ += "GIDLOG_TIME_USEC=";
    msg_ += fmt::format_int(l.time_ns / 1000).c_str();
    msg_ += '\n';
    for (const field& f : l.context) {
      append_name(msg_, f.name);
      append_value(msg_, value_text(f.value, num_));
    }
    if (!opts_.named_fields) return;
    for (const field& f : l.fields) {
      append_name(msg_, f.name);
      append_value(msg_, value_text(f.value, num_));
    }
  }

  [[noreturn]] void fail(int err, const char* op) const {
    throw std::system_error(err, std::generic_category(), "journald " + opts_.socket_path + ": " + op);
  }

  void send_record() {
    const std::int64_t deadline = monotonic_ms() + opts_.timeout.count();
    bool reconnected = false;
    for (;;) {
      if (fd_ < 0) connect();
      if (::send(fd_, msg_.data(), msg_.size(), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
        sent_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EMSGSIZE || err == ENOBUFS) {  // larger than a datagram may be: hand over a memfd
        send_memfd(deadline);
        return;
      }
      if (err == EAGAIN) {  // journald's queue is full: wait for room, up to the timeout
        if (!wait_writable(deadline)) fail(ETIMEDOUT, "journald took nothing within the timeout");
        continue;
      }
      close_fd();
      // ECONNREFUSED on a connected socket: journald was restarted and made its socket anew.
      if (!reconnected) {
        reconnected = true;
        continue;
      }
      fail(err, "send");
    }
  }

  // Writes msg_ to a sealed memfd and sends its descriptor with an empty datagram.
  void send_memfd(std::int64_t deadline) {
    const int mfd = ::memfd_create("gidlog-journald", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    if (mfd < 0) fail(errno, "memfd_create");
    struct closer {
      int fd;
      ~closer() { ::close(fd); }
    } guard{mfd};
    for (std::size_t done = 0; done < msg_.size();) {
      const ssize_t n = ::write(mfd, msg_.data() + done, msg_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(n < 0 ? errno : EIO, "write to the memfd");
      done += static_cast<std::size_t>(n);
    }
    if (::fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
      fail(errno, "sealing the memfd");
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr mh{};
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
    for (;;) {
      if (::sendmsg(fd_, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) break;
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN) {
        if (!wait_writable(deadline)) fail(ETIMEDOUT, "journald took nothing within the timeout");
        continue;
      }
      close_fd();
      fail(err, "sending the memfd");
    }
    sent_.fetch_add(1, std::memory_order_relaxed);
    via_memfd_.fetch_add(1, std::memory_order_relaxed);
  }

  // A connected unix datagram socket polls writable when the reader's queue has room.
  bool wait_writable(std::int64_t deadline) noexcept {
    for (;;) {
      const std::int64_t left = deadline - monotonic_ms();
      if (left <= 0) return false;
      pollfd p{fd_, POLLOUT, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left, INT_MAX)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return true;  // let the send report the error
    }
  }

  void connect() {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(errno, "socket");
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) != 0) {
      const int err = errno;
      ::close(fd);
      fail(err, "connect");
    }
    fd_ = fd;
    connects_.fetch_add(1, std::memory_order_relaxed);
  }

  void close_fd() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  journald_options opts_;
  sockaddr_un addr_{};
  socklen_t addr_len_ = 0;
  std::string identifier_;
  int fd_ = -1;
  std::string msg_;          // the record being sent, as protocol items
  fmt::memory_buffer num_;   // a number's digits
  std::atomic<std::uint64_t> sent_{0}, via_memfd_{0}, connects_{0};
};

}  // namespace

sink_ptr journald_sink(journald_options opts) { return std::make_shared<journald_sink_impl>(std::move(opts)); }

journald_counters get_journald_counters(const sink_ptr& s) noexcept {
  if (const auto* impl = dynamic_cast<const journald_sink_impl*>(s.get()); impl != nullptr) return impl->counters();
  return {};
}

}  // namespace v0
}  // namespace gidlog
