// tests/autograd/test_gradcheck_matmul_conv.cpp — (to be written)
