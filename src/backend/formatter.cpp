#include "backend/formatter.h"

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <fmt/args.h>
#include <fmt/compile.h>

#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

// ---- decoding ----------------------------------------------------------------------------------

void decode_args(const record_meta& meta, const unsigned char* data, std::vector<arg_value>& out) {
  out.resize(meta.nargs);
  const unsigned char* p = data;
  for (unsigned i = 0; i < meta.nargs; ++i) {
    arg_value& v = out[i];
    v.kind = meta.kinds[i];
    switch (v.kind) {
      case arg_kind::boolean: std::memcpy(&v.b, p, 1); p += 1; break;
      case arg_kind::character: std::memcpy(&v.c, p, 1); p += 1; break;
      case arg_kind::i32: { std::int32_t x; std::memcpy(&x, p, 4); v.i = x; p += 4; break; }
      case arg_kind::u32: { std::uint32_t x; std::memcpy(&x, p, 4); v.u = x; p += 4; break; }
      case arg_kind::i64: std::memcpy(&v.i, p, 8); p += 8; break;
      case arg_kind::u64: std::memcpy(&v.u, p, 8); p += 8; break;
      case arg_kind::f32: std::memcpy(&v.f, p, 4); p += 4; break;
      case arg_kind::f64: std::memcpy(&v.d, p, 8); p += 8; break;
      case arg_kind::f80: std::memcpy(&v.ld, p, sizeof(long double)); p += sizeof(long double); break;
      case arg_kind::pointer: std::memcpy(&v.p, p, sizeof(void*)); p += sizeof(void*); break;
      case arg_kind::string:
      case arg_kind::custom: {
        std::uint32_t n;
        std::memcpy(&n, p, 4);
        v.s = {reinterpret_cast<const char*>(p + 4), n};
        if (v.kind == arg_kind::custom) v.fn = meta.custom[i];
        p += 4 + n;
        break;
      }
    }
  }
}

const site_cache& cache_of(const site_info& site) {
  auto* c = static_cast<site_cache*>(site.backend_cache);
  if (c == nullptr) [[unlikely]] {
    c = new site_cache{site.file, site.path, site.function,
                       site.logger != nullptr ? std::string_view{site.logger} : std::string_view{}, nullptr};
    const_cast<site_info&>(site).backend_cache = c;
  }
  return *c;
}

// ---- the parsed format string, cached per call site --------------------------------------------

namespace {

enum class spec_kind : std::uint8_t { none, fixed, other };

struct segment {
  std::string literal;  // text before the field, unescaped
  int arg = -1;         // -1: trailing literal only
  spec_kind spec = spec_kind::none;
  int precision = 0;
  std::string one;      // "{:spec}" for spec_kind::other
};

struct parsed_format {
  bool generic = false;  // something this parser does not handle: hand the whole string to fmt
  std::vector<segment> segs;
};

parsed_format* parse(std::string_view f, unsigned nargs) {
  auto* pf = new parsed_format;
  std::string lit;
  int next_auto = 0;
  std::size_t i = 0;
  while (i < f.size()) {
    char c = f[i];
    if (c == '{') {
      if (i + 1 < f.size() && f[i + 1] == '{') {
        lit += '{';
        i += 2;
        continue;
      }
      std::size_t j = f.find_first_of("{}", i + 1);
      if (j == std::string_view::npos || f[j] == '{') {  // nested replacement field: dynamic width etc.
        pf->generic = true;
        return pf;
      }
      std::string_view field = f.substr(i + 1, j - i - 1);
      std::string_view id = field, spec;
      if (auto colon = field.find(':'); colon != std::string_view::npos) {
        id = field.substr(0, colon);
        spec = field.substr(colon + 1);
      }
      segment s;
      s.literal = std::move(lit);
      lit.clear();
      if (id.empty()) {
        s.arg = next_auto++;
      } else if (id.find_first_not_of("0123456789") == std::string_view::npos && id.size() < 4) {
        s.arg = std::stoi(std::string(id));
      } else {
        pf->generic = true;  // named argument
        return pf;
      }
      if (static_cast<unsigned>(s.arg) >= nargs) {
        pf->generic = true;
        return pf;
      }
      if (spec.empty()) {
        s.spec = spec_kind::none;
      } else if (spec.size() >= 3 && spec.size() <= 4 && spec.front() == '.' && spec.back() == 'f' &&
                 spec.substr(1, spec.size() - 2).find_first_not_of("0123456789") == std::string_view::npos) {
        s.spec = spec_kind::fixed;
        s.precision = std::stoi(std::string(spec.substr(1, spec.size() - 2)));
        s.one = fmt::format("{{:{}}}", spec);
      } else {
        s.spec = spec_kind::other;
        s.one = fmt::format("{{:{}}}", spec);
      }
      pf->segs.push_back(std::move(s));
      i = j + 1;
    } else if (c == '}') {
      lit += '}';
      i += (i + 1 < f.size() && f[i + 1] == '}') ? 2 : 1;
    } else {
      std::size_t j = f.find_first_of("{}", i);
      if (j == std::string_view::npos) j = f.size();
      lit.append(f.data() + i, j - i);
      i = j;
    }
  }
  segment tail;
  tail.literal = std::move(lit);
  pf->segs.push_back(std::move(tail));
  return pf;
}

}  // namespace

// Appends without fmt's general loop: one capacity check, then a short copy inline.
[[gnu::always_inline]] inline void append(fmt::memory_buffer& out, std::string_view s) {
  const std::size_t old = out.size();
  if (out.capacity() - old < s.size()) [[unlikely]] out.reserve(old + s.size() + 256);
  out.try_resize(old + s.size());
  char* d = out.data() + old;
  std::memcpy(d, s.data(), s.size());
}

namespace {

template <class T>
void format_one(fmt::memory_buffer& out, const std::string& one, const T& v) {
  fmt::vformat_to(fmt::appender(out), one, fmt::make_format_args(v));
}

void format_custom(fmt::memory_buffer& out, std::string_view one, const arg_value& a) {
  fmt::detail::buffer<char>& base = out;
  a.fn(&base, one, reinterpret_cast<const unsigned char*>(a.s.data()));
}

void format_with_spec(fmt::memory_buffer& out, const segment& s, const arg_value& a) {
  switch (a.kind) {
    case arg_kind::custom: format_custom(out, s.one, a); break;
    case arg_kind::boolean: format_one(out, s.one, a.b); break;
    case arg_kind::character: format_one(out, s.one, a.c); break;
    case arg_kind::i32: case arg_kind::i64: format_one(out, s.one, a.i); break;
    case arg_kind::u32: case arg_kind::u64: format_one(out, s.one, a.u); break;
    case arg_kind::f32: format_one(out, s.one, a.f); break;
    case arg_kind::f64: format_one(out, s.one, a.d); break;
    case arg_kind::f80: format_one(out, s.one, a.ld); break;
    case arg_kind::pointer: format_one(out, s.one, a.p); break;
    case arg_kind::string: format_one(out, s.one, a.s); break;
  }
}

void format_plain(fmt::memory_buffer& out, const arg_value& a) {
  switch (a.kind) {
    case arg_kind::custom: format_custom(out, "{}", a); break;
    case arg_kind::boolean: append(out, a.b ? "true" : "false"); break;
    case arg_kind::character: out.push_back(a.c); break;
    case arg_kind::i32: case arg_kind::i64: { fmt::format_int n(a.i); append(out, {n.data(), n.size()}); break; }
    case arg_kind::u32: case arg_kind::u64: { fmt::format_int n(a.u); append(out, {n.data(), n.size()}); break; }
    case arg_kind::f32: fmt::format_to(fmt::appender(out), FMT_COMPILE("{}"), a.f); break;
    case arg_kind::f64: fmt::format_to(fmt::appender(out), FMT_COMPILE("{}"), a.d); break;
    case arg_kind::f80: fmt::format_to(fmt::appender(out), "{}", a.ld); break;
    case arg_kind::pointer: fmt::format_to(fmt::appender(out), "{}", a.p); break;
    case arg_kind::string: append(out, a.s); break;
  }
}

void format_generic(const site_info& site, const std::vector<arg_value>& args, fmt::memory_buffer& out) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const arg_value& a : args) {
    switch (a.kind) {
      case arg_kind::boolean: store.push_back(a.b); break;
      case arg_kind::character: store.push_back(a.c); break;
      case arg_kind::i32: case arg_kind::i64: store.push_back(a.i); break;
      case arg_kind::u32: case arg_kind::u64: store.push_back(a.u); break;
      case arg_kind::f32: store.push_back(a.f); break;
      case arg_kind::f64: store.push_back(a.d); break;
      case arg_kind::f80: store.push_back(a.ld); break;
      case arg_kind::pointer: store.push_back(a.p); break;
      case arg_kind::string: store.push_back(a.s); break;
      case arg_kind::custom: {
        // Dynamic fields (this path) apply their spec to the type's "{}" text, as to a string.
        fmt::memory_buffer text;
        format_custom(text, "{}", a);
        store.push_back(std::string(text.data(), text.size()));
        break;
      }
    }
  }
  fmt::vformat_to(fmt::appender(out), site.format, store);
}

}  // namespace

namespace {

// Exact "{:.Nf}" for N <= 9 and |d| < 1e9, in integer arithmetic: d = m * 2^e exactly, so
// d * 10^N = m * 10^N * 2^e, an 83-bit product shifted right by -e, rounded half to even on the
// bits shifted out (fmt's rounding). About 40 instructions, against several hundred for
// double-conversion's ToFixed and more for fmt's general path.
__extension__ typedef unsigned __int128 u128;

bool fixed_small(double d, int precision, fmt::memory_buffer& out) {
  static constexpr std::uint64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
  if (precision < 0 || precision > 9 || !std::isfinite(d)) return false;
  const double a = std::fabs(d);
  if (a >= 1e9) return false;
  std::uint64_t bits;
  std::memcpy(&bits, &a, sizeof bits);
  const int biased = static_cast<int>(bits >> 52);
  std::uint64_t m = bits & ((std::uint64_t{1} << 52) - 1);
  int e;
  if (biased == 0) {
    e = -1074;
  } else {
    m |= std::uint64_t{1} << 52;
    e = biased - 1075;
  }
  const u128 v = static_cast<u128>(m) * pow10[precision];
  std::uint64_t q;
  if (e >= 0) {
    q = static_cast<std::uint64_t>(v << e);  // not reached for a < 1e9, kept for clarity
  } else {
    const int shift = -e;
    if (shift >= 128) {
      q = 0;  // v < 2^83 is below half a unit
    } else {
      q = static_cast<std::uint64_t>(v >> shift);
      const u128 rem = v & ((static_cast<u128>(1) << shift) - 1);
      const u128 half = static_cast<u128>(1) << (shift - 1);
      if (rem > half || (rem == half && (q & 1) != 0)) ++q;
    }
  }
  char buf[32];
  char* p = buf;
  if (std::signbit(d)) *p++ = '-';
  const std::uint64_t ip = q / pow10[precision];
  fmt::format_int ints(ip);
  std::memcpy(p, ints.data(), ints.size());
  p += ints.size();
  if (precision > 0) {
    *p++ = '.';
    std::uint64_t frac = q % pow10[precision];
    for (int i = precision - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    p += precision;
  }
  append(out, {buf, static_cast<std::size_t>(p - buf)});
  return true;
}

}  // namespace

void format_fixed(double d, int precision, fmt::memory_buffer& out) {
  if (!fixed_small(d, precision, out)) fmt::format_to(fmt::appender(out), "{:.{}f}", d, precision);
}

bool format_message(const site_info& site, const std::vector<arg_value>& args, fmt::memory_buffer& out) noexcept {
  const std::size_t start = out.size();
  try {
    auto& sc = const_cast<site_cache&>(cache_of(site));
    auto* pf = static_cast<parsed_format*>(sc.parsed);
    if (pf == nullptr) {
      pf = parse(site.format, static_cast<unsigned>(args.size()));
      sc.parsed = pf;
    }
    if (pf->generic) {
      format_generic(site, args, out);
      return true;
    }
    for (const segment& s : pf->segs) {
      append(out, s.literal);
      if (s.arg < 0) break;
      const arg_value& a = args[static_cast<std::size_t>(s.arg)];
      if (s.spec == spec_kind::none) {
        format_plain(out, a);
      } else if (s.spec == spec_kind::fixed && (a.kind == arg_kind::f64 || a.kind == arg_kind::f32)) {
        format_fixed(a.kind == arg_kind::f64 ? a.d : static_cast<double>(a.f), s.precision, out);
      } else {
        format_with_spec(out, s, a);
      }
    }
    return true;
  } catch (const std::exception& e) {
    try {
      out.resize(start);
      fmt::format_to(fmt::appender(out), "[gidlog: format error: {}; format \"{}\"]", e.what(), site.format);
    } catch (...) {
    }
  } catch (...) {
  }
  return false;
}

// ---- the line ------------------------------------------------------------------------------------

line_formatter::line_formatter(const options& opt)
    : utc_(opt.utc), escape_newlines_(opt.escape_newlines), name_(opt.name) {
  static constexpr std::string_view known = "YmdHMSefFzlLtPnsg#!v";
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
inline void append_digits(fmt::memory_buffer& out, std::uint64_t v, int width) {
  char buf[20] = {};
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, buf + width);
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
  pieces_.clear();
  for (const token& t : tokens_) {
    std::string_view fixed = t.flag == 0 ? std::string_view{t.text} : date_field(t.flag);
    if (t.flag != 0 && fixed.empty()) {
      pieces_.push_back({t.flag, {}});
    } else if (!pieces_.empty() && pieces_.back().flag == 0) {
      pieces_.back().text += fixed;
    } else {
      pieces_.push_back({0, std::string(fixed)});
    }
  }
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
inline void append_uint(fmt::memory_buffer& out, std::uint64_t v) {
  fmt::format_int n(v);
  append(out, {n.data(), n.size()});
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
    case 'n': append(out, sc.logger.empty() ? std::string_view{name_} : sc.logger); break;
    case 's': append(out, sc.file); break;
    case 'g': append(out, sc.path); break;
    case '#': append_uint(out, site.line); break;
    case '!': append(out, sc.function); break;
    default: break;
  }
}

line_formatter::result line_formatter::format(const record& r, std::int64_t wall_ns, fmt::memory_buffer& out) {
  const site_info* site;
  std::uint32_t nomem_bytes = 0;
  if (r.meta == &nomem_meta) {
    std::memcpy(&nomem_bytes, r.payload.bytes, 4);
    std::memcpy(&site, r.payload.bytes + 4, sizeof site);
  } else {
    site = r.meta->site;
  }
  const site_cache& sc = cache_of(*site);
  if (wall_ns < 0) wall_ns = 0;
  std::int64_t sec = wall_ns / 1'000'000'000;
  if (sec != cached_sec_) refresh_date(sec);

  result res{site, 0, 0, true};
  for (const token& t : pieces_) {
    if (t.flag == 0) {
      append(out, t.text);
    } else if (t.flag == 'v') {
      res.msg_begin = out.size();
      if (r.meta == &nomem_meta) {
        fmt::format_to(fmt::appender(out), "[gidlog: out of memory: a message of {} bytes was lost; format \"{}\"]",
                       nomem_bytes, site->format);
      } else if (r.meta->preformatted) {
        const unsigned char* d = r.data();
        append(out, {reinterpret_cast<const char*>(d), r.size});
      } else {
        decode_args(*r.meta, r.data(), args_);
        res.format_ok = format_message(*site, args_, out);
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
    } else {
      append_dynamic(t.flag, r, *site, sc, wall_ns, out);
    }
  }
  out.push_back('\n');
  return res;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
