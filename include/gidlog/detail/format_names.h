#pragma once
// Named placeholders: "login {user} from {ip} took {ms:.1f} ms". The names are removed for fmt
// ("login {} from {} took {:.1f} ms") and kept as field names for structured sinks; "{}" is named
// arg0, arg1, ... by position. One scanner serves the compile-time check of every LOG_* call site
// and the backend, which reads the names once per site. Internal.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gidlog {
inline namespace v0 {
namespace detail {

enum class format_problem : std::uint8_t {
  none,
  bad_name,           // "{user-id}": a placeholder that is neither empty, an index nor an identifier
                      // (copied as it is: the text is still complete, for fmt to report)
  duplicate_name,     // "{user} and {user}"
  names_and_indices,  // "{0} {user}": fmt cannot mix manual indices with automatic ones
};

struct format_scan {
  std::size_t size = 0;    // length of the text with the names removed
  unsigned arguments = 0;  // arguments the placeholders use: automatic count, or highest index + 1
  bool named = false;      // at least one placeholder has a name
  format_problem problem = format_problem::none;
};

constexpr bool identifier_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
constexpr bool identifier_char(char c) noexcept { return identifier_start(c) || (c >= '0' && c <= '9'); }

// Scans `f`. Writes the text without names to `out` when non-null (room for f.size() chars) and,
// when `names` is non-null, the name of argument i to names[i] (left as is for an unnamed one)
// for i < max_names. Stops at the first problem. Braces fmt would reject are copied as they are,
// for fmt's own check to report.
constexpr format_scan scan_format(std::string_view f, char* out, std::string_view* names, std::size_t max_names) {
  format_scan r;
  std::size_t o = 0;
  auto put = [&](char c) {
    if (out != nullptr) out[o] = c;
    ++o;
  };
  unsigned next_auto = 0, max_manual = 0;
  bool manual = false, bad = false;
  // Reads one placeholder's id at f[i] (up to ':' or '}'), writes what fmt needs of it, and
  // returns the index after it; sets r.problem on a bad one.
  auto field_id = [&](std::size_t i) -> std::size_t {
    std::size_t j = i;
    while (j < f.size() && f[j] != ':' && f[j] != '}' && f[j] != '{') ++j;
    const std::string_view id = f.substr(i, j - i);
    unsigned index = 0;
    bool digits = !id.empty(), name = !id.empty() && identifier_start(id[0]);
    for (char c : id) {
      digits = digits && c >= '0' && c <= '9';
      name = name && identifier_char(c);
    }
    const bool terminated = j < f.size() && f[j] != '{';  // by ':' or '}'
    if (id.empty()) {
      index = next_auto++;
    } else if (digits && terminated) {
      for (char c : id) index = index > 9999 ? index : index * 10 + static_cast<unsigned>(c - '0');
      manual = true;
      if (index + 1 > max_manual) max_manual = index + 1;
      for (char c : id) put(c);
    } else if (!name || !terminated) {
      // Not a name or an index, or a field that never ends: copied for fmt to report.
      bad = bad || (!name && !digits);
      for (char c : id) put(c);
      return j;
    } else {
      if (names != nullptr) {
        for (std::size_t k = 0; k < next_auto && k < max_names; ++k) {
          if (names[k] == id) {
            r.problem = format_problem::duplicate_name;
            return j;
          }
        }
      }
      index = next_auto++;
      r.named = true;
      if (names != nullptr && index < max_names) names[index] = id;
    }
    if (manual && next_auto > 0) r.problem = format_problem::names_and_indices;
    return j;
  };

  std::size_t i = 0;
  while (i < f.size() && r.problem == format_problem::none) {
    const char c = f[i];
    if (c == '{' && i + 1 < f.size() && f[i + 1] == '{') {
      put('{');
      put('{');
      i += 2;
    } else if (c == '{') {
      put('{');
      i = field_id(i + 1);
      if (i < f.size() && f[i] == ':') {
        // The spec, copied, with nested placeholders (a dynamic width or precision) scanned too.
        put(':');
        ++i;
        while (i < f.size() && f[i] != '}' && r.problem == format_problem::none) {
          if (f[i] == '{') {
            put('{');
            i = field_id(i + 1);
            if (i < f.size() && f[i] == '}') {
              put('}');
              ++i;
            }
          } else {
            put(f[i++]);
          }
        }
      }
      if (i < f.size() && f[i] == '}') {
        put('}');
        ++i;
      }
    } else {
      put(c);
      ++i;
    }
  }
  if (bad && r.problem == format_problem::none) r.problem = format_problem::bad_name;
  r.size = o;
  r.arguments = manual ? max_manual : next_auto;
  return r;
}

// The text of a format string with its names removed, made at compile time for a call site.
template <std::size_t N>
struct stripped_format {
  char text[N > 0 ? N : 1] = {};
  std::size_t size = 0;
  bool named = false;
  constexpr std::string_view view() const noexcept { return {text, size}; }
};

// Not constexpr, never defined: a call in a constant evaluation is the compile error, and the
// compiler's message names the function, so the name says what is wrong with the format string.
void gidlog_format_error_placeholder_name_is_not_an_identifier();
void gidlog_format_error_the_same_placeholder_name_twice();
void gidlog_format_error_named_placeholders_mixed_with_indices();
void gidlog_format_error_argument_count_differs_from_placeholders();

constexpr void report_format_problem(format_problem p) {
  switch (p) {
    case format_problem::none: break;
    case format_problem::bad_name: gidlog_format_error_placeholder_name_is_not_an_identifier(); break;
    case format_problem::duplicate_name: gidlog_format_error_the_same_placeholder_name_twice(); break;
    case format_problem::names_and_indices: gidlog_format_error_named_placeholders_mixed_with_indices(); break;
  }
}

template <std::size_t N>
constexpr stripped_format<N> strip_names(std::string_view f) {
  stripped_format<N> s;
  std::string_view names[N / 2 + 1] = {};
  const format_scan r = scan_format(f, s.text, names, N / 2 + 1);
  report_format_problem(r.problem);
  s.size = r.size;
  s.named = r.named;
  return s;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
