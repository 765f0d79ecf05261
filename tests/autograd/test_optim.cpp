// tests/autograd/test_optim.cpp — (to be written)
