#pragma once
// gidlog: asynchronous structured logging for C++20 services on Linux. Everything a service
// needs comes from this header; a file that only logs can include <gidlog/log.h>, which it
// includes first (README "Performance": the cost of each).

// Levels, LOG_*, start/stop, named loggers, context fields.
#include <gidlog/log.h>

// gidlog::options and logger_options, and the sinks: file and console, rotating and JSON files,
// syslog, journald.
#include <gidlog/file_sinks.h>
#include <gidlog/journald_sink.h>
#include <gidlog/options.h>
#include <gidlog/sink.h>
#include <gidlog/syslog_sink.h>

// W3C trace context (traceparent) for context_scope.
#include <gidlog/trace_context.h>

// The worker pool, limiter, task registry and leak checks a service logs with.
#include <gidlog/runtime.h>

// Every thread's state and stack, thread-leak checks, and the HTTP debug endpoint.
#include <gidlog/introspect.h>
