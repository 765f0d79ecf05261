// tests/tensor/test_conv2d.cpp — (to be written)
