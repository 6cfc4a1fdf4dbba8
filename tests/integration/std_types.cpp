// Common standard types logged without opt-in, each checked against what fmt::format makes of it
// (fmt's chrono, ranges and std formatters), or against the documented text where fmt 9 has no
// formatter (std::optional, std::error_code: fmt 10's text).
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fmt/std.h>

#include <gidlog/gidlog.h>

#include "log_capture.h"

namespace st {
enum class color : std::uint8_t { red = 1, green = 200 };
enum plain { zero, one };
enum class big : std::int64_t { min = INT64_MIN };
enum class named { on, off };
inline std::string_view format_as(named n) { return n == named::on ? "ON" : "OFF"; }
}  // namespace st

namespace {

struct session : gidlog_test::pattern_session {
  session() : pattern_session("%v") {}
};

// Travels as a value (kind custom or a built-in kind), not formatted on the caller.
template <class T>
constexpr bool captured = gidlog::detail::kind_of<T>() >= 0;

}  // namespace

TEST_CASE("chrono durations and time points", "[std_types]") {
  using namespace std::chrono;
  static_assert(captured<milliseconds> && captured<duration<double, std::micro>> && captured<system_clock::time_point> &&
                captured<steady_clock::time_point>);
  session s;
  const auto now = system_clock::now();
  const auto now_s = time_point_cast<seconds>(now);
  const auto st = steady_clock::now();
  const duration<int, std::ratio<1, 7>> sevenths(3);
  LOG_INFO("{} {} {} {} {} {}", milliseconds(42), nanoseconds(-5), duration<double>(1.5), minutes(3), hours(2), sevenths);
  LOG_INFO("{:%H:%M:%S} {:>8}", seconds(3725), microseconds(12));
  LOG_INFO("{} {} {}", now, now_s, st);
  LOG_INFO("{:%Y-%m-%d}", now_s);
  auto lines = s.lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == fmt::format("{} {} {} {} {} {}", milliseconds(42), nanoseconds(-5), duration<double>(1.5), minutes(3),
                                hours(2), sevenths));
  CHECK(lines[1] == fmt::format("{:%H:%M:%S} {:>8}", seconds(3725), microseconds(12)));
  CHECK(lines[2] == fmt::format("{} {} {}", now, now_s, st.time_since_epoch()));
  CHECK(lines[3] == fmt::format("{:%Y-%m-%d}", now_s));
}

TEST_CASE("optional, vector and array of built-in types", "[std_types]") {
  static_assert(captured<std::optional<int>> && captured<std::vector<double>> && captured<std::array<char, 3>>);
  session s;
  std::optional<int> some = 42, none;
  std::optional<double> d = 2.5;
  std::vector<int> v{1, -2, 3};
  std::vector<std::uint16_t> u{7, 65535};
  std::vector<float> f{0.1f, 1.5f};
  std::vector<double> empty;
  std::array<char, 3> a{'x', 'y', 'z'};
  std::array<bool, 2> b{true, false};
  LOG_INFO("{} {} {} {:>4}", some, none, d, some);
  LOG_INFO("{} {} {} {} {} {}", v, u, f, empty, a, b);
  LOG_INFO("{::x} {:n}", u, v);
  auto lines = s.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == fmt::format("optional({}) none optional({}) optional({:>4})", 42, 2.5, 42));
  CHECK(lines[1] == fmt::format("{} {} {} {} {} {}", v, u, f, empty, a, b));
  CHECK(lines[2] == fmt::format("{::x} {:n}", u, v));
}

TEST_CASE("enums, error_code, path, char8_t", "[std_types]") {
  static_assert(captured<st::color> && captured<st::plain> && !captured<st::named>);
  static_assert(captured<std::error_code> && captured<std::filesystem::path> && captured<std::u8string_view> &&
                captured<char8_t>);
  session s;
  const std::error_code ec = std::make_error_code(std::errc::no_such_file_or_directory);
  const std::error_code io = std::make_error_code(std::io_errc::stream);
  const std::filesystem::path p = "/tmp/some dir/f.txt";
  const std::u8string u8 = u8"gr\u00fc\u00dfe";
  LOG_INFO("{} {} {} {} {}", st::color::green, st::plain::one, st::big::min, st::named::off, st::color::red);
  LOG_INFO("{} {} {:>20}", ec, io, ec);
  LOG_INFO("{} {}", p, std::filesystem::path());
  LOG_INFO("{} {} {} {}", u8, std::u8string_view(u8), u8"lit", char8_t{'c'});
  auto lines = s.lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == fmt::format("{} {} {} {} {}", fmt::underlying(st::color::green), 1, INT64_MIN, "OFF", 1));
  CHECK(lines[1] == fmt::format("{}:{} {}:{} {:>20}", ec.category().name(), ec.value(), io.category().name(), io.value(),
                                fmt::format("{}:{}", ec.category().name(), ec.value())));
  CHECK(lines[2] == fmt::format("{} {}", p, std::filesystem::path()));
  const std::string text(reinterpret_cast<const char*>(u8.data()), u8.size());
  CHECK(lines[3] == fmt::format("{} {} {} {}", text, text, "lit", 'c'));
}

namespace lookalike {
// The members gidlog's capture of a duration, an optional and an error_code reads, on types of
// another library with formatters of their own: they are not taken for the standard types (which
// gidlog recognises by name as well, without including their headers) and log through their own
// formatters, on the caller, as they always did.
struct duration {
  using rep = long;
  using period = std::milli;
  long count() const { return 5; }
};
struct optional {
  using value_type = int;
  bool has_value() const { return true; }
  int operator*() const { return 6; }
};
struct error_code {
  int value() const { return 7; }
  const std::error_category& category() const { return std::generic_category(); }
};
}  // namespace lookalike

template <>
struct fmt::formatter<lookalike::duration> : fmt::formatter<int> {
  auto format(const lookalike::duration& d, format_context& ctx) const -> decltype(ctx.out()) {
    ctx.advance_to(fmt::format_to(ctx.out(), "d="));
    return fmt::formatter<int>::format(static_cast<int>(d.count()), ctx);
  }
};
template <>
struct fmt::formatter<lookalike::optional> : fmt::formatter<int> {
  auto format(const lookalike::optional& o, format_context& ctx) const -> decltype(ctx.out()) {
    ctx.advance_to(fmt::format_to(ctx.out(), "o="));
    return fmt::formatter<int>::format(*o, ctx);
  }
};
template <>
struct fmt::formatter<lookalike::error_code> : fmt::formatter<int> {
  auto format(const lookalike::error_code& e, format_context& ctx) const -> decltype(ctx.out()) {
    ctx.advance_to(fmt::format_to(ctx.out(), "e="));
    return fmt::formatter<int>::format(e.value(), ctx);
  }
};

TEST_CASE("types shaped like the captured ones log through their own formatters", "[std_types]") {
  static_assert(!captured<lookalike::duration> && !captured<lookalike::optional> && !captured<lookalike::error_code>);
  session s;
  LOG_INFO("{} {:>3} {} {}", lookalike::duration{}, lookalike::optional{}, lookalike::error_code{},
           std::chrono::milliseconds(5));
  auto lines = s.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "d=5 o=  6 e=7 5ms");
}
