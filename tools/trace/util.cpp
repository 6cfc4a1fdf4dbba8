#include "util.h"

#include <cmath>
#include <cstdio>

#include "text_parser.h"

namespace gidlog_trace {

namespace {
constexpr std::int64_t day_ns = 86'400'000'000'000LL;

bool digits(std::string_view s, std::size_t at, std::size_t n, int& v) {
  if (s.size() < at + n) return false;
  v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  return true;
}

// ".812" -> nanoseconds; the rest of s must be the fraction (or empty).
bool fraction(std::string_view s, std::int64_t& ns) {
  ns = 0;
  if (s.empty()) return true;
  if (s[0] != '.' || s.size() < 2 || s.size() > 10) return false;
  std::int64_t scale = 100'000'000;
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') return false;
    ns += (c - '0') * scale;
    scale /= 10;
  }
  return true;
}
// Bytes of the well-formed UTF-8 sequence s starts with (RFC 3629's table), 0 when it is not one.
std::size_t utf8_length(std::string_view s) {
  auto b = [&](std::size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xbf) { return b(i) >= lo && b(i) <= hi; };
  const unsigned u = b(0);
  if (u >= 0xc2 && u <= 0xdf) return cont(1) ? 2 : 0;
  if (u == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((u >= 0xe1 && u <= 0xec) || u == 0xee || u == 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (u == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (u == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (u >= 0xf1 && u <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (u == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
}  // namespace

std::optional<time_bound> parse_time_bound(std::string_view s, int year) {
  std::int64_t ns = 0;
  if (parse_rfc3339(s, ns)) return time_bound{ns, false};
  int mo, d, h, mi, sec;
  std::int64_t frac;
  if (s.size() >= 11 && s[4] == '/' && digits(s, 0, 2, mo) && digits(s, 2, 2, d) && digits(s, 5, 2, h) &&
      digits(s, 7, 2, mi) && digits(s, 9, 2, sec) && fraction(s.substr(11), frac))
    return time_bound{time_key(year, mo, d, h, mi, sec, frac), false};
  if (s.size() >= 8 && s[2] == ':' && s[5] == ':' && digits(s, 0, 2, h) && digits(s, 3, 2, mi) &&
      digits(s, 6, 2, sec) && fraction(s.substr(8), frac))
    return time_bound{((h * 60LL + mi) * 60 + sec) * 1'000'000'000LL + frac, true};
  return std::nullopt;
}

bool record_filter::pass(level l, std::int64_t time_ns) const noexcept {
  if (l < min_level) return false;
  auto value = [&](const time_bound& b) { return b.time_of_day ? ((time_ns % day_ns) + day_ns) % day_ns : time_ns; };
  if (from && value(*from) < from->ns) return false;
  if (to && value(*to) > to->ns) return false;
  return true;
}

std::string format_time(std::int64_t ns) {
  // civil_from_days, the inverse of time_key's date part.
  std::int64_t days = ns >= 0 ? ns / day_ns : (ns - day_ns + 1) / day_ns;
  std::int64_t rest = ns - days * day_ns;
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  const std::int64_t us = rest / 1000;
  char buf[96];  // room for any int64 fields (GCC checks the worst case)
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lld", static_cast<long long>(y), m, d,
                static_cast<long long>(us / 3'600'000'000LL), static_cast<long long>(us / 60'000'000 % 60),
                static_cast<long long>(us / 1'000'000 % 60), static_cast<long long>(us % 1'000'000));
  return buf;
}

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    switch (s[i]) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\t': out += "\\t"; continue;
      case '\r': out += "\\r"; continue;
      case '<': out += "\\u003c"; continue;  // safe inside an HTML <script> block too
      default: break;
    }
    if (u < 0x20 || u == 0x7f) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else if (u < 0x80) {
      out += s[i];
    } else {
      // Keep valid UTF-8 as it is; a byte that does not start a valid sequence becomes U+FFFD,
      // so the output always parses (logs may hold anything).
      const std::size_t n = utf8_length(s.substr(i));
      const bool ok = n > 0;
      if (ok) {
        out.append(s.substr(i, n));
        i += n - 1;
      } else {
        out += "\\ufffd";
      }
    }
  }
}

std::string json_quoted(std::string_view s) {
  std::string out = "\"";
  append_json_escaped(out, s);
  out += '"';
  return out;
}

std::int64_t percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  if (rank < 1) rank = 1;
  if (rank > sorted.size()) rank = sorted.size();
  return sorted[rank - 1];
}

}  // namespace gidlog_trace
