// tests/autograd/test_gradcheck_reduce.cpp — (to be written)
