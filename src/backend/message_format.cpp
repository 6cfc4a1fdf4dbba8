#include "backend/message_format.h"

#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include <fmt/args.h>
#include <fmt/compile.h>

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
                       site.logger != nullptr ? std::string_view{site.logger} : std::string_view{}, nullptr, {}};
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
  std::string text;                 // the format string without its placeholder names, for fmt
  std::vector<std::string> names;   // one per argument: its placeholder's name, or "arg<i>"
  std::vector<field> fields;        // one per argument, named (views into `names`), values unset
};

// The length of the UTF-8 sequence `lead` starts, as fmt counts it (1 for a stray byte).
constexpr std::size_t utf8_length(char lead) {
  const auto b = static_cast<unsigned char>(lead);
  return b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf8 ? 4 : 1;
}

// Parses `f` for `nargs` arguments. Anything this parser does not handle, or that fmt would
// reject, makes the whole string generic: fmt then formats it, or reports the error.
parsed_format* parse(std::string_view f, unsigned nargs) {
  auto pf = std::make_unique<parsed_format>();
  auto generic = [&pf] {
    pf->generic = true;
    pf->segs.clear();
    return pf.release();
  };
  std::string lit;
  int next_auto = 0;
  bool manual = false;  // fmt rejects a string mixing "{}" and "{N}"
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
      if (j == std::string_view::npos || f[j] == '{') return generic();  // nested field: dynamic width etc.
      std::string_view field = f.substr(i + 1, j - i - 1);
      std::string_view id = field, spec;
      if (auto colon = field.find(':'); colon != std::string_view::npos) {
        id = field.substr(0, colon);
        spec = field.substr(colon + 1);
        // fmt reads the code point after ':' as a fill when an alignment follows, even a '}'
        // ("{:}>8}" pads with '}'): when that code point reaches the '}' found, leave it to fmt.
        if (spec.size() < utf8_length(spec.empty() ? '}' : spec[0])) return generic();
      }
      segment s;
      s.literal = std::move(lit);
      lit.clear();
      if (id.empty()) {
        if (manual) return generic();
        s.arg = next_auto++;
      } else if (id.find_first_not_of("0123456789") == std::string_view::npos && id.size() < 4 &&
                 (id.size() == 1 || id[0] != '0')) {  // fmt reads "00" as no number
        if (next_auto > 0) return generic();
        manual = true;
        s.arg = std::stoi(std::string(id));
      } else {
        return generic();  // a named argument, or not an argument id at all
      }
      if (static_cast<unsigned>(s.arg) >= nargs) return generic();
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
      if (i + 1 >= f.size() || f[i + 1] != '}') return generic();  // unmatched '}'
      lit += '}';
      i += 2;
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
  return pf.release();
}

template <class T>
void format_one(fmt::memory_buffer& out, const std::string& one, const T& v) {
  fmt::vformat_to(fmt::appender(out), one, fmt::make_format_args(v));
}

// What a deferred_format type's formatter threw (other than fmt::format_error), carried out to
// format_message, which writes the note the caller side writes for a throwing formatter.
struct formatter_threw {
  std::string what;
};

void format_custom(fmt::memory_buffer& out, std::string_view one, const arg_value& a) {
  fmt::detail::buffer<char>& base = out;
  try {
    a.fn(&base, one, reinterpret_cast<const unsigned char*>(a.s.data()), a.s.size());
  } catch (const fmt::format_error&) {
    throw;  // the spec does not suit the type: a format error, as for a built-in type
  } catch (const std::exception& e) {
    throw formatter_threw{e.what()};
  } catch (...) {
    throw formatter_threw{"unknown exception"};
  }
}

// A deferred_format argument on the generic path, formatted when fmt reaches its field (so one
// no field names is never formatted). The field's spec applies to the type's "{}" text as to a
// string: a dynamic width or precision cannot reach the type's own formatter, which sees only
// the value's bytes and a one-field format string.
struct custom_text {
  const arg_value* a;
};

}  // namespace
}  // namespace detail
}  // namespace v0
}  // namespace gidlog

template <>
struct fmt::formatter<gidlog::detail::custom_text> : fmt::formatter<std::string_view> {
  auto format(const gidlog::detail::custom_text& c, format_context& ctx) const {
    fmt::memory_buffer text;
    gidlog::detail::format_custom(text, "{}", *c.a);
    return fmt::formatter<std::string_view>::format(std::string_view(text.data(), text.size()), ctx);
  }
};

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace {

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

[[gnu::always_inline]] inline void format_plain(fmt::memory_buffer& out, const arg_value& a) {
  switch (a.kind) {
    case arg_kind::custom: format_custom(out, "{}", a); break;
    case arg_kind::boolean: append(out, a.b ? "true" : "false"); break;
    case arg_kind::character: out.push_back(a.c); break;
    case arg_kind::i32: case arg_kind::i64: append_int(out, a.i); break;
    case arg_kind::u32: case arg_kind::u64: append_uint(out, a.u); break;
    case arg_kind::f32: fmt::format_to(fmt::appender(out), FMT_COMPILE("{}"), a.f); break;
    case arg_kind::f64: fmt::format_to(fmt::appender(out), FMT_COMPILE("{}"), a.d); break;
    case arg_kind::f80: fmt::format_to(fmt::appender(out), "{}", a.ld); break;
    case arg_kind::pointer: fmt::format_to(fmt::appender(out), "{}", a.p); break;
    case arg_kind::string: append(out, a.s); break;
  }
}

void format_generic(const parsed_format& pf, const std::vector<arg_value>& args, fmt::memory_buffer& out) {
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
      case arg_kind::custom: store.push_back(custom_text{&a}); break;
    }
  }
  fmt::vformat_to(fmt::appender(out), pf.text, store);
}

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
  // Written in place (see core/decimal.h): at most a sign, 9 integer digits, the point and 9.
  char* const start = room(out, 32);
  char* p = start;
  if (std::signbit(d)) *p++ = '-';
  const std::uint64_t ip = q / pow10[precision];
  p = write_digits(p, ip, decimal_digits(ip));
  if (precision > 0) {
    *p++ = '.';
    p = write_digits(p, q % pow10[precision], precision);
  }
  out.try_resize(out.size() + static_cast<std::size_t>(p - start));
  return true;
}

}  // namespace

void format_fixed(double d, int precision, fmt::memory_buffer& out) {
  if (!fixed_small(d, precision, out)) fmt::format_to(fmt::appender(out), "{:.{}f}", d, precision);
}

namespace {

// Replaces what format_message appended since `start` with a note saying why it failed.
void failure_note(fmt::memory_buffer& out, std::size_t start, std::string_view why, std::string_view what,
                  std::string_view format) noexcept {
  out.resize(start);
  try {
    fmt::format_to(fmt::appender(out), "[gidlog: {}: {}; format \"{}\"]", why, what, format);
  } catch (...) {
    out.resize(start);
  }
}

}  // namespace

void free_site_cache(site_info& site) noexcept {
  auto* c = static_cast<site_cache*>(site.backend_cache);
  if (c == nullptr) return;
  delete static_cast<parsed_format*>(c->parsed);
  delete c;
  site.backend_cache = nullptr;
}

namespace {

// The site's format string parsed for `nargs` arguments, made on first use: names taken out
// (the same scan as the compile-time check) and the rest parsed for the fast path.
const parsed_format& parsed_of(const site_info& site, unsigned nargs) {
  auto& sc = const_cast<site_cache&>(cache_of(site));
  auto* pf = static_cast<parsed_format*>(sc.parsed);
  if (pf != nullptr) [[likely]]
    return *pf;
  std::string text(site.format.size(), '\0');
  std::vector<std::string_view> names(nargs);
  const format_scan r = scan_format(site.format, text.data(), names.data(), names.size());
  text.resize(r.size);
  // A bad name leaves the rest of the text usable (fmt reports the bad field); a repeated name or
  // names beside indices do not: fmt gets the string as written, and reports it.
  const bool usable = r.problem == format_problem::none || r.problem == format_problem::bad_name;
  pf = usable ? parse(text, nargs) : new parsed_format{true, {}, {}, {}, {}};
  pf->text = usable ? std::move(text) : std::string(site.format);
  pf->names.reserve(nargs);
  for (unsigned i = 0; i < nargs; ++i)
    pf->names.push_back(names[i].empty() ? fmt::format("arg{}", i) : std::string(names[i]));
  for (const std::string& n : pf->names) pf->fields.push_back(field{n, {}});
  sc.parsed = pf;
  return *pf;
}

}  // namespace

const std::vector<field>& named_fields(const site_info& site, unsigned nargs) {
  return parsed_of(site, nargs).fields;
}

void append_plain(fmt::memory_buffer& out, const arg_value& a) { format_plain(out, a); }

bool format_message(const site_info& site, const std::vector<arg_value>& args, fmt::memory_buffer& out) noexcept {
  const std::size_t start = out.size();
  try {
    const parsed_format* pf = &parsed_of(site, static_cast<unsigned>(args.size()));
    if (pf->generic) {
      format_generic(*pf, args, out);
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
  } catch (const formatter_threw& e) {
    failure_note(out, start, "formatting threw", e.what, site.format);
  } catch (const std::exception& e) {
    failure_note(out, start, "format error", e.what(), site.format);
  } catch (...) {
    failure_note(out, start, "format error", "unknown exception", site.format);
  }
  return false;
}

bool format_runtime(std::string_view format, const std::vector<arg_value>& args, fmt::memory_buffer& out) noexcept {
  const std::size_t start = out.size();
  try {
    // Names are taken out as for a literal; a problem with them is reported as fmt would.
    std::string text(format.size(), '\0');
    const format_scan r = scan_format(format, text.data(), nullptr, 0);
    switch (r.problem) {
      case format_problem::none: case format_problem::bad_name: break;
      case format_problem::duplicate_name: throw fmt::format_error("the same placeholder name twice");
      case format_problem::names_and_indices: throw fmt::format_error("named placeholders mixed with indices");
    }
    text.resize(r.size);
    if (r.arguments != args.size())
      throw fmt::format_error(fmt::format("{} placeholders for {} arguments", r.arguments, args.size()));
    parsed_format pf;
    pf.generic = true;
    pf.text = std::move(text);
    format_generic(pf, args, out);
    return true;
  } catch (const formatter_threw& e) {
    failure_note(out, start, "formatting threw", e.what, format);
  } catch (const std::exception& e) {
    failure_note(out, start, "format error", e.what(), format);
  } catch (...) {
    failure_note(out, start, "format error", "unknown exception", format);
  }
  return false;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
