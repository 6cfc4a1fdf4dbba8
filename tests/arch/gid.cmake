# Extra targets for the gid tests in tests/arch (included from tests/arch/CMakeLists.txt, natively
# and in the aarch64 cross build).
if(TARGET gidlog_arch_tests)
  # A module the tests dlopen(): it links its own copy of the gid layer (see the source's header).
  add_library(gidlog_test_dl MODULE ${CMAKE_CURRENT_SOURCE_DIR}/test_gid_dlopen_lib.cpp)
  target_compile_definitions(gidlog_test_dl PRIVATE GIDLOG_TEST_DL_LIBRARY=1)
  target_link_libraries(gidlog_test_dl PRIVATE ${_gid_lib})
  set_target_properties(gidlog_test_dl PROPERTIES CXX_VISIBILITY_PRESET hidden)
  gidlog_set_warnings(gidlog_test_dl)

  add_dependencies(gidlog_arch_tests gidlog_test_dl)
  target_compile_definitions(gidlog_arch_tests PRIVATE GIDLOG_TEST_DL_PATH="$<TARGET_FILE:gidlog_test_dl>")
  target_link_libraries(gidlog_arch_tests PRIVATE ${CMAKE_DL_LIBS})
endif()
