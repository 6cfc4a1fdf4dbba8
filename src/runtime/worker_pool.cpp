// worker_pool: the public class (<gidlog/runtime/worker_pool.h>), a handle on its pool_core. Any
// thread. Submitters (any thread) enqueue through pool_enqueue (pool_submit.cpp); worker threads
// run worker_main (pool_workers.cpp). See pool_core.h for the queue and the accounting.
#include <memory>
#include <string>
#include <utility>

#include "runtime/pool_core.h"
#include "runtime/runtime_log.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

pool_core& core_of(worker_pool& p) noexcept { return *p.core_; }

}  // namespace detail

worker_pool::worker_pool(pool_options opt) : core_(std::make_shared<detail::pool_core>(std::move(opt))) {
  try {
    core_->start(core_->opt_.threads);
  } catch (...) {
    // Workers that did start hold the core: let them exit and join them before unwinding.
    core_->close(close_mode::drain);
    core_->join();
    throw;
  }
}

worker_pool::worker_pool(std::string name, std::size_t threads)
    : worker_pool(pool_options{.name = std::move(name), .threads = threads}) {}

worker_pool::~worker_pool() {
  if (!core_) return;
  if (detail::current_worker_pool == core_.get()) {
    GIDLOG_RT_ERROR_("{}: destroyed from its own worker; closing, workers finish the queue detached",
                     core_->owner_);
    core_->close(close_mode::drain);
    core_->detach_all();
    return;
  }
  core_->join();
}

void worker_pool::resize(std::size_t n) { core_->resize(n); }
std::size_t worker_pool::size() const noexcept { return core_->target_.load(std::memory_order_relaxed); }
std::size_t worker_pool::queued() const noexcept {
  return core_->count_queue().queued;
}
std::size_t worker_pool::running() const noexcept { return core_->running(); }
pool_stats worker_pool::stats() const { return core_->stats(); }
const std::string& worker_pool::name() const noexcept { return core_->opt_.name; }
bool worker_pool::closed() const noexcept { return core_->closed_.load(std::memory_order_acquire); }
void worker_pool::close(close_mode mode) { core_->close(mode); }
void worker_pool::join() { core_->join(); }
bool worker_pool::close_and_join_for(std::chrono::nanoseconds timeout, close_mode mode) {
  return core_->close_and_join_for(timeout, mode);
}

}  // namespace v0
}  // namespace gidlog
