// tests/tensor/test_elementwise.cpp — (to be written)
