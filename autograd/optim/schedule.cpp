// autograd/optim/schedule.cpp — (to be written)
#include "autograd/optim/schedule.hpp"
