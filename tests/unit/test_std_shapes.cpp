// Recognising the standard types LOG_* captures without their headers (detail/std_shapes.h): by
// name, through the standard libraries' inline namespaces, never a look-alike; and
// LOG_*_EVERY's period in nanoseconds, exactly as duration_cast makes it.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory_resource>
#include <optional>
#include <ratio>
#include <system_error>
#include <vector>

#include <gidlog/gidlog.h>

using namespace gidlog::detail;

namespace lookalike {
// The members the capture of each standard type uses, in a namespace of their own.
struct duration {
  using rep = long;
  using period = std::milli;
  long count() const { return 1; }
};
template <class T>
struct optional {
  using value_type = T;
  bool has_value() const { return true; }
  T operator*() const { return T{}; }
};
template <class T>
struct vector {
  using value_type = T;
  const T* data() const { return nullptr; }
  std::size_t size() const { return 0; }
};
struct error_code {
  int value() const { return 0; }
  const std::error_category& category() const { return std::generic_category(); }
};
namespace std {
// A namespace of a user's called std, inside another: not the standard library's.
using duration = lookalike::duration;
struct error_code : lookalike::error_code {};
}  // namespace std
}  // namespace lookalike

TEST_CASE("same_std_name skips the libraries' inline and private namespaces", "[std_shapes]") {
  STATIC_REQUIRE(same_std_name("std::chrono::duration", "std::chrono::duration"));
  STATIC_REQUIRE(same_std_name("std::chrono::_V2::system_clock", "std::chrono::system_clock"));
  STATIC_REQUIRE(same_std_name("std::__1::chrono::duration", "std::chrono::duration"));
  STATIC_REQUIRE(same_std_name("std::__debug::vector", "std::vector"));
  STATIC_REQUIRE(!same_std_name("std::chrono::duration", "std::chrono::time_point"));
  STATIC_REQUIRE(!same_std_name("std::chrono", "std::chrono::duration"));
  STATIC_REQUIRE(!same_std_name("std::chrono::duration_values", "std::chrono::duration"));
  STATIC_REQUIRE(!same_std_name("lookalike::std::error_code", "std::error_code"));
  STATIC_REQUIRE(!same_std_name("", "std::vector"));
}

TEST_CASE("the captured standard types are recognised, their look-alikes are not", "[std_shapes]") {
  using namespace std::chrono;
  STATIC_REQUIRE(qualified_name<milliseconds>() == "std::chrono::duration");
  STATIC_REQUIRE(qualified_name<std::error_code>() == "std::error_code");
  STATIC_REQUIRE(std_duration<milliseconds>);
  STATIC_REQUIRE(std_duration<duration<double, std::ratio<7, 3>>>);
  STATIC_REQUIRE(std_time_point<system_clock::time_point>);
  STATIC_REQUIRE(std_time_point<steady_clock::time_point>);
  STATIC_REQUIRE(std_system_clock<system_clock>);
  STATIC_REQUIRE(!std_system_clock<steady_clock>);
  STATIC_REQUIRE(std_optional<std::optional<int>>);
  STATIC_REQUIRE(std_vector<std::vector<double>>);
  STATIC_REQUIRE(std_vector<std::pmr::vector<int>>);
  STATIC_REQUIRE(std_array<std::array<char, 3>>);
  STATIC_REQUIRE(std_error_code<std::error_code>);

  STATIC_REQUIRE(!std_duration<lookalike::duration>);
  STATIC_REQUIRE(!std_duration<lookalike::std::duration>);
  STATIC_REQUIRE(!std_optional<lookalike::optional<int>>);
  STATIC_REQUIRE(!std_vector<lookalike::vector<int>>);
  STATIC_REQUIRE(!std_error_code<lookalike::error_code>);
  STATIC_REQUIRE(!std_error_code<lookalike::std::error_code>);
  STATIC_REQUIRE(!std_duration<int> && !std_optional<int> && !std_vector<const char*> && !std_error_code<double>);
  // Each standard type is one shape only.
  STATIC_REQUIRE(!std_time_point<milliseconds> && !std_duration<system_clock::time_point>);
  STATIC_REQUIRE(!std_vector<std::array<int, 2>> && !std_array<std::vector<int>>);
  STATIC_REQUIRE(!std_optional<std::vector<int>> && !std_vector<std::optional<int>>);
  STATIC_REQUIRE(!std_error_code<std::error_condition>);
}

template <class D>
void check_ns(D d) {
  INFO(d.count());
  CHECK(nanoseconds_of(d) == std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

TEST_CASE("nanoseconds_of is duration_cast<nanoseconds>", "[std_shapes]") {
  using namespace std::chrono;
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{7}, std::int64_t{999},
                         std::int64_t{123'456'789}, std::int64_t{-86'400}}) {
    check_ns(nanoseconds(v));
    check_ns(microseconds(v));
    check_ns(milliseconds(v));
    check_ns(seconds(v));
    check_ns(minutes(v % 100'000));
    check_ns(hours(v % 1'000));
    check_ns(duration<int, std::ratio<1, 7>>(static_cast<int>(v % 1'000'000)));
    check_ns(duration<long, std::ratio<7, 3>>(v % 1'000'000));
    check_ns(duration<long, std::ratio<1, 3'000'000'000>>(v));
    check_ns(duration<unsigned, std::milli>(static_cast<unsigned>(v < 0 ? -v : v) % 1'000'000));
    check_ns(duration<double>(static_cast<double>(v) / 3));
    check_ns(duration<float, std::milli>(static_cast<float>(v) / 7));
  }
  STATIC_REQUIRE(nanoseconds_of(hours(2)) == 7'200'000'000'000);
}
