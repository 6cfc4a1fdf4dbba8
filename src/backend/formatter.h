#pragma once
// Backend thread: turns a record into a line. Two parts:
//   message_format.h  the message: decoding the arguments, each call site's parsed format string
//   line_pattern.h    the line: options::pattern compiled once, the date cached per second
#include "backend/line_pattern.h"     // IWYU pragma: export
#include "backend/message_format.h"  // IWYU pragma: export
