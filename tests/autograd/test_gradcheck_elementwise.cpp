// tests/autograd/test_gradcheck_elementwise.cpp — (to be written)
