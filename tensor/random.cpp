// tensor/random.cpp — seeded random number generation
#include "tensor/random.hpp"
