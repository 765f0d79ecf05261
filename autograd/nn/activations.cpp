// autograd/nn/activations.cpp — (to be written)
#include "autograd/nn/activations.hpp"
