// tests/autograd/test_nn.cpp — (to be written)
