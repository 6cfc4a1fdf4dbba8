#pragma once
// How a LOG_* call's format and arguments may be given beyond a literal format string and the
// built-in types: a format string made at run time (runtime_format), and user types whose bytes
// the backend formats instead of the calling thread (deferred_format). Included by <gidlog/log.h>;
// may be included alone (a header that only specialises deferred_format needs nothing else), and
// includes no fmt header. Threading: nothing here has state; what the LOG_* call does with these
// is said in <gidlog/log.h>.
#include <string_view>
#include <type_traits>

namespace gidlog {
inline namespace v0 {

// A format string known only at run time: LOG_INFO(gidlog::runtime_format(text), args...). The
// arguments are captured as for a literal format; the backend formats them with `text` and, when
// the string does not fit them, writes "[gidlog: format error: <why>; format \"<text>\"]" instead
// (counted in get_counters().format_errors). `text` must stay valid until the LOG_* call returns;
// it is copied into the record. fmt::runtime(text) is accepted the same way.
struct runtime_format_string {
  std::string_view text;
};
inline runtime_format_string runtime_format(std::string_view text) noexcept { return {text}; }

// Opt-in deferred formatting for a user type: specialise to true_type for a trivially copyable
// type with a fmt::formatter, and LOG_* copies its bytes into the record and the backend formats
// it, instead of formatting it on the calling thread. The type must not point at memory that may
// change or die before the backend writes the line. The specialisation must be visible where the
// LOG_* call is compiled (a type without one is formatted on the calling thread); a type that is
// not trivially copyable fails to compile.
//
//   struct point { int x, y; };
//   template <> struct fmt::formatter<point> { ... };
//   template <> struct gidlog::deferred_format<point> : std::true_type {};
template <class T>
struct deferred_format : std::false_type {};

}  // namespace v0
}  // namespace gidlog
