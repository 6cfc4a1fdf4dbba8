#pragma once
// The crash handler (src/core/crash.cpp): installed by start(), removed by stop().
#include <signal.h>

#include <span>
#include <vector>

#include <fmt/format.h>

#include <gidlog/options.h>

#include "backend/message_format.h"

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

// For the writer, on the thread that writes a record with fields: when `site` is the crash
// record's, fills `fields` with "crash" (what happened), "thread" (its name) and "frames" (a JSON
// array: addr, func, file, line, inlined, module, offset per frame) and returns true. Their text
// is kept in `text`. May throw (std::bad_alloc).
bool crash_record_fields(const site_info& site, std::span<const arg_value> args, std::vector<field>& fields,
                         fmt::memory_buffer& text);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
