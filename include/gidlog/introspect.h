#pragma once
// gidlog's introspection: every thread's state and stack (gidlog::threads), thread-leak checks
// (thread_snapshot, find_thread_leaks) and the HTTP debug endpoint (debug_server). Included by
// <gidlog/gidlog.h>; may also be included alone. The SIGQUIT dump is options::dump_on_sigquit.
#include <gidlog/introspect/debug_server.h>
#include <gidlog/introspect/threads.h>
