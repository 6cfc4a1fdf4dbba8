#pragma once
// Backend thread: the bytes of one syslog message, RFC 5424 or RFC 3164, from a log_line, and the
// octet-counting frame of RFC 6587. No I/O here (syslog_sink.cpp sends); the rules the output
// follows are documented in <gidlog/sinks/syslog.h>.
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include <gidlog/sinks/sink.h>
#include <gidlog/sinks/syslog.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// RFC 5424 severity of a level: trace/debug 7, info 6, warn 4, error 3, fatal 2.
int syslog_severity(gidlog::level l) noexcept;

// `key` as an RFC 5424 SD-NAME: disallowed bytes become '_', at most 32 bytes, never empty.
void append_sd_name(std::string& out, std::string_view key);

// `v` as the inside of an RFC 5424 PARAM-VALUE: '"', '\' and ']' escaped; invalid UTF-8 bytes
// become U+FFFD. At most `cap` bytes of `v` are used (cut before a whole UTF-8 character).
void append_sd_value(std::string& out, std::string_view v, std::size_t cap = std::string_view::npos);

// `v`'s bytes, each outside printable ASCII (or in `also_bad`) replaced by '_', at most `max`.
std::string printable_ascii(std::string_view v, std::size_t max, std::string_view also_bad = {});

// Longest prefix of `s` of at most `max` bytes that does not end inside a UTF-8 character.
std::string_view utf8_prefix(std::string_view s, std::size_t max) noexcept;

// "LEN SP MSG" (RFC 6587 octet counting).
void append_octet_counted(std::string& out, std::string_view msg);

class syslog_formatter {
 public:
  struct config {
    syslog_format format = syslog_format::rfc5424;
    int facility = 1;
    std::string hostname;  // as sent: printable ASCII; empty means "-" (5424) or left out (3164)
    std::string app_name;  // as sent: printable ASCII, non-empty
    std::uint32_t enterprise_number = 32473;
    bool named_fields = true;
  };
  explicit syslog_formatter(config c);

  // Replaces `out` with the message for `line` from process `pid`. With max_bytes != 0 the
  // message is cut to at most max_bytes as <gidlog/sinks/syslog.h> says; returns the bytes left
  // out (0: it was whole).
  std::size_t format(const log_line& line, int pid, std::string& out, std::size_t max_bytes = 0);

  const config& cfg() const noexcept { return cfg_; }

 private:
  void header(const log_line& line, int pid, std::string& out);
  // The structured data with each value cut to `cap` bytes; "-" when sd_none.
  void structured_data(const log_line& line, std::size_t cap, std::string& out) const;
  void rfc3164_body(const log_line& line, std::string& out) const;
  std::string_view timestamp(std::int64_t time_ns);

  config cfg_;
  std::string sd_gidlog_;  // "gidlog@N"
  std::string sd_fields_;  // "fields@N"
  std::string body_;       // MSG, assembled (RFC 3164) or the message's bytes
  std::time_t stamp_second_ = -1;
  char stamp_[40] = {};    // the timestamp's second-resolution part, for stamp_second_
  std::size_t stamp_len_ = 0;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
