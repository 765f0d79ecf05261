// tests/autograd/test_gradcheck_linalg.cpp — (to be written)
