// tensor/gemm.hpp — GEMM
#pragma once

namespace fz {}  // namespace fz
