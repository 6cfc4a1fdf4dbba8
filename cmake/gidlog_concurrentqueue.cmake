# moodycamel::ConcurrentQueue (header-only), found the ways distributions ship it, as the imported
# target gidlog_concurrentqueue. The library links it privately, inside $<BUILD_INTERFACE:>, so it
# never appears in gidlog's exported interface: no public header includes it.
#
#   1. the upstream CMake package: target concurrentqueue::concurrentqueue, whose include
#      directory holds moodycamel/concurrentqueue.h (or concurrentqueue.h when added as a subdirectory);
#   2. Debian and Ubuntu (libconcurrentqueue-dev): <concurrentqueue/concurrentqueue.h>;
#   3. vcpkg, Conan and hand installs: <moodycamel/concurrentqueue.h>.
# src/runtime/concurrent_queue.h picks whichever of those spellings the include path resolves.
if(TARGET gidlog_concurrentqueue)
  return()
endif()
add_library(gidlog_concurrentqueue INTERFACE IMPORTED GLOBAL)
if(NOT TARGET concurrentqueue::concurrentqueue)
  find_package(concurrentqueue CONFIG QUIET)
endif()
if(TARGET concurrentqueue::concurrentqueue)
  message(STATUS "gidlog: moodycamel from the concurrentqueue::concurrentqueue target")
  target_link_libraries(gidlog_concurrentqueue INTERFACE concurrentqueue::concurrentqueue)
else()
  find_path(GIDLOG_CONCURRENTQUEUE_DIR NAMES concurrentqueue/concurrentqueue.h moodycamel/concurrentqueue.h
            DOC "Directory holding concurrentqueue/concurrentqueue.h or moodycamel/concurrentqueue.h")
  if(NOT GIDLOG_CONCURRENTQUEUE_DIR)
    message(FATAL_ERROR "gidlog needs moodycamel::ConcurrentQueue: install libconcurrentqueue-dev "
      "(Debian, Ubuntu), the upstream package (concurrentqueue::concurrentqueue), or set "
      "GIDLOG_CONCURRENTQUEUE_DIR to the directory that holds moodycamel/concurrentqueue.h")
  endif()
  message(STATUS "gidlog: moodycamel headers under ${GIDLOG_CONCURRENTQUEUE_DIR}")
  target_include_directories(gidlog_concurrentqueue SYSTEM INTERFACE ${GIDLOG_CONCURRENTQUEUE_DIR})
endif()
