#pragma once
// Moved to <gidlog/runtime/task_registry.h> (gidlog::tasks, task_state), with the exceptions now
// beside their owners: <gidlog/runtime/task.h> (task_cancelled, task_timeout, would_deadlock) and
// <gidlog/runtime/worker_pool.h> (pool_closed, pool_full); this forwarding header goes away in 0.3.
#include <gidlog/runtime/task.h>
#include <gidlog/runtime/task_registry.h>
#include <gidlog/runtime/worker_pool.h>
