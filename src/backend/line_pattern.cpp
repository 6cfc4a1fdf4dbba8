#include "backend/line_pattern.h"

#include <gidlog/logger.h>

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

#include <gidlog/context.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {
std::atomic<std::uint64_t> g_formatter_ids{0};
}  // namespace

line_formatter::line_formatter(const options& opt)
    : id_(g_formatter_ids.fetch_add(1, std::memory_order_relaxed) + 1),
      utc_(opt.utc),
      escape_newlines_(opt.escape_newlines),
      name_(opt.name) {
  static constexpr std::string_view known = "YmdHMSefFzlLtPnsg#!vC";
  const std::string& p = opt.pattern;
  std::string lit;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '%') {
      lit += p[i];
      continue;
    }
    if (i + 1 >= p.size())
      throw std::invalid_argument("gidlog::options::pattern: ends with a lone '%'");
    char f = p[++i];
    if (f == '%') {
      lit += '%';
      continue;
    }
    if (known.find(f) == std::string_view::npos)
      throw std::invalid_argument(fmt::format("gidlog::options::pattern: unknown flag '%{}' in \"{}\"", f, p));
    if (!lit.empty()) tokens_.push_back({0, std::move(lit)});
    lit.clear();
    tokens_.push_back({f, {}});
  }
  if (!lit.empty()) tokens_.push_back({0, std::move(lit)});
}

namespace {
inline void put2(char* d, int v) {
  d[0] = static_cast<char>('0' + v / 10);
  d[1] = static_cast<char>('0' + v % 10);
}
}  // namespace

void line_formatter::refresh_date(std::int64_t sec) {
  time_t when = static_cast<time_t>(sec);
  if (utc_) gmtime_r(&when, &tm_);
  else localtime_r(&when, &tm_);
  int year = tm_.tm_year + 1900;
  put2(date_ + 0, year / 100 % 100);
  put2(date_ + 2, year % 100);
  put2(date_ + 4, tm_.tm_mon + 1);
  put2(date_ + 6, tm_.tm_mday);
  put2(date_ + 8, tm_.tm_hour);
  put2(date_ + 10, tm_.tm_min);
  put2(date_ + 12, tm_.tm_sec);
  long off = utc_ ? 0 : tm_.tm_gmtoff;
  date_[14] = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  put2(date_ + 15, static_cast<int>(off / 3600));
  put2(date_ + 17, static_cast<int>(off / 60 % 60));
  cached_sec_ = sec;
}

std::string_view line_formatter::date_field(char flag) const {
  switch (flag) {
    case 'Y': return {date_, 4};
    case 'm': return {date_ + 4, 2};
    case 'd': return {date_ + 6, 2};
    case 'H': return {date_ + 8, 2};
    case 'M': return {date_ + 10, 2};
    case 'S': return {date_ + 12, 2};
    case 'z': return {date_ + 14, 5};
    default: return {};  // changes per record
  }
}

namespace {
// logfmt: a value is quoted when it is empty or holds a space, '=', a quote or a control
// character; inside quotes '"' and '\' are escaped, and control characters as \n, \t or \xNN.
void append_logfmt_value(fmt::memory_buffer& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) quote = quote || c == ' ' || c == '=' || c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  if (!quote) {
    append(out, v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      append(out, "\\n");
    } else if (c == '\t') {
      append(out, "\\t");
    } else if (u < 0x20 || u == 0x7f) {
      fmt::format_to(fmt::appender(out), "\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

// %C: " key=value" for each context field.
void append_context(fmt::memory_buffer& out, const context_node* ctx) {
  if (ctx == nullptr) return;
  for (const field& f : ctx->fields) {
    out.push_back(' ');
    // A key is written as logfmt can read it back: a byte other than a letter, digit, '_', '.'
    // or '-' becomes '_' (structured sinks get the key as it was given).
    for (char c : f.name) out.push_back(identifier_char(c) || c == '.' || c == '-' ? c : '_');
    if (f.name.empty()) out.push_back('_');
    out.push_back('=');
    switch (f.value.type) {
      case field_value::kind::string:
      case field_value::kind::json: append_logfmt_value(out, f.value.s); break;
      case field_value::kind::boolean: append(out, f.value.b ? "true" : "false"); break;
      case field_value::kind::signed_integer: append_int(out, f.value.i); break;
      case field_value::kind::unsigned_integer: append_uint(out, f.value.u); break;
      case field_value::kind::floating: fmt::format_to(fmt::appender(out), "{}", f.value.d); break;
    }
  }
}
}  // namespace

void line_formatter::append_dynamic(char flag, const record& r, const site_info& site, const site_cache& sc,
                                    std::int64_t wall_ns, fmt::memory_buffer& out) {
  switch (flag) {
    case 'e': append_digits(out, static_cast<std::uint64_t>(wall_ns % 1'000'000'000) / 1'000'000, 3); break;
    case 'f': append_digits(out, static_cast<std::uint64_t>(wall_ns % 1'000'000'000) / 1'000, 6); break;
    case 'F': append_digits(out, static_cast<std::uint64_t>(wall_ns % 1'000'000'000), 9); break;
    case 'l': append(out, level_name(site.level)); break;
    case 'L': out.push_back(level_name(site.level)[0]); break;
    case 't': append_uint(out, r.gid); break;
    case 'P': append_uint(out, static_cast<std::uint64_t>(getpid())); break;
    case 'n': append(out, logger_name(r, sc)); break;
    case 's': append(out, sc.file); break;
    case 'g': append(out, sc.path); break;
    case '#': append_uint(out, site.line); break;
    case '!': append(out, sc.function); break;
    case 'C': append_context(out, r.context); break;
    default: break;
  }
}

const site_info* line_formatter::site_of(const record& r, std::uint32_t& nomem_bytes) const noexcept {
  if (r.meta != &nomem_meta) return r.meta->site;
  const site_info* site;
  std::memcpy(&nomem_bytes, r.payload.bytes, 4);
  std::memcpy(&site, r.payload.bytes + 4, sizeof site);
  return site;
}

std::string_view line_formatter::logger_name(const record& r, const site_cache& sc) const noexcept {
  if (r.meta != &nomem_meta && (r.meta->flags & meta_logger) != 0) return view_payload(r).lg->name();
  return sc.logger.empty() ? std::string_view{name_} : sc.logger;
}

void line_formatter::append_message(const record& r, const site_info& site, std::uint32_t nomem_bytes,
                                    fmt::memory_buffer& out, result& res) {
  res.msg_begin = out.size();
  args_valid_ = false;
  last_suppressed_ = 0;
  if (replaying_) append(out, "[backtrace] ");
  if (r.meta == &nomem_meta) {
    fmt::format_to(fmt::appender(out), "[gidlog: out of memory: a message of {} bytes was lost; format \"{}\"]",
                   nomem_bytes, site.format);
  } else if (r.meta->flags == 0) [[likely]] {
    if (r.meta->preformatted) {
      append(out, {reinterpret_cast<const char*>(r.data()), r.size});
    } else {
      decode_args(*r.meta, r.data(), args_);
      args_valid_ = true;
      res.format_ok = format_message(site, args_, out);
    }
  } else {
    const payload_view pv = view_payload(r);
    if (r.meta->preformatted) {
      append(out, {reinterpret_cast<const char*>(pv.data), pv.size});
    } else {
      decode_args(*r.meta, pv.data, args_);
      args_valid_ = true;
      res.format_ok = (r.meta->flags & meta_runtime) != 0 ? format_runtime(pv.runtime_format, args_, out)
                                                          : format_message(site, args_, out);
    }
    if (pv.suppressed != 0) {
      last_suppressed_ = pv.suppressed;
      fmt::format_to(fmt::appender(out), " (suppressed {})", pv.suppressed);
    }
  }
  if (escape_newlines_) {
    // Rewrites in place from the message start; rare, so a second buffer is fine.
    std::string msg(out.data() + res.msg_begin, out.size() - res.msg_begin);
    out.resize(res.msg_begin);
    for (char c : msg) {
      if (c == '\n') append(out, "\\n");
      else if (c == '\r') append(out, "\\r");
      else out.push_back(c);
    }
  }
  res.msg_end = out.size();
}

line_formatter::result line_formatter::format_message_only(const record& r, fmt::memory_buffer& out) {
  std::uint32_t nomem_bytes = 0;
  const site_info* site = site_of(r, nomem_bytes);
  result res{site, 0, 0, true};
  append_message(r, *site, nomem_bytes, out, res);
  return res;
}

void line_formatter::render_site(site_line& sl, const site_info& site, const site_cache& sc, std::int64_t sec,
                                 bool named) const {
  sl.text.clear();
  sl.pieces.clear();
  std::uint32_t begin = 0;
  for (const token& t : tokens_) {
    switch (t.flag) {
      case 0: sl.text += t.text; break;
      case 'Y': case 'm': case 'd': case 'H': case 'M': case 'S': case 'z': sl.text += date_field(t.flag); break;
      case 'l': sl.text += level_name(site.level); break;
      case 'L': sl.text += level_name(site.level)[0]; break;
      case 's': sl.text += sc.file; break;
      case 'g': sl.text += sc.path; break;
      case '#': sl.text += fmt::format_int(site.line).c_str(); break;
      case '!': sl.text += sc.function; break;
      case 'n':
        if (!named) {
          sl.text += sc.logger.empty() ? std::string_view{name_} : sc.logger;
          break;
        }
        [[fallthrough]];
      default:  // changes per record: e f F t P C v, and n for a record that carries its logger
        sl.pieces.push_back({begin, static_cast<std::uint32_t>(sl.text.size()), t.flag});
        begin = static_cast<std::uint32_t>(sl.text.size());
        break;
    }
  }
  sl.text += '\n';
  sl.pieces.push_back({begin, static_cast<std::uint32_t>(sl.text.size()), 0});
  sl.owner = id_;
  sl.sec = sec;
  sl.named = named;
}

line_formatter::result line_formatter::format(const record& r, std::int64_t wall_ns, fmt::memory_buffer& out) {
  std::uint32_t nomem_bytes = 0;
  const site_info* site = site_of(r, nomem_bytes);
  const site_cache& sc = cache_of(*site);
  args_valid_ = false;  // a pattern without %v: no fields either
  if (wall_ns < 0) wall_ns = 0;
  std::int64_t sec = wall_ns / 1'000'000'000;
  if (sec != cached_sec_) refresh_date(sec);

  // Rendered once per site and second (and again when another formatter rendered it last).
  site_line& sl = const_cast<site_cache&>(sc).line;
  const bool named = r.meta != &nomem_meta && (r.meta->flags & meta_logger) != 0;
  if (sl.owner != id_ || sl.sec != sec || sl.named != named) [[unlikely]]
    render_site(sl, *site, sc, sec, named);
  result res{site, 0, 0, true};
  for (const site_line::piece& p : sl.pieces) {
    append(out, {sl.text.data() + p.begin, p.end - p.begin});
    if (p.flag == 'v') {
      append_message(r, *site, nomem_bytes, out, res);
    } else if (p.flag != 0) {
      append_dynamic(p.flag, r, *site, sc, wall_ns, out);
    }
  }
  return res;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
