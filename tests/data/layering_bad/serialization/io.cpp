#include "plan.hpp"
#include "cuda/memory.hpp"  // planted: serialization -> cuda
