#pragma once
// gidlog's runtime tools: the worker pool and limiter a service logs with, the task registry
// (gidlog::tasks) and leak checks. Included by <gidlog/gidlog.h>; may also be included alone.
#include <gidlog/runtime/leak_check.h>
#include <gidlog/runtime/limiter.h>
#include <gidlog/runtime/runtime_log.h>
#include <gidlog/runtime/source_location.h>
#include <gidlog/runtime/task.h>
#include <gidlog/runtime/tasks.h>
#include <gidlog/runtime/worker_pool.h>
