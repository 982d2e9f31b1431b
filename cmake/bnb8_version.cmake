# The version is defined once, in include/bnb8.h (zstd's habit); this reads it into BNB8_VERSION.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/../include/bnb8.h" _bnb_version_lines
     REGEX "^#define BNB_VERSION_(MAJOR|MINOR|PATCH) [0-9]+$")
foreach(_part MAJOR MINOR PATCH)
  string(REGEX MATCH "BNB_VERSION_${_part} ([0-9]+)" _match "${_bnb_version_lines}")
  if(NOT _match)
    message(FATAL_ERROR "BNB_VERSION_${_part} not found in include/bnb8.h")
  endif()
  set(BNB8_VERSION_${_part} "${CMAKE_MATCH_1}")
endforeach()
set(BNB8_VERSION "${BNB8_VERSION_MAJOR}.${BNB8_VERSION_MINOR}.${BNB8_VERSION_PATCH}")
