#pragma once
#include "ok.hpp"
#  include <cpu/kernels.hpp>  // planted: cuda -> cpu, angle brackets and spaces
