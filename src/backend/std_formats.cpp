// Backend thread: formats the standard types LOG_* captures as small values
// (gidlog/detail/std_types.h), with fmt's own formatters where fmt has one, so the text is what
// fmt::format would make on the caller.
#include <chrono>
#include <cmath>
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
void put_duration(void* b, std::string_view format, Rep count, std::uint8_t period, const unsigned char* ratio) {
  using namespace std::chrono;
  switch (period) {
    case 1: put(b, format, duration<Rep, std::nano>(count)); return;
    case 2: put(b, format, duration<Rep, std::micro>(count)); return;
    case 3: put(b, format, duration<Rep, std::milli>(count)); return;
    case 4: put(b, format, duration<Rep>(count)); return;
    case 5: put(b, format, duration<Rep, std::ratio<60>>(count)); return;
    case 6: put(b, format, duration<Rep, std::ratio<3600>>(count)); return;
    default: break;
  }
  std::int64_t nd[2];
  std::memcpy(nd, ratio, sizeof nd);
  if (nd[0] == 86400 && nd[1] == 1) put(b, format, duration<Rep, std::ratio<86400>>(count));
  else if (nd[1] == 1) fmt::format_to(fmt::appender(buf(b)), "{}[{}]s", count, nd[0]);
  else fmt::format_to(fmt::appender(buf(b)), "{}[{}/{}]s", count, nd[0], nd[1]);
}

duration_head read_head(const unsigned char* bytes) {
  duration_head h;
  std::memcpy(&h, bytes, sizeof h);
  return h;
}
std::int64_t count_i(const duration_head& h) {
  std::int64_t v;
  std::memcpy(&v, h.count, 8);
  return v;
}
double count_d(const duration_head& h) {
  double v;
  std::memcpy(&v, h.count, 8);
  return v;
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
    case scalar_tag::i32: { std::int32_t v; std::memcpy(&v, p, 4); f(v); break; }
    case scalar_tag::u32: { std::uint32_t v; std::memcpy(&v, p, 4); f(v); break; }
  }
}

std::size_t scalar_size(scalar_tag tag) {
  switch (tag) {
    case scalar_tag::boolean: case scalar_tag::character: return 1;
    case scalar_tag::f32: case scalar_tag::i32: case scalar_tag::u32: return 4;
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
  const duration_head h = read_head(bytes);
  if (h.floating) put_duration(b, format, count_d(h), h.period, bytes + sizeof h);
  else put_duration(b, format, count_i(h), h.period, bytes + sizeof h);
}

void format_std_system_time(void* b, std::string_view format, const unsigned char* bytes, std::size_t) {
  using namespace std::chrono;
  const duration_head h = read_head(bytes);
  if (h.floating || h.period == 0 || h.period > 4) {
    // fmt has no formatter for these time points: to the nanosecond (a floating count) or second.
    std::int64_t nd[2] = {60, 1};
    if (h.period == 0) std::memcpy(nd, bytes + sizeof h, sizeof nd);
    if (h.period == 6) nd[0] = 3600;
    if (h.floating) {
      const double secs = h.period == 0 ? count_d(h) * double(nd[0]) / double(nd[1])
                          : h.period <= 4 ? count_d(h) / std::pow(1000.0, 4 - h.period)
                                          : count_d(h) * double(nd[0]);
      put(b, format, time_point<system_clock, nanoseconds>(duration_cast<nanoseconds>(duration<double>(secs))));
    } else {
      put(b, format, time_point<system_clock, seconds>(seconds(count_i(h) * nd[0] / nd[1])));
    }
    return;
  }
  const std::int64_t c = count_i(h);
  switch (h.period) {
    case 1: put(b, format, time_point<system_clock, nanoseconds>(nanoseconds(c))); break;
    case 2: put(b, format, time_point<system_clock, microseconds>(microseconds(c))); break;
    case 3: put(b, format, time_point<system_clock, milliseconds>(milliseconds(c))); break;
    default: put(b, format, time_point<system_clock, seconds>(seconds(c))); break;
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
    case scalar_tag::i32: put_sequence<std::int32_t>(b, format, bytes + 1, n); break;
    case scalar_tag::u32: put_sequence<std::uint32_t>(b, format, bytes + 1, n); break;
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
