# Build helpers: one library per folder, one test binary per test file.
#
#   collections_library(NAME SRCS ... DEPS ...)   -> target collections_<name>, alias collections::<name>
#   collections_test(NAME SRCS ... DEPS ... [LABELS ...])  -> Boost.Test executable registered with ctest

set(COLLECTIONS_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)

function(collections_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(collections_${name} STATIC ${ARG_SRCS})
  add_library(collections::${name} ALIAS collections_${name})
  target_include_directories(collections_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(collections_${name} PRIVATE ${COLLECTIONS_WARNINGS})
  target_link_libraries(collections_${name} PUBLIC ${ARG_DEPS})
endfunction()

function(collections_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${COLLECTIONS_WARNINGS})
  target_compile_definitions(${name} PRIVATE BOOST_TEST_DYN_LINK)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} Boost::unit_test_framework)
  add_test(NAME ${name} COMMAND ${name} --report_level=short --log_level=message)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()
