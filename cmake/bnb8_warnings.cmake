# Per-target flags; nothing is applied directory-wide.

# Warnings (and -Werror with BNB_WERROR) for host C and C++ sources.
function(bnb_target_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C,CXX>:-Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion>
    $<$<AND:$<COMPILE_LANGUAGE:C,CXX>,$<BOOL:${BNB_WERROR}>>:-Werror>)
endfunction()

# The floating-point contract (ALGORITHMS.md §1.2): IEEE binary32 operations in the written order, no
# implicit FMA contraction, no fast-math, on the host and on the device.
function(bnb_target_numerics target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C,CXX>:-ffp-contract=off -fno-fast-math>
    $<$<COMPILE_LANGUAGE:CUDA>:--fmad=false -prec-div=true -prec-sqrt=true -ftz=false>)
endfunction()

# Sanitizers from BNB_SANITIZE, for every target that opts in (library, tests, examples).
function(bnb_target_sanitizers target)
  if(BNB_SANITIZE)
    string(REPLACE ";" "," _list "${BNB_SANITIZE}")
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=${_list} -fno-omit-frame-pointer -fno-sanitize-recover=all>)
    target_link_options(${target} PRIVATE -fsanitize=${_list})
    # With clang, the C++ checks (vptr, function) need the C++ half of the UBSan runtime, which a C
    # program linked through the C driver (test_header, the C examples) does not get. The GCC sanitizer
    # build in CI keeps them; the clang build (the fuzzer) leaves them out.
    if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND "undefined" IN_LIST BNB_SANITIZE)
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize=vptr,function>)
    endif()
  endif()
endfunction()

# Fuzz builds: coverage instrumentation for libFuzzer and its convention macro (which turns checksum
# comparisons off, Note [fuzzing checksums]).
function(bnb_target_fuzzing target)
  if(BNB_BUILD_FUZZERS)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>)
    target_compile_definitions(${target} PRIVATE FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
  endif()
endfunction()

function(bnb_target_defaults target)
  bnb_target_warnings(${target})
  bnb_target_numerics(${target})
  bnb_target_sanitizers(${target})
  bnb_target_fuzzing(${target})
endfunction()
