#pragma once
// The span a worker_pool or limiter job runs in: when the submitter's context (installed around
// the job just before) carries a W3C trace context, a child of it: a new span_id, the submitter's
// span_id as parent_span_id. So a request's hops form a tree. Nothing for a job without one.
#include <optional>

#include <gidlog/context.h>
#include <gidlog/trace_context.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

class job_span {
 public:
  job_span() {
    const trace_context submitter = trace_context::current();
    if (submitter.valid()) scope_.emplace(submitter.child());
  }

 private:
  std::optional<context_scope> scope_;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
