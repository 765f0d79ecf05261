// tensor/layout.cpp — layout ops
#include "tensor/layout.hpp"
