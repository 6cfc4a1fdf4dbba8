#pragma once
// Moved to <gidlog/sinks/journald.h>; this forwarding header goes away in 0.3.
#include <gidlog/sinks/journald.h>
// journald_sink.h included sink.h, so it declares console_sink and file_sink too.
#include <gidlog/sinks/console.h>
#include <gidlog/sinks/file.h>
