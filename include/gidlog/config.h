#pragma once
// Compile-time switches. Each one uses the provided definition when there is one (pass -D or
// set the matching CMake cache variable) and falls back to the default written here.

// GIDLOG_ACTIVE_LEVEL: calls below this level vanish at compile time and their arguments are
// never evaluated. 0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 fatal, 6 off (every call but
// LOG_FATAL, which is never compiled out). CMake: GIDLOG_ACTIVE_LEVEL.
#ifndef GIDLOG_ACTIVE_LEVEL
#define GIDLOG_ACTIVE_LEVEL 0
#endif

// GIDLOG_RECORD_SIZE: bytes per queue record (header included), 64 or 128. Arguments that do not
// fit in the record's inline payload go to a heap block the backend frees. CMake: GIDLOG_RECORD_SIZE.
#ifndef GIDLOG_RECORD_SIZE
#define GIDLOG_RECORD_SIZE 64
#endif

// GIDLOG_NO_SHORT_MACROS: define to get only GIDLOG_INFO(...) and friends, not LOG_INFO(...).
// CMake: GIDLOG_NO_SHORT_MACROS.

static_assert(GIDLOG_RECORD_SIZE == 64 || GIDLOG_RECORD_SIZE == 128, "GIDLOG_RECORD_SIZE must be 64 or 128");
static_assert(GIDLOG_ACTIVE_LEVEL >= 0 && GIDLOG_ACTIVE_LEVEL <= 6, "GIDLOG_ACTIVE_LEVEL must be 0..6");
