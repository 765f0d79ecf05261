// tests/tensor/test_linalg.cpp — (to be written)
