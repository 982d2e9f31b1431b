#pragma once
#include "ok.hpp"
#include "cpu/kernels.hpp"      // planted: core -> cpu, through the src/ include path
#include "../cuda/memory.hpp"   // planted: core -> cuda, relative to this folder
