// The AVX-512 kernel tables (plain and VBMI lanes) on emulated intrinsics, for the path tests.
#pragma once

#include "cpu/kernel_table.hpp"

namespace bnb_test {

const bnb::cpu::KernelTable& avx512_emulated_kernels();
const bnb::cpu::KernelTable& avx512_vbmi_emulated_kernels();  // avx512_vbmi_emulated_kernels.cpp

}  // namespace bnb_test
