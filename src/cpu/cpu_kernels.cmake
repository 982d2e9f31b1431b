# The CPU step kernels, one unit per instruction set (cpu/kernel_table.hpp), chosen at run time by
# cpu/isa.cpp. Only the ISA units get ISA flags, and never -mfma: with -ffp-contract=off (every target,
# cmake/bnb8_warnings.cmake) no multiply-add can fuse (ALGORITHMS.md §1.2). Appends to BNB8_SOURCES; the
# ISA units come last in link order (Note [ISA units and inline functions]).
list(APPEND BNB8_SOURCES cpu/kernels_scalar.cpp)
set(_bnb_isa_definitions "")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag("-mavx2 -mf16c" BNB_CXX_HAS_AVX2)
  check_cxx_compiler_flag("-mavx512f -mavx512bw -mavx512dq -mavx512vl" BNB_CXX_HAS_AVX512)
  if(BNB_CXX_HAS_AVX2)
    list(APPEND BNB8_SOURCES cpu/kernels_avx2.cpp)
    set_source_files_properties(cpu/kernels_avx2.cpp PROPERTIES COMPILE_OPTIONS "-mavx2;-mf16c")
    list(APPEND _bnb_isa_definitions BNB_HAVE_AVX2_KERNELS)
  endif()
  if(BNB_CXX_HAS_AVX2 AND BNB_CXX_HAS_AVX512)
    list(APPEND BNB8_SOURCES cpu/kernels_avx512.cpp)
    set(_bnb_avx512_options -mavx512f -mavx512bw -mavx512dq -mavx512vl)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC 12's AVX-512 headers self-initialise their "undefined" vectors, which -Wmaybe-uninitialized
      # reports at every inlined intrinsic (a known false positive); the unit's own code is unaffected.
      list(APPEND _bnb_avx512_options -Wno-maybe-uninitialized)
    endif()
    set_source_files_properties(cpu/kernels_avx512.cpp PROPERTIES COMPILE_OPTIONS "${_bnb_avx512_options}")
    # The VBMI kernels: the same lanes with byte-permute dequantization (GCC 12 and Clang know -mavx512vbmi
    # wherever they know the AVX-512 flags above).
    list(APPEND BNB8_SOURCES cpu/kernels_avx512_vbmi.cpp)
    set_source_files_properties(cpu/kernels_avx512_vbmi.cpp PROPERTIES COMPILE_OPTIONS
                                "${_bnb_avx512_options};-mavx512vbmi")
    list(APPEND _bnb_isa_definitions BNB_HAVE_AVX512_KERNELS)
  endif()
endif()
# Every unit that names the kernel tables or chooses among them knows which exist.
set_property(SOURCE cpu/isa.cpp cpu/cpu_backend.cpp cpu/kernels_scalar.cpp cpu/kernels_avx2.cpp
             cpu/kernels_avx512.cpp cpu/kernels_avx512_vbmi.cpp APPEND PROPERTY COMPILE_DEFINITIONS ${_bnb_isa_definitions})
set(BNB_CPU_ISA_OBJECT_NAMES kernels_avx2.cpp kernels_avx512.cpp kernels_avx512_vbmi.cpp)
message(STATUS "bnb8 CPU kernels: scalar ${_bnb_isa_definitions}")
