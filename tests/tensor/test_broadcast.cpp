// tests/tensor/test_broadcast.cpp — (to be written)
