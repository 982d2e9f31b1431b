# Optional CUDA. AUTO compiles the CUDA sources when nvcc is found (it is at /usr/local/cuda on our
# machines); ON fails without it; OFF skips it. A build with CUDA still runs on a machine without a GPU.
set(BNB_HAVE_CUDA OFF)
if(NOT BNB_WITH_CUDA STREQUAL "OFF")
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "CUDA compiler")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # nvcc 13 supports sm_75 and newer; A100 (80) and H100/H200 (90) are the targets we verify.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    # The runtime is linked statically: libbnb8.so needs no libcudart at run time, and the linker map
    # hides its symbols. Only the driver (libcuda) is loaded, by the runtime, on the first CUDA call.
    set(CMAKE_CUDA_RUNTIME_LIBRARY Static)
    find_package(CUDAToolkit REQUIRED)
    set(BNB_HAVE_CUDA ON)
  elseif(BNB_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "BNB_WITH_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER or CUDACXX)")
  else()
    message(STATUS "bnb8: no CUDA compiler found; building without CUDA")
  endif()
endif()

# CUDA sources of a target: hidden symbols like the host code, warnings as errors with BNB_WERROR, and
# the runtime's headers for host files that call it, and the host half of .cu files under the
# floating-point contract too (bnb_target_numerics covers the device half). No-op without CUDA. -Wno-parentheses: nvcc's
# generated host code parenthesizes member-pointer declarations, which GCC then warns about.
function(bnb_target_cuda target)
  if(NOT BNB_HAVE_CUDA)
    return()
  endif()
  set_target_properties(${target} PROPERTIES CUDA_VISIBILITY_PRESET hidden)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wno-parentheses,-ffp-contract=off,-fno-fast-math>
    $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${BNB_WERROR}>>:--Werror=all-warnings>)
  target_link_libraries(${target} PRIVATE CUDA::cudart_static)
endfunction()

# Links the static CUDA runtime into `target` (the library, or the archive the internal tests link).
function(bnb_link_cuda_runtime target scope)
  if(BNB_HAVE_CUDA)
    target_link_libraries(${target} ${scope} CUDA::cudart_static)
  endif()
endfunction()
