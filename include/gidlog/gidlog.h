#pragma once
// gidlog: asynchronous structured logging for C++20 services on Linux. Everything a service
// needs comes from this header; a file that only logs can include <gidlog/log.h>, which it
// includes first (README "Performance": the cost of each).

// Levels, LOG_*, start/stop, named loggers, context fields.
#include <gidlog/log.h>

// gidlog::options and logger_options, and the sinks: the interface, console and file, rotating
// and JSON files, syslog, journald.
#include <gidlog/options.h>
#include <gidlog/sinks/console.h>
#include <gidlog/sinks/file.h>
#include <gidlog/sinks/journald.h>
#include <gidlog/sinks/json.h>
#include <gidlog/sinks/rotating_file.h>
#include <gidlog/sinks/sink.h>
#include <gidlog/sinks/syslog.h>

// W3C trace context (traceparent) for context_scope.
#include <gidlog/trace_context.h>

// The worker pool, limiter, task registry and leak checks a service logs with.
#include <gidlog/runtime.h>

// Every thread's state and stack, thread-leak checks, and the HTTP debug endpoint.
#include <gidlog/introspect.h>
