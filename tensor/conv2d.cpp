// tensor/conv2d.cpp — conv2d
#include "tensor/conv2d.hpp"
