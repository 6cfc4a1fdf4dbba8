#pragma once
// Catch2 2.x assertions over gidlog::find_leaks. Use them on the test thread only (Catch2 2.x
// assertions are not thread-safe). On failure the report, with the creation site of every
// leaked task, is printed with the assertion.
//
//   TEST_CASE("handler leaves nothing behind") {
//     auto snap = gidlog::leak_snapshot::take();
//     handle_one_request();
//     GIDLOG_CHECK_NO_LEAKS(snap);               // or GIDLOG_REQUIRE_NO_LEAKS(snap, 200ms)
//   }
//
// An optional second argument is the timeout passed to find_leaks (default 5 s).
#include <catch2/catch.hpp>
#include <gidlog/testing/leak_check.h>

// Asserts (CHECK or REQUIRE) that the report `expr` is empty, printing it when it is not.
#define GIDLOG_DETAIL_EXPECT_NO_REPORT_(assertion, expr) \
  do {                                                   \
    const std::string gidlog_report_ = (expr);           \
    INFO(gidlog_report_);                                \
    assertion(gidlog_report_.empty());                   \
  } while (false)

#define GIDLOG_CHECK_NO_LEAKS(...) GIDLOG_DETAIL_EXPECT_NO_REPORT_(CHECK, ::gidlog::find_leaks(__VA_ARGS__))
#define GIDLOG_REQUIRE_NO_LEAKS(...) GIDLOG_DETAIL_EXPECT_NO_REPORT_(REQUIRE, ::gidlog::find_leaks(__VA_ARGS__))

// The same over gidlog::find_thread_leaks: every thread started after the snapshot must have
// exited. Arguments after the snapshot: timeout (default 5 s), then thread-name prefixes to ignore.
//
//   auto snap = gidlog::thread_snapshot::take();
//   run_code_under_test();
//   GIDLOG_CHECK_NO_THREAD_LEAKS(snap);        // or (snap, 1s, ignored_name_prefixes)
#include <gidlog/introspect/threads.h>

#define GIDLOG_CHECK_NO_THREAD_LEAKS(...) GIDLOG_DETAIL_EXPECT_NO_REPORT_(CHECK, ::gidlog::find_thread_leaks(__VA_ARGS__))
#define GIDLOG_REQUIRE_NO_THREAD_LEAKS(...) GIDLOG_DETAIL_EXPECT_NO_REPORT_(REQUIRE, ::gidlog::find_thread_leaks(__VA_ARGS__))
