// Pattern-driven line parsing. The pattern is split into literals and flags once; a line is then
// walked token by token: fixed-width numbers are read in place, variable text (level, file,
// function, message) ends where the next literal starts. A message followed by %C keeps every
// trailing " key=value" pair as context, which is what %C wrote unless the message itself ends in
// such pairs (then they are taken as context too: documented in the README).
#include "text_parser.h"

#include <cstring>

namespace gidlog_trace {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (the well-known era arithmetic).
std::int64_t days_from_civil(int y, int m, int d) noexcept {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// n digits at s[pos]; false when any is not a digit or the line is too short.
inline bool read_fixed(std::string_view s, std::size_t& pos, int n, std::int64_t& v) noexcept {
  if (s.size() - pos < static_cast<std::size_t>(n)) return false;
  v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[pos + static_cast<std::size_t>(i)];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  return true;
}

inline bool read_uint(std::string_view s, std::size_t& pos, std::uint64_t& v) noexcept {
  const std::size_t start = pos;
  v = 0;
  while (pos < s.size() && is_digit(s[pos]) && pos - start < 19) v = v * 10 + static_cast<std::uint64_t>(s[pos++] - '0');
  return pos > start;
}

inline bool key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '.' || c == '-';
}

}  // namespace

std::int64_t time_key(int year, int month, int day, int hour, int minute, int second, std::int64_t frac_ns) noexcept {
  const std::int64_t days = days_from_civil(year, month, day);
  return ((days * 24 + hour) * 60 + minute) * 60'000'000'000LL + second * 1'000'000'000LL + frac_ns;
}

bool parse_rfc3339(std::string_view s, std::int64_t& out) noexcept {
  std::size_t p = 0;
  std::int64_t y, mo, d, h, mi, sec;
  auto lit = [&](char c) { return p < s.size() && s[p++] == c; };
  if (!read_fixed(s, p, 4, y) || !lit('-') || !read_fixed(s, p, 2, mo) || !lit('-') || !read_fixed(s, p, 2, d))
    return false;
  if (p >= s.size() || (s[p] != 'T' && s[p] != ' ' && s[p] != 't')) return false;
  ++p;
  if (!read_fixed(s, p, 2, h) || !lit(':') || !read_fixed(s, p, 2, mi) || !lit(':') || !read_fixed(s, p, 2, sec))
    return false;
  std::int64_t frac = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int digits = 0;
    while (p < s.size() && is_digit(s[p])) {
      if (digits < 9) frac = frac * 10 + (s[p] - '0'), ++digits;
      ++p;
    }
    if (digits == 0) return false;
    for (; digits < 9; ++digits) frac *= 10;
  }
  std::int64_t offset_min = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const bool neg = s[p++] == '-';
    std::int64_t oh, om;
    if (!read_fixed(s, p, 2, oh)) return false;
    if (p < s.size() && s[p] == ':') ++p;
    if (!read_fixed(s, p, 2, om)) return false;
    offset_min = (neg ? -1 : 1) * (oh * 60 + om);
  }
  // Nanoseconds since 1970 in 64 bits reach from 1678 to 2262.
  if (p != s.size() || y < 1678 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  out = time_key(static_cast<int>(y), static_cast<int>(mo), static_cast<int>(d), static_cast<int>(h),
                 static_cast<int>(mi), static_cast<int>(sec), frac) -
        offset_min * 60'000'000'000LL;
  return true;
}

bool parse_logfmt_pairs(std::string_view s, std::vector<field_view>& out) {
  const std::size_t first = out.size();
  std::size_t p = 0;
  while (p < s.size()) {
    if (s[p] != ' ') break;
    ++p;
    const std::size_t k = p;
    while (p < s.size() && key_char(s[p])) ++p;
    if (p == k || p >= s.size() || s[p] != '=') break;
    const std::string_view key = s.substr(k, p - k);
    ++p;
    std::size_t v = p;
    std::string_view value;
    if (p < s.size() && s[p] == '"') {
      v = ++p;
      while (p < s.size() && s[p] != '"') p += s[p] == '\\' ? 2 : 1;
      if (p >= s.size()) break;
      value = s.substr(v, p - v);
      ++p;
    } else {
      while (p < s.size() && s[p] != ' ' && s[p] != '"' && s[p] != '=' && static_cast<unsigned char>(s[p]) >= 0x20)
        ++p;
      if (p < s.size() && s[p] != ' ') break;  // a byte %C would have quoted
      value = s.substr(v, p - v);
    }
    out.push_back({key, value});
  }
  if (p == s.size()) return true;
  out.resize(first);
  return false;
}

std::string logfmt_escaped(std::string_view v) {
  std::string out;
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

text_parser::text_parser(std::string_view p, int year) : year_(year) {
  static constexpr std::string_view known = "YmdHMSefFzlLtPnsg#!vC";
  std::string lit;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '%') {
      lit += p[i];
      continue;
    }
    if (i + 1 >= p.size()) throw std::invalid_argument("--pattern ends with a lone '%'");
    const char f = p[++i];
    if (f == '%') {
      lit += '%';
      continue;
    }
    if (known.find(f) == std::string_view::npos)
      throw std::invalid_argument(std::string("--pattern: unknown flag '%") + f + "'");
    if (!lit.empty()) tokens_.push_back({0, std::move(lit)});
    lit.clear();
    tokens_.push_back({f, {}});
    has_context_ = has_context_ || f == 'C';
  }
  if (!lit.empty()) tokens_.push_back({0, std::move(lit)});
}

bool text_parser::parse(std::string_view s, record& r, const char*& why) {
  std::size_t pos = 0;
  int year = year_, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  std::int64_t frac = 0, offset_min = 0, v = 0;
  bool timed = false;
  std::int64_t resolution = 1'000'000'000;
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const token& t = tokens_[i];
    const token* next = i + 1 < tokens_.size() ? &tokens_[i + 1] : nullptr;
    switch (t.flag) {
      case 0:
        if (s.size() - pos < t.text.size() || std::memcmp(s.data() + pos, t.text.data(), t.text.size()) != 0) {
          why = "does not match the pattern";
          return false;
        }
        pos += t.text.size();
        continue;
      case 'Y': case 'm': case 'd': case 'H': case 'M': case 'S': case 'e': case 'f': case 'F': {
        const int width = t.flag == 'Y' ? 4 : t.flag == 'e' ? 3 : t.flag == 'f' ? 6 : t.flag == 'F' ? 9 : 2;
        if (!read_fixed(s, pos, width, v)) {
          why = "bad time in the prefix";
          return false;
        }
        const int iv = static_cast<int>(v);
        switch (t.flag) {
          case 'Y': year = iv; break;
          case 'm': month = iv; break;
          case 'd': day = iv; break;
          case 'H': hour = iv; break;
          case 'M': minute = iv; break;
          case 'S': second = iv; break;
          case 'e': frac = v * 1'000'000, resolution = 1'000'000; break;
          case 'f': frac = v * 1'000, resolution = 1'000; break;
          default: frac = v, resolution = 1; break;
        }
        timed = true;
        continue;
      }
      case 'z': {
        if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) {
          why = "bad time zone offset";
          return false;
        }
        const bool neg = s[pos++] == '-';
        if (!read_fixed(s, pos, 4, v)) {
          why = "bad time zone offset";
          return false;
        }
        offset_min = (neg ? -1 : 1) * (v / 100 * 60 + v % 100);
        continue;
      }
      case 'L':
        if (pos >= s.size() || (r.lvl = parse_level(s.substr(pos, 1))) == level::unknown) {
          why = "unknown level";
          return false;
        }
        ++pos;
        continue;
      case 't': case 'P': case '#': {
        std::uint64_t n;
        if (!read_uint(s, pos, n)) {
          why = t.flag == 't' ? "no gid number" : "bad number in the prefix";
          return false;
        }
        if (t.flag == 't') r.gid = static_cast<std::uint32_t>(n), r.has_gid = true;
        else if (t.flag == '#') r.line = static_cast<std::uint32_t>(n);
        continue;
      }
      default: break;  // variable text below
    }
    // Variable text: up to the next literal, a number flag, or the end (the message with %C
    // after it runs to the end and gives the trailing pairs back).
    std::size_t end = s.size();
    if (next != nullptr && next->flag == 0) {
      end = s.find(next->text, pos);
      if (end == std::string_view::npos) {
        why = "does not match the pattern";
        return false;
      }
    } else if (next != nullptr && (next->flag == 't' || next->flag == 'P' || next->flag == '#' || next->flag == 'Y')) {
      end = pos;
      while (end < s.size() && !is_digit(s[end])) ++end;
    }
    const std::size_t text_at = pos;
    std::string_view text = s.substr(pos, end - pos);
    pos = end;
    switch (t.flag) {
      case 'l':
        if ((r.lvl = parse_level(text)) == level::unknown) {
          why = "unknown level";
          return false;
        }
        break;
      case 'n': r.logger = text; break;
      case 's': case 'g': r.file = text; break;
      case '!': r.func = text; break;
      case 'C':
        if (!parse_logfmt_pairs(text, r.ctx)) {
          why = "bad context pairs";
          return false;
        }
        break;
      case 'v':
        if (next != nullptr && next->flag == 'C' && (i + 2 == tokens_.size() || tokens_[i + 2].flag == 0)) {
          // Split at the first space from which the rest reads as pairs; most attempts stop at
          // the first word without '='.
          const std::size_t stop = i + 2 == tokens_.size() ? s.size() : s.find(tokens_[i + 2].text, text_at);
          if (stop == std::string_view::npos) {
            why = "does not match the pattern";
            return false;
          }
          std::string_view tail = s.substr(text_at, stop - text_at);
          std::size_t split = tail.size();
          for (std::size_t sp = tail.find(' '); sp != std::string_view::npos; sp = tail.find(' ', sp + 1)) {
            const std::size_t eq = tail.find_first_of(" =", sp + 1);
            if (eq == std::string_view::npos || tail[eq] != '=') continue;
            if (parse_logfmt_pairs(tail.substr(sp), r.ctx)) {
              split = sp;
              break;
            }
          }
          r.msg = tail.substr(0, split);
          pos = stop;
          ++i;  // %C consumed
        } else {
          r.msg = text;
        }
        break;
      default: break;
    }
  }
  if (pos != s.size()) {
    why = "text after the pattern's end";
    return false;
  }
  if (timed) {
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
      why = "bad time in the prefix";
      return false;
    }
    r.time_ns = time_key(year, month, day, hour, minute, second, frac) - offset_min * 60'000'000'000LL;
    r.has_time = true;
    r.resolution_ns = resolution;
  }
  r.raw = s;
  return true;
}

std::string_view level_name(level l) noexcept {
  static constexpr std::string_view names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "?"};
  return names[static_cast<int>(l)];
}

level parse_level(std::string_view s) noexcept {
  if (s.size() == 1) {
    switch (s[0] | 0x20) {
      case 't': return level::trace;
      case 'd': return level::debug;
      case 'i': return level::info;
      case 'w': return level::warn;
      case 'e': return level::error;
      case 'f': return level::fatal;
      default: return level::unknown;
    }
  }
  if (s.size() < 4 || s.size() > 7) return level::unknown;
  char up[8] = {};
  for (std::size_t i = 0; i < s.size(); ++i) up[i] = static_cast<char>(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
  const std::string_view u(up, s.size());
  if (u == "TRACE") return level::trace;
  if (u == "DEBUG") return level::debug;
  if (u == "INFO") return level::info;
  if (u == "WARN" || u == "WARNING") return level::warn;
  if (u == "ERROR") return level::error;
  if (u == "FATAL") return level::fatal;
  return level::unknown;
}

}  // namespace gidlog_trace
