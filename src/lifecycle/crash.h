#pragma once
// The crash handler (src/lifecycle/crash.cpp): installed by start(), removed by stop().
#include <signal.h>

#include <gidlog/options.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// options::stop_signals whose disposition is still SIG_DFL (the ones crash_install() takes), none
// without options::crash_handler. start() blocks them on the backend thread, which cannot drain
// while it may be inside a sink.
void stop_signals_to_install(const options& opt, sigset_t& set) noexcept;
void crash_install(const options& opt);
void crash_uninstall() noexcept;
void crash_after_fork_child() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
