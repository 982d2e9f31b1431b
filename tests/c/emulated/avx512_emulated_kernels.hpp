// The AVX-512 kernel table on emulated intrinsics (avx512_emulated_kernels.cpp), for the path tests.
#pragma once

#include "cpu/kernel_table.hpp"

namespace bnb_test {

const bnb::cpu::KernelTable& avx512_emulated_kernels();

}  // namespace bnb_test
