// Host/device qualifiers for the header-only rules shared by the CPU backend, the CUDA backend and the
// test drivers. This folder is the only place the optimizer math exists (see README.md beside it).
#pragma once

#if defined(__CUDACC__)
#define BNB_HD __host__ __device__ __forceinline__
#else
#define BNB_HD inline
#endif
