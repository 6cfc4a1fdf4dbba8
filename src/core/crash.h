#pragma once
// The crash handler (src/core/crash.cpp): installed by start(), removed by stop().
#include <gidlog/options.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

void crash_install(const options& opt);
void crash_uninstall() noexcept;
void crash_after_fork_child() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
