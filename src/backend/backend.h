#pragma once
// The backend thread's life: started by gidlog::start(), drained and joined by stop().
#include <cstdint>
#include <memory>
#include <mutex>

#include <gidlog/options.h>

#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

class writer;

// Starts "gidlog-backend" on `q`, writing through `w` (built by start(), which validated it).
void backend_start(std::unique_ptr<writer> w, const options& opt, record_queue* q);
// After g_gen was set to 0 and every producer could see it: drains, flushes, joins.
void backend_stop() noexcept;
// Called in a fork() child: the backend thread does not exist there.
void backend_forget_after_fork() noexcept;
// The writer lock: held by the backend while it writes a batch, by the synchronous paths, and
// across fork() so a child never inherits a half-written sink.
std::mutex& writer_mutex() noexcept;


}  // namespace detail
}  // namespace v0
}  // namespace gidlog
