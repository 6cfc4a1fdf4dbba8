// Backend thread: formats the standard types LOG_* captures as small values
// (gidlog/detail/std_types.h), with fmt's own formatters where fmt has one, so the text is what
// fmt::format would make on the caller.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <ratio>
#include <span>
#include <string>
#include <system_error>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fmt/std.h>

#include <gidlog/detail/std_types.h>

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace {

fmt::detail::buffer<char>& buf(void* b) { return *static_cast<fmt::detail::buffer<char>*>(b); }

template <class T>
void put(void* b, std::string_view format, const T& v) {
  fmt::vformat_to(fmt::appender(buf(b)), fmt::string_view(format.data(), format.size()), fmt::make_format_args(v));
}

// A duration of the captured period, rebuilt with the period fmt knows; an unusual period keeps its
// ratio in the text, as fmt writes it ("[num/den]s").
template <class Rep>
void put_duration(void* b, std::string_view format, Rep count, std::intmax_t num, std::intmax_t den) {
  using namespace std::chrono;
  auto is = [&](auto r) { return num == decltype(r)::num && den == decltype(r)::den; };
  if (is(std::nano{})) put(b, format, duration<Rep, std::nano>(count));
  else if (is(std::micro{})) put(b, format, duration<Rep, std::micro>(count));
  else if (is(std::milli{})) put(b, format, duration<Rep, std::milli>(count));
  else if (is(std::ratio<1>{})) put(b, format, duration<Rep>(count));
  else if (is(std::ratio<60>{})) put(b, format, duration<Rep, std::ratio<60>>(count));
  else if (is(std::ratio<3600>{})) put(b, format, duration<Rep, std::ratio<3600>>(count));
  else if (is(std::ratio<86400>{})) put(b, format, duration<Rep, std::ratio<86400>>(count));
  else if (den == 1) fmt::format_to(fmt::appender(buf(b)), "{}[{}]s", count, num);
  else fmt::format_to(fmt::appender(buf(b)), "{}[{}/{}]s", count, num, den);
}

duration_wire read_duration(const unsigned char* bytes) {
  duration_wire w;
  std::memcpy(&w, bytes, sizeof w);
  return w;
}

template <class F>
void with_scalar(scalar_tag tag, const unsigned char* p, F&& f) {
  switch (tag) {
    case scalar_tag::boolean: { bool v; std::memcpy(&v, p, 1); f(v); break; }
    case scalar_tag::character: { char v; std::memcpy(&v, p, 1); f(v); break; }
    case scalar_tag::i64: { std::int64_t v; std::memcpy(&v, p, 8); f(v); break; }
    case scalar_tag::u64: { std::uint64_t v; std::memcpy(&v, p, 8); f(v); break; }
    case scalar_tag::f32: { float v; std::memcpy(&v, p, 4); f(v); break; }
    case scalar_tag::f64: { double v; std::memcpy(&v, p, 8); f(v); break; }
  }
}

std::size_t scalar_size(scalar_tag tag) {
  switch (tag) {
    case scalar_tag::boolean: case scalar_tag::character: return 1;
    case scalar_tag::f32: return 4;
    default: return 8;
  }
}

template <class T>
void put_sequence(void* b, std::string_view format, const unsigned char* p, std::size_t n) {
  std::unique_ptr<T[]> v(new T[n]);  // aligned copies (the record's bytes are not)
  if (n != 0) std::memcpy(v.get(), p, n * sizeof(T));
  put(b, format, std::span<const T>(v.get(), n));
}

}  // namespace

void format_std_duration(void* b, std::string_view format, const unsigned char* bytes, std::size_t) {
  const duration_wire w = read_duration(bytes);
  if (w.floating) put_duration(b, format, w.d, w.num, w.den);
  else put_duration(b, format, w.i, w.num, w.den);
}

void format_std_system_time(void* b, std::string_view format, const unsigned char* bytes, std::size_t) {
  using namespace std::chrono;
  const duration_wire w = read_duration(bytes);
  auto is = [&](auto r) { return w.num == decltype(r)::num && w.den == decltype(r)::den; };
  if (w.floating) {
    // fmt has no formatter for a floating time point: to the nanosecond.
    const duration<double> secs(w.d * double(w.num) / double(w.den));
    put(b, format, time_point<system_clock, nanoseconds>(duration_cast<nanoseconds>(secs)));
  } else if (is(std::nano{})) {
    put(b, format, time_point<system_clock, nanoseconds>(nanoseconds(w.i)));
  } else if (is(std::micro{})) {
    put(b, format, time_point<system_clock, microseconds>(microseconds(w.i)));
  } else if (is(std::milli{})) {
    put(b, format, time_point<system_clock, milliseconds>(milliseconds(w.i)));
  } else {
    put(b, format, time_point<system_clock, seconds>(seconds(w.i * w.num / w.den)));
  }
}

void format_std_optional(void* b, std::string_view format, const unsigned char* bytes, std::size_t) {
  if (bytes[0] == 0) {
    put(b, format, std::string_view("none"));
    return;
  }
  // fmt 10's text ("optional(42)"); the spec applies to the value.
  fmt::format_to(fmt::appender(buf(b)), "optional(");
  with_scalar(static_cast<scalar_tag>(bytes[1]), bytes + 2, [&](auto v) { put(b, format, v); });
  buf(b).push_back(')');
}

void format_std_sequence(void* b, std::string_view format, const unsigned char* bytes, std::size_t size) {
  const auto tag = static_cast<scalar_tag>(bytes[0]);
  const std::size_t n = (size - 1) / scalar_size(tag);
  switch (tag) {
    case scalar_tag::boolean: put_sequence<bool>(b, format, bytes + 1, n); break;
    case scalar_tag::character: put_sequence<char>(b, format, bytes + 1, n); break;
    case scalar_tag::i64: put_sequence<std::int64_t>(b, format, bytes + 1, n); break;
    case scalar_tag::u64: put_sequence<std::uint64_t>(b, format, bytes + 1, n); break;
    case scalar_tag::f32: put_sequence<float>(b, format, bytes + 1, n); break;
    case scalar_tag::f64: put_sequence<double>(b, format, bytes + 1, n); break;
  }
}

void format_std_error_code(void* b, std::string_view format, const unsigned char* bytes, std::size_t) {
  int value;
  const std::error_category* cat;
  std::memcpy(&value, bytes, sizeof value);
  std::memcpy(&cat, bytes + sizeof value, sizeof cat);
  // fmt 10's text for std::error_code: "<category>:<value>".
  put(b, format, fmt::format("{}:{}", cat->name(), value));
}

void format_std_path(void* b, std::string_view format, const unsigned char* bytes, std::size_t size) {
  put(b, format, std::filesystem::path(std::string(reinterpret_cast<const char*>(bytes), size)));
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
