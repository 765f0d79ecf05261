// tensor/linalg.cpp — small dense linear algebra
#include "tensor/linalg.hpp"
