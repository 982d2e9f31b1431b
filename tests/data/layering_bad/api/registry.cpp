#include "cpu/kernels.hpp"
#include "cuda/memory.hpp"
