// tests/tensor/test_random.cpp — (to be written)
