#pragma once
// Where the threads gidlog starts for itself come from, for threads::profile(2)'s "created by
// gid-N at file:line". A thread registers itself when it starts and is forgotten when it ends.
// In core because every layer that starts a thread (the backend, the worker pools, the debug
// server) calls start_named_thread(); introspect only reads the table. Any thread.
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include <gidlog/runtime/source_location.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// "created by gid-N at file:line in function (what)" for the thread `tid`, or "".
std::string thread_origin_text(std::uint32_t tid);

// Starts a thread named `name` (at most 15 bytes) running `body`, registered as created by
// thread `creator` (0: the calling thread) at `loc` for `what` (e.g. "gidlog::debug_server").
std::thread start_named_thread(const char* name, const source_location& loc, std::string what, std::function<void()> body,
                               std::uint32_t creator = 0);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
