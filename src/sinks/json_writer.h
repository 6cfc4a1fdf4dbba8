#pragma once
// Backend thread: writing JSON text (json_sink.cpp): a cursor over memory reserved beforehand
// that writes literals, numbers, and strings escaped as gidlog/sinks/json.h says (json_sink).
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <gidlog/detail/record.h>
#include <gidlog/sinks/sink.h>

#include "core/decimal.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

// How json_cursor::escaped treats a byte: copied as it is, escaped (quote, backslash, control
// characters), the lead byte of a UTF-8 sequence of 2, 3 or 4 bytes (copied once the sequence is
// checked), or a byte no valid UTF-8 starts with (a continuation byte, C0, C1, F5-FF).
enum byte_kind : std::uint8_t { plain, escape, lead2, lead3, lead4, invalid };

inline constexpr std::array<std::uint8_t, 256> byte_kinds = [] {
  std::array<std::uint8_t, 256> k{};
  for (int c = 0; c < 256; ++c) {
    if (c < 0x20 || c == '"' || c == '\\') k[c] = escape;
    else if (c < 0x80) k[c] = plain;
    else if (c >= 0xC2 && c <= 0xDF) k[c] = lead2;
    else if (c >= 0xE0 && c <= 0xEF) k[c] = lead3;
    else if (c >= 0xF0 && c <= 0xF4) k[c] = lead4;
    else k[c] = invalid;
  }
  return k;
}();

// The length of the valid UTF-8 sequence at p (lead byte of kind `kind`), or 0 when it is not
// one: truncated, a wrong continuation byte, overlong, a surrogate (ED A0-BF), above U+10FFFF.
inline std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end, std::uint8_t kind) noexcept {
  const std::size_t n = kind == lead2 ? 2 : kind == lead3 ? 3 : 4;
  if (static_cast<std::size_t>(end - p) < n) return 0;
  // The second byte's range depends on the lead byte; later ones are always 80-BF.
  unsigned char lo = 0x80, hi = 0xBF;
  switch (p[0]) {
    case 0xE0: lo = 0xA0; break;
    case 0xED: hi = 0x9F; break;
    case 0xF0: lo = 0x90; break;
    case 0xF4: hi = 0x8F; break;
    default: break;
  }
  if (p[1] < lo || p[1] > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return n;
}

inline std::uint64_t load_u64(const void* p) noexcept {
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
inline std::uint32_t load_u32(const void* p) noexcept {
  std::uint32_t x;
  std::memcpy(&x, p, 4);
  return x;
}

// Plain bytes (0x20-0x7F, not '"' or '\\') are copied as they are, and text is mostly plain: the
// escaper tests a chunk of them at once (16 bytes with SSE2, else 8 in a 64-bit word), which takes
// it from ~5 instructions a byte to well under one. plain_prefix(p) is how many of the chunk's
// bytes at p come before the first that is not plain: plain_chunk when all are.
#if defined(__SSE2__)
inline constexpr std::size_t plain_chunk = 16;
inline unsigned plain_prefix(const unsigned char* p) noexcept {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // Signed compare: bytes 0x80-0xFF are negative, so "below 0x20" takes them too.
  const __m128i special = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                       _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
  return mask == 0 ? 16 : static_cast<unsigned>(std::countr_zero(mask));
}
#else
inline constexpr std::size_t plain_chunk = 8;
// (v - 0x01..) & ~v & 0x80.. marks the zero bytes of v; with 0x20.. instead of 0x01.., the bytes
// below 0x20 (of a v whose high bits are clear: the others are marked by v & 0x80.. anyway). A
// borrow can mark a byte above a marked one, never below, so the lowest mark is exact.
inline unsigned plain_prefix(const unsigned char* p) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const std::uint64_t x = load_u64(p), quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
  const std::uint64_t marks =
      (x | ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) & highs;
  if (marks == 0) return 8;
  if constexpr (std::endian::native == std::endian::little) return static_cast<unsigned>(std::countr_zero(marks)) / 8;
  unsigned n = 0;
  while (byte_kinds[p[n]] == plain) ++n;
  return n;
}
#endif

// Writes into memory reserved beforehand (json_line::format bounds a line's size first): no
// capacity check and no call per piece, which is where a line built with buffer appends spent its
// time (perf: 40% of the backend in append and memmove for ~25 pieces per line).
class json_cursor {
 public:
  explicit json_cursor(char* p) noexcept : p_(p) {}
  char* end() const noexcept { return p_; }
  template <std::size_t N>
  void lit(const char (&s)[N]) noexcept {  // a literal: its size is known, memcpy is inlined
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  // Most pieces are short (a level name, a number, a key): copy_string copies them inline
  // instead of a call to memcpy each (perf: a tenth of the line in memmove).
  void raw(std::string_view s) noexcept {
    copy_string(reinterpret_cast<unsigned char*>(p_), s);
    p_ += s.size();
  }
  void ch(char c) noexcept { *p_++ = c; }
  // The next n bytes, for the caller to fill.
  char* take(std::size_t n) noexcept {
    char* at = p_;
    p_ += n;
    return at;
  }
  // Numbers are written straight into the line (see core/decimal.h).
  template <typename Int>
  void integer(Int v) noexcept {
    std::uint64_t u = static_cast<std::uint64_t>(v);
    if constexpr (std::is_signed_v<Int>) {
      if (v < 0) {
        ch('-');
        u = 0 - u;
      }
    }
    digits(u, decimal_digits(u));
  }

  // v in exactly n digits, zeros in front (n >= the digits v has).
  void digits(std::uint64_t v, int n) noexcept { p_ = write_digits(p_, v, n); }

  // `s` as the inside of a JSON string: see json_sink in gidlog/sinks/json.h. At most
  // escaped_bound(s.size()) bytes.
  void escaped(std::string_view s) noexcept {
    static constexpr char hex[] = "0123456789abcdef";
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
      // A local copy of p_: a store through a char* may alias the member, which would otherwise
      // be reloaded and stored back for every byte.
      char* out = p_;
      const auto* const run = p;
      for (;;) {
        if (static_cast<std::size_t>(end - p) >= plain_chunk) {
          // The whole chunk is copied (the bytes after a non-plain one are written over next),
          // the plain ones are kept.
          const unsigned n = plain_prefix(p);
          std::memcpy(out, p, plain_chunk);
          p += n;
          out += n;
          if (n < plain_chunk) break;
        } else if (static_cast<std::size_t>(end - run) >= plain_chunk) {
          // The rest of a run, shorter than a chunk: the chunk that ends the string, overlapping
          // bytes of this run already copied (they are plain: written again, the same, in place).
          const auto* const last = end - plain_chunk;
          const auto* const stop = last + plain_prefix(last);  // >= p
          std::memcpy(out - (p - last), last, plain_chunk);
          out += stop - p;
          p = stop;
          break;
        } else {
          while (p < end && byte_kinds[*p] == plain) *out++ = static_cast<char>(*p++);
          break;
        }
      }
      p_ = out;
      if (p == end) break;
      const std::uint8_t kind = byte_kinds[*p];
      if (kind == escape) {
        const unsigned char c = *p++;
        switch (c) {
          case '"': lit("\\\""); break;
          case '\\': lit("\\\\"); break;
          case '\n': lit("\\n"); break;
          case '\t': lit("\\t"); break;
          case '\r': lit("\\r"); break;
          case '\b': lit("\\b"); break;
          case '\f': lit("\\f"); break;
          default: {
            lit("\\u00");
            ch(hex[c >> 4]);
            ch(hex[c & 15]);
          }
        }
      } else if (const std::size_t n = kind == invalid ? 0 : utf8_sequence(p, end, kind); n != 0) {
        raw({reinterpret_cast<const char*>(p), n});
        p += n;
      } else {
        lit("\\ufffd");
        ++p;
      }
    }
  }
  void quoted(std::string_view s) noexcept {
    ch('"');
    escaped(s);
    ch('"');
  }

  // The shortest text that reads back as the same double (dragonbox's digits, as fmt's "{}"
  // finds them), always with a '.' or an exponent so that a parser reads a floating-point
  // argument as one: "3.0", "-0.0", "0.000123", "1.5e+21", never "3". Fixed notation from 1e-6 to
  // below 1e21, as JavaScript writes numbers, the exponent outside. NaN and the infinities as
  // strings. At most 26 bytes. Placing the digits here rather than through fmt's float writer
  // halves the cost of a double (callgrind: ~390 -> ~200 instructions).
  void floating(double d) noexcept {
    static constexpr std::uint64_t pow10[] = {1,
                                              10,
                                              100,
                                              1000,
                                              10000,
                                              100000,
                                              1000000,
                                              10000000,
                                              100000000,
                                              1000000000,
                                              10000000000,
                                              100000000000,
                                              1000000000000,
                                              10000000000000,
                                              100000000000000,
                                              1000000000000000,
                                              10000000000000000,
                                              100000000000000000};
    if (std::isnan(d)) return lit("\"NaN\"");
    if (std::isinf(d)) return d > 0 ? lit("\"Infinity\"") : lit("\"-Infinity\"");
    if (std::signbit(d)) {
      ch('-');
      d = -d;
    }
    if (d == 0) return lit("0.0");
    const auto dec = fmt::detail::dragonbox::to_decimal(d);
    const std::uint64_t m = dec.significand;  // at most 17 digits
    const int n = decimal_digits(m);
    const int point = n + dec.exponent;  // where the decimal point goes, counted from the first digit
    if (point > 21 || point < -5) {      // d.ddde+X
      digits(m / pow10[n - 1], 1);
      if (n > 1) {
        ch('.');
        digits(m % pow10[n - 1], n - 1);
      }
      ch('e');
      ch(point - 1 < 0 ? '-' : '+');
      integer(point - 1 < 0 ? 1 - point : point - 1);
    } else if (point <= 0) {  // 0.000ddd
      lit("0.");
      digits(m, n - point);
    } else if (point >= n) {  // ddd000.0
      digits(m, n);
      for (int i = n; i < point; ++i) ch('0');
      lit(".0");
    } else {  // dd.ddd
      digits(m / pow10[n - point], point);
      ch('.');
      digits(m % pow10[n - point], n - point);
    }
  }

  void value(const field_value& v) noexcept {
    switch (v.type) {
      case field_value::kind::boolean: return v.b ? lit("true") : lit("false");
      case field_value::kind::signed_integer: return integer(v.i);
      case field_value::kind::unsigned_integer: return integer(v.u);
      case field_value::kind::floating: return floating(v.d);
      case field_value::kind::string: return quoted(v.s);
      case field_value::kind::json: return raw(v.s);
    }
  }

 private:
  char* p_;
};

// Each input byte becomes at most 6 ("\u00XX", "\ufffd").
constexpr std::size_t escaped_bound(std::size_t n) noexcept { return 6 * n; }
// A number (24 bytes at most: "-1.2345678901234567e-308"), a literal or a quoted string.
inline std::size_t value_bound(const field_value& v) noexcept {
  if (v.type == field_value::kind::json) return v.s.size();
  return v.type == field_value::kind::string ? escaped_bound(v.s.size()) + 2 : 32;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
