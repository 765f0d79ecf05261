// autograd/optim/clip.cpp — (to be written)
#include "autograd/optim/clip.hpp"
