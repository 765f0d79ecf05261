// tests/tensor/test_gemm.cpp — (to be written)
