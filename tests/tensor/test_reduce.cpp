// tests/tensor/test_reduce.cpp — (to be written)
