#pragma once
#include "core/ok.hpp"
#include "cuda/memory.hpp"  // planted: cpu -> cuda
