// expect-compiles: <gidlog/log.h> alone serves a file that logs, without the standard headers it leaves to the files that need them; the standard types included after it are still captured.
#include <gidlog/log.h>

// libstdc++'s guards: log.h must not include <chrono> (or its bits/chrono.h), <functional>,
// <memory> or <filesystem> (they cost every file that logs; README "Performance").
#if defined(__GLIBCXX__) && (defined(_GLIBCXX_CHRONO) || defined(_GLIBCXX_CHRONO_H) || defined(_GLIBCXX_FUNCTIONAL) || \
                             defined(_GLIBCXX_MEMORY) || defined(_GLIBCXX_FILESYSTEM))
#error "<gidlog/log.h> includes a standard header it should leave to the files that use it"
#endif

#include <array>
#include <chrono>
#include <optional>
#include <system_error>
#include <vector>

namespace {
template <class T>
constexpr bool captured_as_value = gidlog::detail::kind_of<T>() == static_cast<int>(gidlog::detail::arg_kind::custom);
static_assert(captured_as_value<std::chrono::milliseconds> && captured_as_value<std::chrono::system_clock::time_point> &&
              captured_as_value<std::optional<int>> && captured_as_value<std::vector<double>> &&
              captured_as_value<std::array<char, 2>> && captured_as_value<std::error_code>);
}  // namespace

void f(gidlog::logger& lg, int n, std::chrono::milliseconds ms, const std::optional<int>& o) {
  gidlog::start();
  gidlog::context_scope scope{{"req", "r-1"}, {"n", n}};
  LOG_INFO("n={} ms={} o={}", n, ms, o);
  LOG_WARN_IF(n > 3, "big {}", n);
  LOG_ERROR_EVERY_N(10, "every 10th {}", n);
  LOG_DEBUG_FIRST_N(2, "first {}", n);
  LOG_INFO_EVERY(std::chrono::seconds(1), "once a second {}", n);
  LOG_INFO_EVERY(ms, "{named}", n);
  LOGGER_INFO(lg, "{}", gidlog::gid());
  LOGGER_WARN_EVERY(lg, std::chrono::duration<double>(0.5), "half a second");
  LOG_INFO(gidlog::runtime_format("{}"), n);
  gidlog::flush();
  gidlog::stop();
}
