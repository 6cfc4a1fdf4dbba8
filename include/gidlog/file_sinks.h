#pragma once
// Moved to <gidlog/sinks/rotating_file.h> (rotating_file_sink, rotation, compression) and
// <gidlog/sinks/json.h> (json_sink); this forwarding header goes away in 0.3.
#include <gidlog/sinks/json.h>
#include <gidlog/sinks/rotating_file.h>
// file_sinks.h included sink.h, so it declares console_sink and file_sink too.
#include <gidlog/sinks/console.h>
#include <gidlog/sinks/file.h>
