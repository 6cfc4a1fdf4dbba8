#pragma once
// Common standard types as LOG_* arguments without opt-in: how each travels. Those below are
// captured on the caller as a small value (custom kind: bytes plus a formatting function in the
// library, src/backend/std_formats.cpp) and formatted on the backend; see README "Configuration"
// for the table and bm_log for the measurements behind it. Internal.
//
//   std::chrono::duration<integer or floating Rep, any Period>   count (as i64 or double), period
//   std::chrono::time_point of system_clock (fmt's date-time text), or of another clock (its
//     time_since_epoch(), as a duration)
//   std::optional<T> of arithmetic T                              "optional(v)" or "none"
//   std::vector<T>, std::array<T, N> of arithmetic T (not bool vectors)  "[1, 2, 3]", fmt's ranges
//   std::error_code                                               "category:value" (the category
//                                                                  object is static: a pointer)
//   std::filesystem::path (any type with native() and preferred_separator)  fmt's path text
//   enums: through an ADL format_as or a fmt::formatter on the caller; else their integer
//   char8_t, std::u8string(_view), const char8_t*                 as char and UTF-8 text
//
// None of their headers is included here: each type is recognised by its members and its name
// (detail/std_shapes.h), so a file that logs pays for <chrono>, <optional>, <vector> or
// <system_error> only when it includes them itself.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/core.h>

#include <gidlog/detail/std_shapes.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

using std_format_fn = void (*)(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t size);

// Library functions (src/backend/std_formats.cpp) that format the captured forms below; same
// signature as custom_format_fn.
void format_std_duration(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t size);
void format_std_system_time(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t size);
void format_std_optional(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t size);
void format_std_sequence(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t size);
void format_std_error_code(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t size);
void format_std_path(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t size);

// How an arithmetic value is stored inside a captured form: one tag, widened as the wire does.
enum class scalar_tag : std::uint8_t { boolean, character, i64, u64, f32, f64, i32, u32 };

template <class T>
constexpr bool is_std_scalar_v = std::is_arithmetic_v<T> && !std::is_same_v<T, long double> &&
                                 !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
                                 !std::is_same_v<T, char32_t> && !std::is_same_v<T, wchar_t>;

template <class T>
constexpr scalar_tag scalar_tag_of() {
  if constexpr (std::is_same_v<T, bool>) return scalar_tag::boolean;
  else if constexpr (std::is_same_v<T, char>) return scalar_tag::character;
  else if constexpr (std::is_same_v<T, float>) return scalar_tag::f32;
  else if constexpr (std::is_floating_point_v<T>) return scalar_tag::f64;
  else if constexpr (std::is_signed_v<T>) return sizeof(T) <= 4 ? scalar_tag::i32 : scalar_tag::i64;
  else return sizeof(T) <= 4 ? scalar_tag::u32 : scalar_tag::u64;
}

template <class T>
using scalar_wire_t = std::conditional_t<
    std::is_same_v<T, bool> || std::is_same_v<T, char> || std::is_same_v<T, float>, T,
    std::conditional_t<std::is_floating_point_v<T>, double,
                       std::conditional_t<std::is_signed_v<T>, std::conditional_t<(sizeof(T) <= 4), std::int32_t, std::int64_t>,
                                          std::conditional_t<(sizeof(T) <= 4), std::uint32_t, std::uint64_t>>>>;

// A duration: the count (i64, or double for a floating Rep), then one byte naming the period
// (1 ns, 2 us, 3 ms, 4 s, 5 min, 6 h; 0: another, its num and den follow) and one byte that is 1
// for a floating count. 10 bytes for the common periods, so a record keeps them inline.
struct duration_head {
  unsigned char count[8];
  std::uint8_t period;
  std::uint8_t floating;
};
// A std::ratio's num and den are reduced, so these are std::nano, std::micro, ... exactly.
template <class Period>
constexpr std::uint8_t period_code() {
  constexpr auto num = Period::num;
  constexpr auto den = Period::den;
  if constexpr (num == 1 && den == 1'000'000'000) return 1;
  else if constexpr (num == 1 && den == 1'000'000) return 2;
  else if constexpr (num == 1 && den == 1'000) return 3;
  else if constexpr (num == 1 && den == 1) return 4;
  else if constexpr (num == 60 && den == 1) return 5;
  else if constexpr (num == 3600 && den == 1) return 6;
  else return 0;
}
template <class D>
constexpr std::size_t duration_wire_size() {
  return sizeof(duration_head) + (period_code<typename D::period>() == 0 ? 2 * sizeof(std::int64_t) : 0);
}
template <class D>
void write_duration(unsigned char* out, const D& v) noexcept {
  using Rep = typename D::rep;
  using Period = typename D::period;
  duration_head h{};
  h.period = period_code<Period>();
  h.floating = std::is_floating_point_v<Rep> ? 1 : 0;
  if constexpr (std::is_floating_point_v<Rep>) {
    const double d = static_cast<double>(v.count());
    std::memcpy(h.count, &d, 8);
  } else {
    const auto i = static_cast<std::int64_t>(v.count());
    std::memcpy(h.count, &i, 8);
  }
  std::memcpy(out, &h, sizeof h);
  if (h.period == 0) {
    const std::int64_t nd[2] = {static_cast<std::int64_t>(Period::num), static_cast<std::int64_t>(Period::den)};
    std::memcpy(out + sizeof h, nd, sizeof nd);
  }
}

// The types captured this way, with their size, their bytes and their formatter.
template <class T>
struct std_capture : std::false_type {};

// std::chrono::duration<Rep, Period> of an arithmetic Rep.
template <std_duration T>
  requires std::is_arithmetic_v<typename T::rep>
struct std_capture<T> : std::true_type {
  static std::size_t size(const T&) noexcept { return duration_wire_size<T>(); }
  static void write(unsigned char* out, const T& v) noexcept { write_duration(out, v); }
  static constexpr std_format_fn fn = &format_std_duration;
};

// std::chrono::time_point<Clock, Duration> of an arithmetic Duration::rep.
template <std_time_point T>
  requires std::is_arithmetic_v<typename T::duration::rep>
struct std_capture<T> : std::true_type {
  static std::size_t size(const T&) noexcept { return duration_wire_size<typename T::duration>(); }
  static void write(unsigned char* out, const T& v) noexcept { write_duration(out, v.time_since_epoch()); }
  static constexpr std_format_fn fn = std_system_clock<typename T::clock> ? &format_std_system_time : &format_std_duration;
};

// std::optional<V>: a presence byte, the scalar tag, then the widened value.
template <std_optional T>
  requires is_std_scalar_v<typename T::value_type>
struct std_capture<T> : std::true_type {
  using V = typename T::value_type;
  using W = scalar_wire_t<V>;
  static std::size_t size(const T&) noexcept { return 2 + sizeof(W); }
  static void write(unsigned char* out, const T& v) noexcept {
    out[0] = v.has_value() ? 1 : 0;
    out[1] = static_cast<unsigned char>(scalar_tag_of<V>());
    const W w = v.has_value() ? static_cast<W>(*v) : W{};
    std::memcpy(out + 2, &w, sizeof w);
  }
  static constexpr std_format_fn fn = &format_std_optional;
};

// std::vector<V, A> (not of bool) and std::array<V, N>: the scalar tag, then the widened elements
// (count = rest / element size).
template <class V>
struct sequence_capture : std::true_type {
  using W = scalar_wire_t<V>;
  template <class T>
  static std::size_t size(const T& v) noexcept { return 1 + v.size() * sizeof(W); }
  template <class T>
  static void write(unsigned char* out, const T& v) noexcept {
    out[0] = static_cast<unsigned char>(scalar_tag_of<V>());
    out += 1;
    if constexpr (std::is_same_v<W, V>) {
      if (!v.empty()) std::memcpy(out, v.data(), v.size() * sizeof(W));
    } else {
      for (const V& e : v) {
        const W w = static_cast<W>(e);
        std::memcpy(out, &w, sizeof w);
        out += sizeof w;
      }
    }
  }
  static constexpr std_format_fn fn = &format_std_sequence;
};
template <std_vector T>
  requires(is_std_scalar_v<typename T::value_type> && !std::is_same_v<typename T::value_type, bool>)
struct std_capture<T> : sequence_capture<typename T::value_type> {};
template <std_array T>
  requires is_std_scalar_v<typename T::value_type>
struct std_capture<T> : sequence_capture<typename T::value_type> {};

// std::error_code: its value and the address of its category (a static object); the backend reads
// the address back as a const std::error_category*.
template <std_error_code T>
struct std_capture<T> : std::true_type {
  static std::size_t size(const T&) noexcept { return sizeof(int) + sizeof(void*); }
  static void write(unsigned char* out, const T& v) noexcept {
    const int value = v.value();
    const auto* cat = &v.category();
    static_assert(sizeof cat == sizeof(void*));
    std::memcpy(out, &value, sizeof value);
    std::memcpy(out + sizeof value, &cat, sizeof cat);
  }
  static constexpr std_format_fn fn = &format_std_error_code;
};

// std::filesystem::path without including <filesystem>: anything with native() as a std::string
// and a preferred_separator.
template <class T>
concept path_like = requires(const T& v) {
  v.native();
  T::preferred_separator;
} && std::is_same_v<std::decay_t<decltype(std::declval<const T&>().native())>, std::string> && sizeof(T::preferred_separator) == 1;

template <path_like T>
struct std_capture<T> : std::true_type {
  static std::size_t size(const T& v) noexcept { return v.native().size(); }
  static void write(unsigned char* out, const T& v) noexcept {
    if (!v.native().empty()) std::memcpy(out, v.native().data(), v.native().size());
  }
  static constexpr std_format_fn fn = &format_std_path;
};

// Enums: a format_as found by ADL or a fmt::formatter makes the caller format them (as fmt does);
// otherwise they travel as their integer.
template <class T>
concept has_format_as = requires(const T& v) { format_as(v); };

template <class T>
constexpr bool enum_as_integer_v = [] {
  if constexpr (std::is_enum_v<T>) return !has_format_as<T> && !fmt::has_formatter<T, fmt::format_context>::value;
  else return false;
}();

// char8_t text.
template <class T>
constexpr bool is_u8_string_v = std::is_same_v<T, std::u8string_view> || std::is_same_v<T, std::u8string> ||
                                std::is_same_v<T, const char8_t*> || std::is_same_v<T, char8_t*>;

inline std::string_view as_string_view(std::u8string_view s) noexcept {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}
inline std::string_view as_string_view(const char8_t* s) noexcept {
  return s ? std::string_view{reinterpret_cast<const char*>(s)} : std::string_view{"(null)"};
}

// What the compile-time format check sees for an argument type: the type itself, or for the
// captured forms a stand-in whose specs mean the same (an enum's integer, text for char8_t
// strings), or one that takes any spec (checked again by fmt's own formatter on the backend,
// where a bad one becomes a "format error" line).
struct any_spec {};

template <class T>
auto check_type_id() {
  using D = std::decay_t<T>;
  if constexpr (std_capture<D>::value) return std::type_identity<any_spec>{};
  else if constexpr (enum_as_integer_v<D>) return std::type_identity<std::underlying_type_t<D>>{};
  else if constexpr (std::is_enum_v<D> && has_format_as<D> && !fmt::has_formatter<D, fmt::format_context>::value)
    return std::type_identity<decltype(format_as(std::declval<const D&>()))>{};
  else if constexpr (is_u8_string_v<D>) return std::type_identity<std::string_view>{};
  else if constexpr (std::is_same_v<D, char8_t>) return std::type_identity<char>{};
  else return std::type_identity<T>{};
}
template <class T>
using check_type_t = typename decltype(check_type_id<T>())::type;

// A captured type in a call whose message is formatted on the caller (another argument is a user
// type): formatted there by the same library function as on the backend, from the same bytes.
template <class T>
struct captured_ref {
  const T& v;
};

// The argument as the caller's fmt call takes it.
template <class T>
decltype(auto) caller_arg(const T& v) noexcept {
  if constexpr (std_capture<T>::value) return captured_ref<T>{v};
  else if constexpr (enum_as_integer_v<T>) return static_cast<std::underlying_type_t<T>>(v);
  else if constexpr (std::is_enum_v<T> && has_format_as<T> && !fmt::has_formatter<T, fmt::format_context>::value)
    return format_as(v);
  else if constexpr (is_u8_string_v<T>) return as_string_view(v);
  else if constexpr (std::is_same_v<T, char8_t>) return static_cast<char>(v);
  else return (v);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog

template <class T>
struct fmt::formatter<gidlog::detail::captured_ref<T>> {
  fmt::string_view spec;
  constexpr auto parse(format_parse_context& ctx) -> decltype(ctx.begin()) {
    auto it = ctx.begin();
    while (it != ctx.end() && *it != '}') ++it;
    spec = fmt::string_view(ctx.begin(), static_cast<std::size_t>(it - ctx.begin()));
    return it;
  }
  auto format(const gidlog::detail::captured_ref<T>& r, format_context& ctx) const -> decltype(ctx.out()) {
    using cap = gidlog::detail::std_capture<T>;
    const std::size_t n = cap::size(r.v);
    std::string bytes(n, '\0');
    cap::write(reinterpret_cast<unsigned char*>(bytes.data()), r.v);
    std::string one = "{:";
    one.append(spec.data(), spec.size());
    one += '}';
    auto& out = fmt::detail::get_container(ctx.out());
    cap::fn(&out, one, reinterpret_cast<const unsigned char*>(bytes.data()), n);
    return ctx.out();
  }
};

template <>
struct fmt::formatter<gidlog::detail::any_spec> {
  constexpr auto parse(format_parse_context& ctx) -> decltype(ctx.begin()) {
    auto it = ctx.begin();
    while (it != ctx.end() && *it != '}') ++it;
    return it;
  }
  template <class Context>
  auto format(gidlog::detail::any_spec, Context& ctx) const -> decltype(ctx.out()) {
    return ctx.out();
  }
};
