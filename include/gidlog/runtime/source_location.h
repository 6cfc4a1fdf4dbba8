#pragma once
// gidlog::source_location: std::source_location where the standard library provides it, else
// (clang before 15 with libstdc++) a stand-in with the same members built on the compilers'
// __builtin_FILE/__builtin_LINE/__builtin_FUNCTION. Used as a defaulted parameter, it records
// the caller's file, line and function:
//
//   void submit(F&& f, gidlog::source_location loc = gidlog::source_location::current());
//
// The stand-in's function_name() is the bare function name; std's (g++) is the full signature.
#include <cstdint>
#if __has_include(<source_location>)
#include <source_location>
#endif

namespace gidlog {
inline namespace v0 {

#if defined(__cpp_lib_source_location)
using source_location = std::source_location;
#else
struct source_location {
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           std::uint_least32_t line = __builtin_LINE()) noexcept {
    source_location l;
    l.file_ = file;
    l.function_ = function;
    l.line_ = line;
    return l;
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr std::uint_least32_t column() const noexcept { return 0; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0;
};
#endif

}  // namespace v0
}  // namespace gidlog
