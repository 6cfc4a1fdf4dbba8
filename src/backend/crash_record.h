#pragma once
// The crash record's fields, for the writer (src/backend/writer.cpp) on the thread that writes a
// FATAL record: the backend thread, or the crashing thread when no backend runs.
//
// The crash handler (src/lifecycle/, the top layer) makes the crash record and is the only one
// that can read its argument, and reading it needs the symbolizer (src/introspect/, above the
// backend too). So the handler registers the function that turns the record into fields when it
// is installed, and the writer calls it through here: the backend never includes either layer.
#include <span>
#include <vector>

#include <fmt/format.h>

#include <gidlog/detail/record.h>

#include "backend/message_format.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

// When `site` is the crash record's: fills `fields` with "crash", "thread" and "frames", keeps
// their text in `text` and returns true. May throw (std::bad_alloc).
using crash_fields_fn = bool (*)(const site_info& site, std::span<const arg_value> args, std::vector<field>& fields,
                                 fmt::memory_buffer& text);

// Called by crash_install() (src/lifecycle/crash.cpp) before any crash record can exist.
void set_crash_record_fields(crash_fields_fn fn) noexcept;

// The registered function's answer; false while none is registered (then no crash record exists).
bool crash_record_fields(const site_info& site, std::span<const arg_value> args, std::vector<field>& fields,
                         fmt::memory_buffer& text);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
