// limiter: FIFO token admission (callers of go/acquire, any thread) and the job threads it
// starts (or the pool jobs it posts).
#include <gidlog/runtime/limiter.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "runtime/job_span.h"
#include "runtime/pool_core.h"
#include "runtime/registry.h"
#include "runtime/runtime_log.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

class limiter_core;
namespace {
// The limiter whose job the calling thread runs, or nullptr.
thread_local const limiter_core* current_limiter = nullptr;
}  // namespace

class limiter_core : public std::enable_shared_from_this<limiter_core> {
 public:
  limiter_core(std::string name, std::size_t limit, limiter_options opt)
      : name_(std::move(name)), owner_(intern_name("limiter \"" + name_ + "\"")), opt_(opt), limit_(limit) {}

  // A caller waiting for a token; lives on its stack. Granted tokens are handed over directly
  // (in_flight_ unchanged), so a newcomer can never take a token a waiter was promised.
  struct waiter {
    std::condition_variable cv;
    bool granted = false;
    waiter* prev = nullptr;
    waiter* next = nullptr;
  };

  bool acquire(admit mode, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lk(mu_);
    if (head_ == nullptr && in_flight_ < limit_) {
      ++in_flight_;
      return true;
    }
    if (mode == admit::try_only) return false;
    if (mode == admit::until && deadline == std::chrono::steady_clock::time_point::max()) mode = admit::block;
    waiter w;
    w.prev = tail_;
    (tail_ != nullptr ? tail_->next : head_) = &w;
    tail_ = &w;
    ++waiting_;
    if (mode == admit::until) {
      if (!w.cv.wait_until(lk, deadline, [&w] { return w.granted; })) {
        unlink(&w);
        return false;
      }
    } else {
      w.cv.wait(lk, [&w] { return w.granted; });
    }
    return true;
  }

  void release() noexcept {
    std::lock_guard g(mu_);
    if (head_ != nullptr && in_flight_ <= limit_) {
      grant_front();  // hand over: in_flight_ stays
    } else {
      --in_flight_;
    }
  }

  void set_limit(std::size_t n) {
    std::lock_guard g(mu_);
    const std::size_t old = limit_;
    limit_ = n;
    while (head_ != nullptr && in_flight_ < limit_) {
      ++in_flight_;
      grant_front();
    }
    GIDLOG_RT_INFO_("{}: limit changed from {} to {} ({} in flight, {} waiting)", owner_, old, n, in_flight_,
                    waiting_);
  }

  void job_started() {
    std::lock_guard g(mu_);
    ++jobs_;
  }

  // The last thing a job thread does; its std::thread is joined by the next reap.
  void job_finished(std::uint64_t thread_key) noexcept {
    std::lock_guard g(mu_);
    if (thread_key != 0) finished_.push_back(thread_key);
    if (--jobs_ == 0) jobs_cv_.notify_all();
  }

  void add_thread(std::uint64_t key, std::thread t) {
    std::lock_guard g(mu_);
    threads_.emplace(key, std::move(t));
  }

  // Joins the threads of finished jobs (they have returned from their function or are about to).
  void reap() {
    std::vector<std::thread> done;
    {
      std::lock_guard g(mu_);
      for (std::uint64_t key : finished_) {
        auto it = threads_.find(key);
        if (it != threads_.end()) {
          done.push_back(std::move(it->second));
          threads_.erase(it);
        }
      }
      finished_.clear();
    }
    for (std::thread& t : done) {
      if (t.get_id() == std::this_thread::get_id()) {
        t.detach();  // a job reaping its own thread: it is about to exit
      } else {
        t.join();
      }
    }
  }

  void wait() {
    if (current_limiter == this) {
      throw would_deadlock(std::string("gidlog::limiter::wait: called from a job of ") + owner_ +
                           " would wait for itself");
    }
    {
      std::unique_lock lk(mu_);
      jobs_cv_.wait(lk, [this] { return jobs_ == 0; });
    }
    reap();
  }

  std::size_t limit() const {
    std::lock_guard g(mu_);
    return limit_;
  }
  std::size_t in_flight() const {
    std::lock_guard g(mu_);
    return in_flight_;
  }
  std::size_t waiting() const {
    std::lock_guard g(mu_);
    return waiting_;
  }

  const std::string name_;
  const char* const owner_;
  const limiter_options opt_;
  std::mutex start_mu_;  // a new job thread waits on it until its std::thread is stored

 private:
  void unlink(waiter* w) noexcept {
    (w->prev != nullptr ? w->prev->next : head_) = w->next;
    (w->next != nullptr ? w->next->prev : tail_) = w->prev;
    --waiting_;
  }
  void grant_front() noexcept {
    waiter* w = head_;
    unlink(w);
    w->granted = true;
    w->cv.notify_one();  // under mu_: w cannot leave before we unlock
  }

  mutable std::mutex mu_;
  std::size_t limit_;
  std::size_t in_flight_ = 0;
  std::size_t waiting_ = 0;
  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
  std::size_t jobs_ = 0;
  std::condition_variable jobs_cv_;
  std::map<std::uint64_t, std::thread> threads_;
  std::vector<std::uint64_t> finished_;
};

namespace {

struct go_context {
  std::shared_ptr<limiter_core> core;
  std::unique_ptr<limiter_fn> fn;
  task_entry* entry = nullptr;
  std::uint64_t id = 0;
  std::uint32_t submitter = 0;
  std::int64_t admitted_ticks = 0;
  source_location loc;
  // The caller of go(): installed by the job's own thread; on a pool, the pool job carries it.
  gidlog::context context = gidlog::context::get();
};

// Runs a go'd job on the current thread with its token held; gives everything back on every path.
void run_go(go_context& c, std::uint64_t thread_key) noexcept {
  limiter_core& core = *c.core;
  const std::uint32_t me = gid();
  set_task_executor(c.entry, me);
  set_task_state(c.entry, task_state::running);
  const std::int64_t t0 = now_ticks();
  GIDLOG_RT_TRACE_("{owner}: job {job} started on gid-{executor}, submitted by gid-{submitter}, waited {wait_us} us", core.owner_, c.id, me,
                   c.submitter, ticks_to_ns(t0 - c.admitted_ticks) / 1000);
  bool ok = true;
  const limiter_core* outer = current_limiter;
  current_limiter = &core;
  try {
    (*c.fn)();
  } catch (...) {
    ok = false;
    GIDLOG_RT_ERROR_("{}: job {} on gid-{} threw: {} (started at {}:{}); token returned", core.owner_, c.id, me,
                     exception_text(std::current_exception()), c.loc.file_name(), c.loc.line());
  }
  current_limiter = outer;
  try {
    c.fn.reset();  // what the job captured is released before wait() can return
  } catch (...) {
  }
  GIDLOG_RT_TRACE_("{owner}: job {job} finished on gid-{executor} in {run_us} us ({outcome}), submitted by gid-{submitter}", core.owner_, c.id, me,
                   ticks_to_ns(now_ticks() - t0) / 1000, ok ? "ok" : "threw", c.submitter);
  unregister_task(c.entry);
  c.entry = nullptr;
  core.release();
  core.job_finished(thread_key);
}

// A limiter job queued on a worker_pool; it owns the registry slot, the pool only updates it.
class limiter_pool_job final : public job {
 public:
  explicit limiter_pool_job(go_context c)
      : job(false, 1, sizeof(limiter_pool_job), alignof(limiter_pool_job)), c_(std::move(c)) {
    entry_ = c_.entry;  // limiter registration off: none, and the pool registers the job
    entry_kind_ = entry_ != nullptr ? entry_kind::borrowed : entry_kind::none;
    detached_ = true;
  }
  bool invoke() noexcept override {
    if (entry_kind_ == entry_kind::borrowed) {  // run_go frees the limiter's slot
      entry_ = nullptr;
      entry_kind_ = entry_kind::none;
    }
    run_go(c_, 0);
    return true;
  }

 private:
  go_context c_;
};

}  // namespace

bool limiter_go(const std::shared_ptr<limiter_core>& core, std::unique_ptr<limiter_fn> fn,
                const source_location& loc, admit mode, std::chrono::steady_clock::time_point deadline) {
  limiter_core& c = *core;
  c.reap();
  go_context ctx{core, std::move(fn), nullptr, next_task_id(), gid(), now_ticks(), loc};
  if (c.opt_.register_tasks) {
    ctx.entry = register_task(c.owner_, task_state::waiting_for_token, loc, ctx.id, ctx.submitter, ctx.admitted_ticks);
  }
  if (!c.acquire(mode, deadline)) {
    unregister_task(ctx.entry);
    GIDLOG_RT_WARN_("{}: job {} from gid-{} not started: {} (limit {}, {} in flight), at {}:{}", c.owner_, ctx.id,
                    ctx.submitter, mode == admit::try_only ? "no free token" : "timed out waiting for a token",
                    c.limit(), c.in_flight(), loc.file_name(), loc.line());
    return false;
  }
  ctx.admitted_ticks = now_ticks();
  c.job_started();
  task_entry* entry = ctx.entry;
  try {
    if (worker_pool* pool = c.opt_.pool) {
      auto* j = new limiter_pool_job(std::move(ctx));
      job_guard g{j, 1};
      pool_enqueue(core_of(*pool), j, loc, false);
      g.j = nullptr;
    } else {
      // The key is the job id: unique, and known before the thread exists.
      const std::uint64_t key = ctx.id;
      std::unique_lock start_lock(c.start_mu_);
      std::thread t([ctx = std::move(ctx), key, &c]() mutable {
        { std::lock_guard wait_for_registration(c.start_mu_); }
        const std::string tname = ctx.core->name_.substr(0, 10) + "-go";
        ::pthread_setname_np(::pthread_self(), tname.c_str());
        const context_scope job_context{ctx.context};
        const job_span span;  // on a pool, the pool's run_job makes the span instead
        GIDLOG_RT_DEBUG_("{owner}: job {job} thread gid-{executor} started", ctx.core->owner_, ctx.id, gid());
        run_go(ctx, key);
      });
      c.add_thread(key, std::move(t));
    }
  } catch (...) {
    // Nothing was started: give back what we took.
    unregister_task(entry);
    c.release();
    c.job_finished(0);
    throw;
  }
  return true;
}

}  // namespace detail

limiter::limiter(std::string name, std::size_t limit, limiter_options opt) {
  if (name.empty()) throw std::invalid_argument("gidlog::limiter: name must not be empty");
  if (limit == 0) throw std::invalid_argument("gidlog::limiter: limit must be at least 1");
  core_ = std::make_shared<detail::limiter_core>(std::move(name), limit, opt);
}

limiter::~limiter() {
  if (core_) core_->wait();
}

void limiter::token::release() noexcept {
  if (core_) {
    core_->release();
    core_.reset();
  }
}

limiter::token limiter::acquire() {
  core_->acquire(detail::admit::block, {});
  return token(core_);
}

limiter::token limiter::try_acquire() {
  if (!core_->acquire(detail::admit::try_only, {})) return token();
  return token(core_);
}

limiter::token limiter::acquire_until(std::chrono::steady_clock::time_point deadline) {
  if (!core_->acquire(detail::admit::until, deadline)) return token();
  return token(core_);
}

void limiter::wait() { core_->wait(); }

void limiter::set_limit(std::size_t n) {
  if (n == 0) throw std::invalid_argument("gidlog::limiter::set_limit: limit must be at least 1");
  core_->set_limit(n);
}

std::size_t limiter::limit() const noexcept { return core_->limit(); }
std::size_t limiter::in_flight() const noexcept { return core_->in_flight(); }
std::size_t limiter::waiting() const noexcept { return core_->waiting(); }
const std::string& limiter::name() const noexcept { return core_->name_; }

}  // namespace v0
}  // namespace gidlog
