// tensor/broadcast.cpp — NumPy broadcasting and sum_to
#include "tensor/broadcast.hpp"
