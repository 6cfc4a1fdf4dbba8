#pragma once
// options::dump_on_sigquit: the SIGQUIT handler only writes one byte into a pipe; a thread named
// "gidlog-sigquit" reads it and writes threads::profile(2) and tasks::profile(2) to stderr and to
// the log. Installed by gidlog::start(), removed by gidlog::stop() (both under the lifecycle lock).
#include <string>

#include <gidlog/runtime/source_location.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// Installs the handler and starts the dump thread; the previous SIGQUIT action is kept and put
// back by sigquit_dump_uninstall(). When the pipe or the thread cannot be made, says so on stderr
// and leaves SIGQUIT alone. Idempotent.
void sigquit_dump_install(const source_location& loc = source_location::current()) noexcept;
// Restores the previous action and joins the dump thread (after a dump in progress). Idempotent.
void sigquit_dump_uninstall() noexcept;

// The dump's text: a heading, threads::profile(2), tasks::profile(2).
std::string sigquit_dump_text();

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
