// tests/autograd/test_gradcheck_layout.cpp — (to be written)
