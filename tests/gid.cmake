# Extra targets for tests/unit/test_gid_logging.cpp (included from tests/CMakeLists.txt).
if(TARGET gidlog_unit_tests)
  # A plugin that logs through the test executable's logger: it is built from the same source
  # with GIDLOG_TEST_DL_LOGGING_LIBRARY, links no copy of gidlog, and takes gidlog's symbols
  # (logger state, gid layer) from the executable, which therefore exports them.
  add_library(gidlog_test_dl_logging MODULE ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_gid_logging.cpp)
  target_compile_definitions(gidlog_test_dl_logging PRIVATE GIDLOG_TEST_DL_LOGGING_LIBRARY=1
    $<TARGET_PROPERTY:gidlog,INTERFACE_COMPILE_DEFINITIONS>)
  target_include_directories(gidlog_test_dl_logging PRIVATE $<TARGET_PROPERTY:gidlog,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(gidlog_test_dl_logging PRIVATE fmt::fmt Threads::Threads)
  gidlog_set_warnings(gidlog_test_dl_logging)

  set_property(TARGET gidlog_unit_tests PROPERTY ENABLE_EXPORTS ON)
  add_dependencies(gidlog_unit_tests gidlog_test_dl_logging)
  target_compile_definitions(gidlog_unit_tests PRIVATE
    GIDLOG_TEST_DL_LOGGING_PATH="$<TARGET_FILE:gidlog_test_dl_logging>")
  target_link_libraries(gidlog_unit_tests PRIVATE ${CMAKE_DL_LIBS})
endif()
