#pragma once
// Shared by the fuzz targets: reading values from the fuzzer's bytes, encoding them into a record
// exactly as the caller's encoder does (encode_one / encoded_size), three deferred_format types,
// and formatting the same values with fmt itself as the reference the backend must match.
//
// Argument encoding in an input (make_corpus.py writes it): a kind byte (taken modulo the number
// of kinds: 0 bool, 1 char, 2 i32, 3 u32, 4 i64, 5 u64, 6 f32, 7 f64, 8 f80, 9 pointer, 10 string,
// 11 custom), then the value: the kind's wire size in little-endian bytes (f80: 10 bytes); a
// string is a 2-byte length (its low 12 bits) then its bytes (when the input has fewer, they
// repeat, so a short input can make a long string); a custom value is a type byte (0 point,
// 1 label, 2 thrower) then the type's bytes. Missing bytes read as zero.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/args.h>
#include <fmt/format.h>

#include <gidlog/detail/frontend.h>
#include <gidlog/detail/record.h>

#include "backend/formatter.h"

namespace gidlog_fuzz {

// A deferred type whose formatter writes "(x, y)" with the field's spec applied as to a string.
struct point {
  std::int32_t x, y;
};
// Up to 7 bytes of text, any bytes.
struct label {
  char text[7];
  std::uint8_t len;
};
// Writes part of its text, then throws a std::runtime_error (mode % 3 == 0) or an int (1); or
// writes "fine" (2).
struct thrower {
  std::uint8_t mode;
};

}  // namespace gidlog_fuzz

template <>
struct gidlog::deferred_format<gidlog_fuzz::point> : std::true_type {};
template <>
struct gidlog::deferred_format<gidlog_fuzz::label> : std::true_type {};
template <>
struct gidlog::deferred_format<gidlog_fuzz::thrower> : std::true_type {};

template <>
struct fmt::formatter<gidlog_fuzz::point> : fmt::formatter<std::string_view> {
  auto format(const gidlog_fuzz::point& p, format_context& ctx) const {
    std::string s = fmt::format("({}, {})", p.x, p.y);
    return fmt::formatter<std::string_view>::format(s, ctx);
  }
};

template <>
struct fmt::formatter<gidlog_fuzz::label> : fmt::formatter<std::string_view> {
  auto format(const gidlog_fuzz::label& l, format_context& ctx) const {
    std::size_t n = l.len < sizeof l.text ? l.len : sizeof l.text;
    return fmt::formatter<std::string_view>::format(std::string_view(l.text, n), ctx);
  }
};

template <>
struct fmt::formatter<gidlog_fuzz::thrower> : fmt::formatter<std::string_view> {
  auto format(const gidlog_fuzz::thrower& t, format_context& ctx) const -> format_context::iterator {
    if (t.mode % 3 == 2) return fmt::formatter<std::string_view>::format("fine", ctx);
    fmt::format_to(ctx.out(), "<partial ");
    if (t.mode % 3 == 0) throw std::runtime_error("thrower: mode " + std::to_string(t.mode));
    throw 42;
  }
};

namespace gidlog_fuzz {

using gidlog::detail::arg_kind;
using gidlog::detail::arg_value;

inline constexpr unsigned kind_count = 12;

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "\nFUZZ CHECK FAILED: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

// The fuzzer's bytes, read front to back; past the end every byte is zero.
class reader {
 public:
  reader(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  bool empty() const noexcept { return n_ == 0; }
  std::size_t left() const noexcept { return n_; }
  std::uint8_t byte() noexcept {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  void fill(void* dst, std::size_t size) noexcept {
    std::size_t k = size < n_ ? size : n_;
    if (k > 0) std::memcpy(dst, p_, k);
    if (size > k) std::memset(static_cast<unsigned char*>(dst) + k, 0, size - k);
    p_ += k;
    n_ -= k;
  }
  template <class T>
  T value() noexcept {
    T v;
    fill(&v, sizeof v);
    return v;
  }
  // Up to `max` bytes, as a view into the input.
  std::string_view take(std::size_t max) noexcept {
    std::size_t k = max < n_ ? max : n_;
    std::string_view s(reinterpret_cast<const char*>(p_), k);
    p_ += k;
    n_ -= k;
    return s;
  }
  // Everything up to the next NUL (consumed) or the end.
  std::string_view until_nul() noexcept {
    const void* z = n_ > 0 ? std::memchr(p_, 0, n_) : nullptr;
    std::size_t k = z ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(z) - p_) : n_;
    std::string_view s = take(k);
    if (z) byte();
    return s;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

// One argument as the caller had it.
struct value {
  arg_kind kind = arg_kind::boolean;
  bool b = false;
  char c = 0;
  std::int32_t i32 = 0;
  std::uint32_t u32 = 0;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  float f = 0;
  double d = 0;
  long double ld = 0;
  const void* p = nullptr;
  std::string str;  // string
  int custom = 0;   // 0 point, 1 label, 2 thrower
  point pt{};
  label lb{};
  thrower th{};
};

// Calls f with the value as its C++ type (the type LOG_* would have seen).
template <class F>
decltype(auto) visit(const value& v, F&& f) {
  switch (v.kind) {
    case arg_kind::boolean: return f(v.b);
    case arg_kind::character: return f(v.c);
    case arg_kind::i32: return f(v.i32);
    case arg_kind::u32: return f(v.u32);
    case arg_kind::i64: return f(v.i64);
    case arg_kind::u64: return f(v.u64);
    case arg_kind::f32: return f(v.f);
    case arg_kind::f64: return f(v.d);
    case arg_kind::f80: return f(v.ld);
    case arg_kind::pointer: return f(v.p);
    case arg_kind::string: return f(std::string_view(v.str));
    case arg_kind::custom:
      if (v.custom == 0) return f(v.pt);
      if (v.custom == 1) return f(v.lb);
      return f(v.th);
  }
  fail("bad kind");
}

inline gidlog::detail::custom_format_fn custom_fn(const value& v) {
  using gidlog::detail::format_deferred;
  if (v.kind != arg_kind::custom) return nullptr;
  if (v.custom == 0) return &format_deferred<point>;
  if (v.custom == 1) return &format_deferred<label>;
  return &format_deferred<thrower>;
}

inline value read_value(reader& in, arg_kind kind) {
  value v;
  v.kind = kind;
  switch (kind) {
    case arg_kind::boolean: v.b = (in.byte() & 1) != 0; break;  // a bool object holds 0 or 1
    case arg_kind::character: v.c = static_cast<char>(in.byte()); break;
    case arg_kind::i32: v.i32 = in.value<std::int32_t>(); break;
    case arg_kind::u32: v.u32 = in.value<std::uint32_t>(); break;
    case arg_kind::i64: v.i64 = in.value<std::int64_t>(); break;
    case arg_kind::u64: v.u64 = in.value<std::uint64_t>(); break;
    case arg_kind::f32: v.f = in.value<float>(); break;
    case arg_kind::f64: v.d = in.value<double>(); break;
    case arg_kind::f80: {
      // Ten bytes of x87 extended precision (padding zero) with the explicit integer bit set as
      // arithmetic sets it, so not the unnormals no arithmetic produces (the x87 turns them into
      // its default NaN in one copy and not in another, so even fmt disagrees with itself).
      // The exponent stays within 2^+-1100 (a little beyond double's range): fmt formats a
      // long double with a bignum whose cost grows with the exponent, and "{:.30f}" of 1e4000
      // would spend the fuzzer's time in fmt.
      unsigned char raw[sizeof(long double)] = {};
      in.fill(raw, 10);
      unsigned exponent = (raw[8] | (raw[9] << 8)) & 0x7fffu;
      if (exponent != 0 && exponent != 0x7fff && (exponent < 16383 - 1100 || exponent > 16383 + 1100))
        exponent = 16383 - 1100 + exponent % 2201;
      raw[8] = static_cast<unsigned char>(exponent & 0xff);
      raw[9] = static_cast<unsigned char>((raw[9] & 0x80) | (exponent >> 8));
      if (exponent == 0) std::memset(raw, 0, 8);  // +-0 (denormals are 2^-16445: slow too)
      else raw[7] = static_cast<unsigned char>(raw[7] | 0x80);
      std::memcpy(&v.ld, raw, sizeof raw);
      break;
    }
    case arg_kind::pointer: v.p = reinterpret_cast<const void*>(in.value<std::uintptr_t>()); break;
    case arg_kind::string: {
      std::size_t n = in.value<std::uint16_t>() & 0xfffu;  // up to 4 KiB: past every buffer
      std::string_view got = in.take(n);
      v.str.resize(n);
      for (std::size_t i = 0; i < n; ++i) v.str[i] = got.empty() ? '\0' : got[i % got.size()];
      break;
    }
    case arg_kind::custom:
      v.custom = in.byte() % 3;
      if (v.custom == 0) in.fill(&v.pt, sizeof v.pt);
      else if (v.custom == 1) in.fill(&v.lb, sizeof v.lb);
      else in.fill(&v.th, sizeof v.th);
      break;
  }
  return v;
}

inline arg_kind read_kind(reader& in) { return static_cast<arg_kind>(in.byte() % kind_count); }

// A record of `values` for a site, encoded as encode_args would encode them, plus an exact-size
// heap copy of the payload, so reading past its end is an ASan report even when the record's
// payload is inline.
struct encoded_record {
  gidlog::detail::site_info site{};
  std::unique_ptr<char[]> format;  // site.format, exactly sized
  std::vector<arg_kind> kinds;
  std::vector<gidlog::detail::custom_format_fn> customs;
  gidlog::detail::record_meta meta{};
  gidlog::detail::record rec{};
  std::unique_ptr<unsigned char[]> exact;

  encoded_record(std::string_view fmt_str, const std::vector<value>& values, gidlog::level lvl = gidlog::level::info)
      : format(new char[fmt_str.size() + 1]) {
    if (!fmt_str.empty()) std::memcpy(format.get(), fmt_str.data(), fmt_str.size());
    site = {lvl, 42, "src/fuzz/site.cpp", "site.cpp", "fuzz_fn", nullptr, std::string_view(format.get(), fmt_str.size())};
    bool any_custom = false;
    std::size_t n = 0;
    for (const value& v : values) {
      kinds.push_back(v.kind);
      customs.push_back(custom_fn(v));
      any_custom |= v.kind == arg_kind::custom;
      n += visit(v, [](const auto& x) { return gidlog::detail::encoded_size(x); });
    }
    kinds.push_back(arg_kind::boolean);  // like kinds_of: never an empty array
    customs.push_back(nullptr);
    meta = {&site, kinds.data(), static_cast<std::uint8_t>(values.size()), false, any_custom ? customs.data() : nullptr};
    rec.meta = &meta;
    rec.gid = 4242;
    unsigned char* out = gidlog::detail::reserve_payload(rec, n);
    check(out != nullptr, "reserve_payload failed");
    unsigned char* end = out;
    for (const value& v : values) end = visit(v, [end](const auto& x) { return gidlog::detail::encode_one(end, x); });
    check(static_cast<std::size_t>(end - out) == n, "encoded_size disagrees with encode_one");
    exact.reset(new unsigned char[n == 0 ? 1 : n]);
    if (n > 0) std::memcpy(exact.get(), out, n);
  }
  ~encoded_record() {
    if (rec.size > gidlog::detail::record::inline_capacity) std::free(rec.payload.spill);
    gidlog::detail::free_site_cache(site);
  }
  encoded_record(const encoded_record&) = delete;
  encoded_record& operator=(const encoded_record&) = delete;
};

// The reference: fmt itself, with the values as LOG_* saw them.
inline void push_reference(fmt::dynamic_format_arg_store<fmt::format_context>& store, const value& v) {
  visit(v, [&](const auto& x) { store.push_back(x); });
}

// Checks that decode_args gave back what was encoded.
inline void check_decoded(const std::vector<value>& values, const std::vector<arg_value>& decoded) {
  check(decoded.size() == values.size(), "decode_args: wrong argument count");
  for (std::size_t i = 0; i < values.size(); ++i) {
    const value& v = values[i];
    const arg_value& a = decoded[i];
    std::string where = "decode_args: argument " + std::to_string(i);
    check(a.kind == v.kind, where + ": kind");
    switch (v.kind) {
      case arg_kind::boolean: check(a.b == v.b, where); break;
      case arg_kind::character: check(a.c == v.c, where); break;
      case arg_kind::i32: check(a.i == v.i32, where); break;
      case arg_kind::u32: check(a.u == v.u32, where); break;
      case arg_kind::i64: check(a.i == v.i64, where); break;
      case arg_kind::u64: check(a.u == v.u64, where); break;
      case arg_kind::f32: check(std::memcmp(&a.f, &v.f, sizeof v.f) == 0, where); break;
      case arg_kind::f64: check(std::memcmp(&a.d, &v.d, sizeof v.d) == 0, where); break;
      case arg_kind::f80: check(std::memcmp(&a.ld, &v.ld, 10) == 0, where); break;
      case arg_kind::pointer: check(a.p == v.p, where); break;
      case arg_kind::string: check(a.s == v.str, where); break;
      case arg_kind::custom: {
        check(a.fn == custom_fn(v), where + ": formatter");
        std::string_view bytes = visit(v, [](const auto& x) {
          return std::string_view(reinterpret_cast<const char*>(&x), sizeof x);
        });
        check(a.s == bytes, where + ": bytes");
        break;
      }
    }
  }
}

// What format_message must write for a format string and values: fmt's text, or the note for
// fmt's error (a format error) or a formatter's exception (formatting threw).
struct expectation {
  bool ok = false;
  std::string text;
};

// What fmt is given for a format string with named placeholders ("{user:>8}"): the names taken
// out ("{:>8}"), written here independently of gidlog's scanner. When the names are not usable
// (the same name twice, or names beside "{0}" indices) the string is left as it is, and fmt's
// error on it is the expectation.
inline std::string without_names(std::string_view f, bool* has_names = nullptr) {
  std::string out;
  std::vector<std::string_view> names;
  bool indices = false;
  if (has_names != nullptr) *has_names = false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    out += f[i];
    if (f[i] != '{') continue;
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out += f[++i];
      continue;
    }
    std::size_t j = i + 1;
    while (j < f.size() && (std::isalnum(static_cast<unsigned char>(f[j])) || f[j] == '_')) ++j;
    const std::string_view id = f.substr(i + 1, j - i - 1);
    const bool ends = j < f.size() && (f[j] == ':' || f[j] == '}');
    if (!id.empty() && ends && !std::isdigit(static_cast<unsigned char>(id[0]))) {
      if (has_names != nullptr) *has_names = true;
      for (std::string_view n : names)
        if (n == id) return std::string(f);
      names.push_back(id);
      i = j - 1;  // drop the name
    } else if (!id.empty() && ends && id.find_first_not_of("0123456789") == std::string_view::npos) {
      indices = true;
    }
  }
  return !names.empty() && indices ? std::string(f) : out;
}

inline expectation expect(std::string_view format, const std::vector<value>& values) {
  const std::string stripped = without_names(format);
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const value& v : values) push_reference(store, v);
  expectation e;
  auto note = [&](std::string_view why, std::string_view what) {
    return fmt::format("[gidlog: {}: {}; format \"{}\"]", why, what, format);
  };
  try {
    e.text = fmt::vformat(fmt::string_view(stripped.data(), stripped.size()), store);
    e.ok = true;
  } catch (const fmt::format_error& ex) {
    e.text = note("format error", ex.what());
  } catch (const std::exception& ex) {
    e.text = note("formatting threw", ex.what());
  } catch (...) {
    e.text = note("formatting threw", "unknown exception");
  }
  return e;
}

inline std::string show(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

}  // namespace gidlog_fuzz
