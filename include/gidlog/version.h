#pragma once
// gidlog's version, the one place it is written (CMakeLists.txt reads it from here).
#define GIDLOG_VERSION_MAJOR 0
#define GIDLOG_VERSION_MINOR 1
#define GIDLOG_VERSION_PATCH 0
#define GIDLOG_VERSION_STRING "0.1.0"
#define GIDLOG_VERSION (GIDLOG_VERSION_MAJOR * 10000 + GIDLOG_VERSION_MINOR * 100 + GIDLOG_VERSION_PATCH)
