// tests/autograd/test_memory.cpp — (to be written)
