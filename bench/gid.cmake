# bm_gid's "thread_local cache inside a shared library" row: the same cache compiled into a
# shared library (bm_gid.cpp with GIDLOG_BM_GID_LIBRARY defined), called through the PLT.
if(TARGET bm_gid)
  add_library(bm_gid_tlcache SHARED ${CMAKE_CURRENT_SOURCE_DIR}/bm_gid.cpp)
  target_compile_definitions(bm_gid_tlcache PRIVATE GIDLOG_BM_GID_LIBRARY=1)
  set_target_properties(bm_gid_tlcache PROPERTIES CXX_VISIBILITY_PRESET hidden)
  gidlog_set_warnings(bm_gid_tlcache)
  target_link_libraries(bm_gid PRIVATE bm_gid_tlcache)
endif()
