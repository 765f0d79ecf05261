// tests/tensor/test_layout.cpp — (to be written)
