#pragma once
// gidlog::limiter: at most `limit` jobs at once, the Go buffered-channel-of-tokens limiter done
// right. go(f) waits for a token, then runs f on a new thread (Go's `go` statement) or on the
// worker_pool given in limiter_options, and gives the token back when f returns or throws.
//
//   gidlog::limiter db("db", 100);
//   db.go([q] { query(q); });                       // blocks while 100 queries run
//   if (!db.try_go([q] { query(q); })) shed_load();  // never blocks
//   db.go_for([q] { query(q); }, 50ms);             // waits at most 50 ms for a token
//   { auto tok = db.acquire(); query_inline(); }    // RAII token on the calling thread
//   db.wait();                                      // every go'd job has finished
//
// Admission is FIFO with no barging: a token freed while callers wait goes to the caller that has
// waited longest; try_go/try_acquire succeed only when nobody waits.
//
// Failure: an exception escaping f is logged at ERROR (with the job id, the limiter's name and
// what()) and the token is returned; the process carries on (the Go example's recover path
// called log.Fatalf). go/try_go/go_for throw std::system_error if no thread can be started, and
// pool_closed if the given pool is closed; the token is returned then too.
//
// Threading: every member may be called from any thread. The limiter must outlive its jobs'
// admission calls; the destructor waits for every go'd job (wait()). Tokens may outlive it.
//
// Each go'd job is registered in gidlog::tasks ("waiting for token", then "running") with the
// source_location of the go call.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <gidlog/runtime/source_location.h>
#include <gidlog/runtime/task.h>

namespace gidlog {
inline namespace v0 {

class worker_pool;

struct limiter_options {
  // Run jobs on this pool instead of one new thread per job. Must outlive the limiter. The pool's
  // own queue and overflow policy apply after a token was taken.
  worker_pool* pool = nullptr;
  // Register go'd jobs in gidlog::tasks (also subject to tasks::set_registration).
  bool register_tasks = true;
};

namespace detail {
class limiter_core;

struct limiter_fn {
  virtual ~limiter_fn() = default;
  virtual void operator()() = 0;
};
template <class F>
struct limiter_fn_impl final : limiter_fn {
  template <class G>
  explicit limiter_fn_impl(G&& g) : f(std::forward<G>(g)) {}
  void operator()() override { static_cast<void>(std::invoke(f)); }
  F f;
};

enum class admit : std::uint8_t { block, try_only, until };
// Takes a token (per mode), registers the job, starts it. False when no token was taken.
bool limiter_go(const std::shared_ptr<limiter_core>& c, std::unique_ptr<limiter_fn> f, const source_location& loc,
                admit mode, std::chrono::steady_clock::time_point deadline);
}  // namespace detail

class limiter {
 public:
  // A held token; gives it back when destroyed or release()d. Movable, not copyable.
  class token {
   public:
    token() noexcept = default;
    token(token&& o) noexcept : core_(std::move(o.core_)) {}
    token& operator=(token&& o) noexcept {
      if (this != &o) {
        release();
        core_ = std::move(o.core_);
      }
      return *this;
    }
    token(const token&) = delete;
    token& operator=(const token&) = delete;
    ~token() { release(); }

    // True while this object holds a token.
    explicit operator bool() const noexcept { return core_ != nullptr; }
    // Gives the token back now (to the longest waiter, if any). No effect on an empty token.
    void release() noexcept;

   private:
    friend class limiter;
    explicit token(std::shared_ptr<detail::limiter_core> c) noexcept : core_(std::move(c)) {}
    std::shared_ptr<detail::limiter_core> core_;
  };

  // Throws std::invalid_argument for limit == 0 or an empty name.
  limiter(std::string name, std::size_t limit, limiter_options opt = {});
  // Waits for every go'd job (wait()).
  ~limiter();
  limiter(const limiter&) = delete;
  limiter& operator=(const limiter&) = delete;

  // Blocks until a token is free (FIFO), then starts f and returns; f runs with the token held.
  //   lim.go([conn] { conn->sync(); });
  template <class F>
  void go(F&& f, source_location loc = source_location::current()) {
    detail::limiter_go(core_, make(std::forward<F>(f)), loc, detail::admit::block, {});
  }

  // Starts f only if a token is free now and nobody waits; false otherwise (logged at WARN).
  template <class F>
  bool try_go(F&& f, source_location loc = source_location::current()) {
    return detail::limiter_go(core_, make(std::forward<F>(f)), loc, detail::admit::try_only, {});
  }

  // Waits at most max_wait for a token; false (logged at WARN) if none came in time.
  template <class F, class Rep, class Period>
  bool go_for(F&& f, const std::chrono::duration<Rep, Period>& max_wait,
              source_location loc = source_location::current()) {
    return detail::limiter_go(core_, make(std::forward<F>(f)), loc, detail::admit::until,
                              detail::deadline_after(max_wait));
  }

  // Blocks until a token is free (FIFO) and returns it, for work on the calling thread.
  //   { auto t = lim.acquire(); call_dependency(); }   // token back at the brace
  token acquire();
  // A token if one is free now and nobody waits; an empty token otherwise.
  token try_acquire();
  // Waits at most max_wait; an empty token on timeout.
  template <class Rep, class Period>
  token try_acquire_for(const std::chrono::duration<Rep, Period>& max_wait) {
    return acquire_until(detail::deadline_after(max_wait));
  }

  // Blocks until every job started by go/try_go/go_for so far (and any they start) has finished
  // and given its token back. Throws would_deadlock when called from one of this limiter's jobs.
  void wait();

  // Changes the number of tokens. Raising it admits waiters at once; lowering it lets running
  // jobs finish (in_flight() may exceed limit() until they do). Throws std::invalid_argument
  // for 0. Logged at INFO.
  void set_limit(std::size_t n);

  std::size_t limit() const noexcept;
  std::size_t in_flight() const noexcept;  // tokens held now (jobs and acquire()d tokens)
  std::size_t waiting() const noexcept;    // callers waiting for a token now
  const std::string& name() const noexcept;

 private:
  template <class F>
  static std::unique_ptr<detail::limiter_fn> make(F&& f) {
    static_assert(std::is_invocable_v<std::decay_t<F>&>, "a limiter job must be callable with no argument");
    return std::make_unique<detail::limiter_fn_impl<std::decay_t<F>>>(std::forward<F>(f));
  }
  token acquire_until(std::chrono::steady_clock::time_point deadline);

  std::shared_ptr<detail::limiter_core> core_;
};

}  // namespace v0
}  // namespace gidlog
