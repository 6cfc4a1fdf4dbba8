#pragma once
// gidlog's runtime tools: the worker pool and limiter a service logs with, the task registry
// (gidlog::tasks) and leak checks. Included by <gidlog/gidlog.h>; may also be included alone.
// The Catch2 assertions over the leak checks are in <gidlog/testing/catch2.h>, included by no
// umbrella (it needs Catch2).
#include <gidlog/runtime/limiter.h>
#include <gidlog/runtime/runtime_log.h>
#include <gidlog/runtime/source_location.h>
#include <gidlog/runtime/task.h>
#include <gidlog/runtime/task_registry.h>
#include <gidlog/runtime/worker_pool.h>
#include <gidlog/testing/leak_check.h>
