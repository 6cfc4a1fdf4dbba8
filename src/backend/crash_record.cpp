// The crash record's fields, for the writer: the function the crash handler registered (see
// crash_record.h). Registered on the thread that calls start(); called on the thread that writes
// the crash record.
#include "backend/crash_record.h"

#include <atomic>

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace {

// Set once per start() (always the same function), long before the record that needs it is
// published to the writer; acquire/release all the same, as it is read on another thread.
constinit std::atomic<crash_fields_fn> g_crash_fields{nullptr};

}  // namespace

void set_crash_record_fields(crash_fields_fn fn) noexcept { g_crash_fields.store(fn, std::memory_order_release); }

bool crash_record_fields(const site_info& site, std::span<const arg_value> args, std::vector<field>& fields,
                         fmt::memory_buffer& text) {
  const crash_fields_fn fn = g_crash_fields.load(std::memory_order_acquire);
  return fn != nullptr && fn(site, args, fields, text);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
