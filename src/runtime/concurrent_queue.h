#pragma once
// moodycamel::ConcurrentQueue and its semaphore, under whichever name the platform ships them
// (cmake/gidlog_concurrentqueue.cmake finds the directory). Internal to the library: only the
// worker pool (pool_core.h) uses it, hence in runtime/.
#if __has_include(<concurrentqueue/concurrentqueue.h>)
#include <concurrentqueue/concurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>  // after concurrentqueue.h: it needs its macros
#elif __has_include(<moodycamel/concurrentqueue.h>)
#include <moodycamel/concurrentqueue.h>
#include <moodycamel/lightweightsemaphore.h>
#else
#include <concurrentqueue.h>
#include <lightweightsemaphore.h>
#endif
