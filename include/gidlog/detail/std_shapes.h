#pragma once
// Recognising the standard types LOG_* captures (chrono durations and time points, optional,
// vector, array, error_code) without including their headers, which would cost every file that
// logs their compile time (<chrono> alone about 0.35 s of g++ 12's time in C++20): a file that
// passes such a value has included its header itself. A type is recognised by its members (the
// shape the capture uses) and by its name, so a type of another library with the same members
// (boost::optional, a user's duration) is never taken for a standard one and logs as it did.
// Internal.
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace gidlog {
inline namespace v0 {
namespace detail {

// The compiler's spelling of T inside this function's signature: g++ "... [with T = X; ...]",
// clang "... [T = X]", g++ -fno-pretty-templates "... pretty_type_name<X>()". Both spell a type
// canonically there (std::chrono::milliseconds as std::chrono::duration<long int, ...>).
template <class T>
constexpr std::string_view pretty_type_name() noexcept {
  return __PRETTY_FUNCTION__;
}

// The qualified name of a class type T, or of the template it is a specialization of, without
// its template arguments: "std::chrono::duration" for std::chrono::milliseconds.
template <class T>
constexpr std::string_view qualified_name() noexcept {
  constexpr std::string_view text = pretty_type_name<T>();
  std::size_t at = std::string_view::npos;
  for (std::string_view marker : {std::string_view("[with T = "), std::string_view("[T = "), std::string_view("pretty_type_name<")}) {
    if (const std::size_t m = text.find(marker); m != std::string_view::npos) {
      at = m + marker.size();
      break;
    }
  }
  if (at == std::string_view::npos) return {};
  std::size_t end = at;
  while (end < text.size() && text[end] != '<' && text[end] != ';' && text[end] != ']' && text[end] != '>') ++end;
  return text.substr(at, end - at);
}

// Whether `name` is `want` once the namespaces whose name starts with '_' are skipped: the
// standard libraries' inline and private namespaces (libstdc++'s std::chrono::_V2 and
// std::__debug, libc++'s std::__1).
constexpr bool same_std_name(std::string_view name, std::string_view want) noexcept {
  while (true) {
    const std::size_t n_end = name.find("::");
    const std::string_view part = name.substr(0, n_end);
    if (!part.empty() && part[0] == '_' && n_end != std::string_view::npos) {
      name.remove_prefix(n_end + 2);
      continue;
    }
    const std::size_t w_end = want.find("::");
    if (part != want.substr(0, w_end)) return false;
    if (n_end == std::string_view::npos || w_end == std::string_view::npos) return n_end == w_end;
    name.remove_prefix(n_end + 2);
    want.remove_prefix(w_end + 2);
  }
}

template <class T>
constexpr bool is_std_class(std::string_view want) noexcept {
  return same_std_name(qualified_name<T>(), want);
}

// The shapes. Each checks the members first (cheap, and false for every built-in type), the name
// last.
template <class T>
concept std_duration = requires(const T& v) {
  typename T::rep;
  T::period::num;
  T::period::den;
  v.count();
} && is_std_class<T>("std::chrono::duration");

template <class T>
concept std_time_point = requires(const T& v) {
  typename T::clock;
  typename T::duration;
  v.time_since_epoch();
} && std_duration<typename T::duration> && is_std_class<T>("std::chrono::time_point");

template <class T>
concept std_system_clock = is_std_class<T>("std::chrono::system_clock");

template <class T>
concept std_optional = requires(const T& v) {
  typename T::value_type;
  v.has_value();
  *v;
} && is_std_class<T>("std::optional");

template <class T>
concept std_contiguous = requires(const T& v) {
  typename T::value_type;
  v.data();
  v.size();
};
template <class T>
concept std_vector = std_contiguous<T> && is_std_class<T>("std::vector");
template <class T>
concept std_array = std_contiguous<T> && is_std_class<T>("std::array");

template <class T>
concept std_error_code = requires(const T& v) {
  v.value();
  v.category();
} && is_std_class<T>("std::error_code");

// std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() for a std_duration, computed
// the way the standard specifies it: in the common type of the count, intmax_t and the result's
// int64_t, multiplying and dividing by the reduced ratio between the two periods only where it
// is not 1.
constexpr std::intmax_t gcd_of(std::intmax_t a, std::intmax_t b) noexcept {
  while (b != 0) {
    const std::intmax_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}
template <std_duration D>
constexpr std::int64_t nanoseconds_of(const D& d) noexcept {
  using P = typename D::period;
  constexpr std::intmax_t g = gcd_of(1'000'000'000, P::den);
  static_assert((P::num < 0 ? -P::num : P::num) <= INTMAX_MAX / (1'000'000'000 / g),
                "the period in nanoseconds overflows intmax_t");
  constexpr std::intmax_t num = P::num * (1'000'000'000 / g);
  constexpr std::intmax_t den = P::den / g;
  using C = std::common_type_t<typename D::rep, std::int64_t, std::intmax_t>;
  if constexpr (num == 1 && den == 1) return static_cast<std::int64_t>(d.count());
  else if constexpr (den == 1) return static_cast<std::int64_t>(static_cast<C>(d.count()) * static_cast<C>(num));
  else if constexpr (num == 1) return static_cast<std::int64_t>(static_cast<C>(d.count()) / static_cast<C>(den));
  else return static_cast<std::int64_t>(static_cast<C>(d.count()) * static_cast<C>(num) / static_cast<C>(den));
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
