// Backend thread: syslog message bytes (see syslog_format.h).
#include "sinks/syslog_format.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include <fmt/format.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

constexpr std::size_t no_cap = std::string_view::npos;
constexpr std::string_view fixed_names[] = {"gid", "file", "line", "func", "logger"};
constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Bytes in the valid UTF-8 character starting at s[i] (i < s.size(), s[i] >= 0x80); 0 if invalid.
std::size_t utf8_char_len(std::string_view s, std::size_t i) noexcept {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k, unsigned lo, unsigned hi) {
    return i + k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  const unsigned c = at(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;  // no overlongs, no surrogates
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;  // U+10000..U+10FFFF
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

// A field's value as text; `buf` holds numbers.
std::string_view value_text(const field_value& v, fmt::memory_buffer& buf) {
  buf.clear();
  switch (v.type) {
    case field_value::kind::boolean: return v.b ? "true" : "false";
    case field_value::kind::signed_integer: fmt::format_to(std::back_inserter(buf), "{}", v.i); break;
    case field_value::kind::unsigned_integer: fmt::format_to(std::back_inserter(buf), "{}", v.u); break;
    case field_value::kind::floating: fmt::format_to(std::back_inserter(buf), "{}", v.d); break;
    case field_value::kind::string:
    case field_value::kind::json: return v.s;
  }
  return {buf.data(), buf.size()};
}

void append_param(std::string& out, std::string_view name, std::string_view value, std::size_t cap) {
  out += ' ';
  out += name;
  out += "=\"";
  append_sd_value(out, value, cap);
  out += '"';
}

// ` name="value"` for a context entry or an argument; `fixed_names_taken`: a name that would repeat
// one of the site's parameters gets "ctx." in front.
void append_field(std::string& out, const field& f, std::size_t cap, fmt::memory_buffer& num,
                  bool fixed_names_taken) {
  out += ' ';
  const std::size_t name_at = out.size();
  append_sd_name(out, f.name);
  const std::string_view name = std::string_view(out).substr(name_at);
  if (fixed_names_taken && std::find(std::begin(fixed_names), std::end(fixed_names), name) != std::end(fixed_names))
    out.insert(name_at, "ctx.");
  out += "=\"";
  append_sd_value(out, value_text(f.value, num), cap);
  out += '"';
}

bool needs_logfmt_quotes(std::string_view v) noexcept {
  return v.empty() || std::any_of(v.begin(), v.end(), [](char ch) {
           const auto c = static_cast<unsigned char>(ch);
           return c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f;
         });
}

}  // namespace

int syslog_severity(gidlog::level l) noexcept {
  switch (l) {
    case level::trace:
    case level::debug: return 7;
    case level::info: return 6;
    case level::warn: return 4;
    case level::error: return 3;
    case level::fatal: return 2;
    default: return 6;  // `off` is never logged
  }
}

void append_sd_name(std::string& out, std::string_view key) {
  if (key.empty()) {
    out += '_';
    return;
  }
  for (char ch : key.substr(0, 32)) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"';
    out += ok ? ch : '_';
  }
}

void append_sd_value(std::string& out, std::string_view v, std::size_t cap) {
  if (v.size() > cap) v = utf8_prefix(v, cap);
  for (std::size_t i = 0; i < v.size();) {
    const char ch = v[i];
    if (static_cast<unsigned char>(ch) < 0x80) {
      if (ch == '"' || ch == '\\' || ch == ']') out += '\\';
      out += ch;
      ++i;
    } else if (const std::size_t n = utf8_char_len(v, i); n != 0) {
      out.append(v.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD for the one invalid byte; resynchronise at the next
      ++i;
    }
  }
}

std::string printable_ascii(std::string_view v, std::size_t max, std::string_view also_bad) {
  std::string out(v.substr(0, max));
  for (char& ch : out) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c >= 0x7f || also_bad.find(ch) != std::string_view::npos) ch = '_';
  }
  return out;
}

std::string_view utf8_prefix(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s;
  std::size_t end = max;
  // s[end] is the first byte left out: while it continues a character, that character starts
  // earlier and goes too (at most 3 steps: longer runs are not UTF-8 anyway).
  for (int k = 0; k < 3 && end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80; ++k) --end;
  return s.substr(0, end);
}

void append_octet_counted(std::string& out, std::string_view msg) {
  out += fmt::format_int(msg.size()).str();
  out += ' ';
  out += msg;
}

syslog_formatter::syslog_formatter(config c) : cfg_(std::move(c)) {
  sd_gidlog_ = fmt::format("gidlog@{}", cfg_.enterprise_number);
  sd_fields_ = fmt::format("fields@{}", cfg_.enterprise_number);
}

// RFC 5424: "2026-11-30T09:15:02.117503Z" (UTC). RFC 3164: "Nov 30 10:15:02" (local time).
std::string_view syslog_formatter::timestamp(std::int64_t time_ns) {
  std::int64_t sec = time_ns / 1'000'000'000, ns = time_ns % 1'000'000'000;
  if (ns < 0) {
    ns += 1'000'000'000;
    --sec;
  }
  if (sec != stamp_second_) {
    const std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    int n;
    if (cfg_.format == syslog_format::rfc5424) {
      gmtime_r(&t, &tm);
      n = std::snprintf(stamp_, sizeof stamp_, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    } else {
      localtime_r(&t, &tm);
      n = std::snprintf(stamp_, sizeof stamp_, "%s %2d %02d:%02d:%02d", months[tm.tm_mon % 12].data(), tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    stamp_len_ = n > 0 ? std::min<std::size_t>(static_cast<std::size_t>(n), sizeof stamp_ - 1) : 0;
    stamp_second_ = t;
  }
  if (cfg_.format == syslog_format::rfc5424) {
    std::snprintf(stamp_ + stamp_len_, sizeof stamp_ - stamp_len_, ".%06dZ", static_cast<int>(ns / 1000));
    return {stamp_, stamp_len_ + 8};
  }
  return {stamp_, stamp_len_};
}

void syslog_formatter::header(const log_line& line, int pid, std::string& out) {
  out += '<';
  out += fmt::format_int(cfg_.facility * 8 + syslog_severity(line.level)).c_str();
  out += '>';
  if (cfg_.format == syslog_format::rfc5424) {
    out += "1 ";
    out += timestamp(line.time_ns);
    out += ' ';
    out += cfg_.hostname.empty() ? std::string_view{"-"} : std::string_view{cfg_.hostname};
    out += ' ';
    out += cfg_.app_name;
    out += ' ';
    out += fmt::format_int(pid).c_str();
    out += " - ";
  } else {
    out += timestamp(line.time_ns);
    out += ' ';
    if (!cfg_.hostname.empty()) {
      out += cfg_.hostname;
      out += ' ';
    }
    out += cfg_.app_name;
    out += '[';
    out += fmt::format_int(pid).c_str();
    out += "]: ";
  }
}

void syslog_formatter::structured_data(const log_line& line, std::size_t cap, std::string& out) const {
  fmt::memory_buffer num;
  out += '[';
  out += sd_gidlog_;
  append_param(out, "gid", fmt::format_int(line.gid).c_str(), cap);
  append_param(out, "file", line.file, cap);
  append_param(out, "line", fmt::format_int(line.line).c_str(), cap);
  append_param(out, "func", line.function, cap);
  append_param(out, "logger", line.logger, cap);
  for (const field& f : line.context) append_field(out, f, cap, num, true);
  out += ']';
  if (!cfg_.named_fields || line.fields.empty()) return;
  out += '[';
  out += sd_fields_;
  for (const field& f : line.fields) append_field(out, f, cap, num, false);
  out += ']';
}

// "[gid-N:file:line] message key=value ..."
void syslog_formatter::rfc3164_body(const log_line& line, std::string& out) const {
  out.clear();
  out += "[gid-";
  out += fmt::format_int(line.gid).c_str();
  out += ':';
  out += line.file;
  out += ':';
  out += fmt::format_int(line.line).c_str();
  out += "] ";
  out += line.message;
  fmt::memory_buffer num;
  for (const field& f : line.context) {
    out += ' ';
    out += printable_ascii(f.name.empty() ? std::string_view{"_"} : f.name, f.name.size() + 1, "=\"");
    out += '=';
    const std::string_view v = value_text(f.value, num);
    if (!needs_logfmt_quotes(v)) {
      out += v;
      continue;
    }
    out += '"';
    for (char ch : v) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
}

std::size_t syslog_formatter::format(const log_line& line, int pid, std::string& out, std::size_t max_bytes) {
  const bool rfc5424 = cfg_.format == syslog_format::rfc5424;
  out.clear();
  header(line, pid, out);
  const std::size_t head = out.size();
  std::string_view msg = line.message;
  if (rfc5424) {
    structured_data(line, no_cap, out);
    out += ' ';
  } else {
    rfc3164_body(line, body_);
    msg = body_;
  }
  out += msg;
  if (max_bytes == 0 || out.size() <= max_bytes) return 0;

  // Too long for one datagram: cut the message text, then, while the header and structured data
  // alone leave no room for the marker, cut every structured-data value shorter, then leave the
  // structured data out ("-").
  const std::size_t full = out.size();
  const std::size_t marker_room = std::string_view("...[truncated  bytes]").size() + fmt::format_int(full).size();
  const std::array<std::size_t, 6> caps{no_cap, max_bytes / 8, 64, 16, 0, no_cap};
  for (std::size_t i = 0; i < caps.size(); ++i) {
    out.resize(head);
    if (rfc5424) {
      if (i + 1 < caps.size()) structured_data(line, caps[i], out);
      else out += '-';
      out += ' ';
    }
    if (out.size() + marker_room > max_bytes && i + 1 < caps.size()) continue;
    const std::size_t room = max_bytes - std::min(max_bytes, out.size() + marker_room);
    out += utf8_prefix(msg, room);
    const std::size_t left_out = full - out.size();
    fmt::format_to(std::back_inserter(out), "...[truncated {} bytes]", left_out);
    if (out.size() > max_bytes) out.resize(max_bytes);  // a header alone longer than max_bytes: cannot happen for >= 480
    return left_out;
  }
  return 0;  // not reached
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
