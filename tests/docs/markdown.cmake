# Reading Markdown line by line in CMake, for the two checks of README.md and docs/*.md: the
# snippet build (CMakeLists.txt here, at configure time) and the link check (check_links.cmake,
# run by ctest). Runs in whichever CMake process includes it; no compiler, no python.
#
# A CMake list is a string split at ';', where a '\' escapes the ';' after it and a ';' inside
# '[' ']' does not split: C++ and Markdown hold all three. So the file's ';', '\', '[' and ']'
# become control characters that neither holds before the text is split into lines, and
# gidlog_md_restore puts them back in whatever comes out.

string(ASCII 1 GIDLOG_MD_SEMI)
string(ASCII 2 GIDLOG_MD_BACKSLASH)
string(ASCII 3 GIDLOG_MD_LBRACKET)
string(ASCII 4 GIDLOG_MD_RBRACKET)

# gidlog_md_read_lines(<file> <out>): the lines of <file>, encoded as above, as a list (line N is
# element N-1; empty lines are empty elements).
function(gidlog_md_read_lines file out)
  file(READ "${file}" text)
  string(REPLACE "\\" "${GIDLOG_MD_BACKSLASH}" text "${text}")
  string(REPLACE ";" "${GIDLOG_MD_SEMI}" text "${text}")
  string(REPLACE "[" "${GIDLOG_MD_LBRACKET}" text "${text}")
  string(REPLACE "]" "${GIDLOG_MD_RBRACKET}" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# gidlog_md_restore(<var>): the characters of an encoded string back as they were in the file.
function(gidlog_md_restore var)
  set(s "${${var}}")
  string(REPLACE "${GIDLOG_MD_BACKSLASH}" "\\" s "${s}")
  string(REPLACE "${GIDLOG_MD_SEMI}" ";" s "${s}")
  string(REPLACE "${GIDLOG_MD_LBRACKET}" "[" s "${s}")
  string(REPLACE "${GIDLOG_MD_RBRACKET}" "]" s "${s}")
  set(${var} "${s}" PARENT_SCOPE)
endfunction()

# gidlog_md_code_line(<encoded line> <state var> <out var>): follows ``` fences down a page, one
# line per call (<state var> starts OFF): <out var> is ON for a fence line or a line inside a
# fence, which is code, not Markdown, and OFF otherwise.
function(gidlog_md_code_line line state out)
  if(line MATCHES "^```")
    if(${state})
      set(${state} OFF PARENT_SCOPE)
    else()
      set(${state} ON PARENT_SCOPE)
    endif()
    set(${out} ON PARENT_SCOPE)
  else()
    set(${out} ${${state}} PARENT_SCOPE)
  endif()
endfunction()

# gidlog_md_slug(<heading text> <out>): the anchor GitHub gives a heading: lower case, every
# character but letters, digits, ' ', '-' and '_' dropped, spaces made '-'. Link markup in the
# heading counts by its text. Limit: a non-ASCII letter is dropped here (GitHub keeps it); the
# headings of these pages are ASCII.
function(gidlog_md_slug text out)
  string(REGEX REPLACE "\\[([^]]*)\\]\\([^)]*\\)" "\\1" s "${text}")
  string(STRIP "${s}" s)
  string(TOLOWER "${s}" s)
  string(REGEX REPLACE "[^a-z0-9 _-]" "" s "${s}")
  string(REPLACE " " "-" s "${s}")
  set(${out} "${s}" PARENT_SCOPE)
endfunction()
