#!/usr/bin/python3
"""bench/torch_conv2d.py — the PyTorch side of bench_conv2d: conv2d 3x3, stride 1, padding 1,
N=64, C_in = C_out = 128, 14x14; forward (with bias), backward w.r.t. the input, backward w.r.t.
weight and bias, each timed on its own (aten.convolution_backward with an output mask), median
over >= 20 runs after warm-up, at 1 and 2 threads. Prints the same tab-separated lines as the
C++ program:  <workload> <threads> pytorch <ms> ms.   Run with /usr/bin/python3."""
import sys

import torch

from torch_timing import median_ms


def main():
    max_threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.manual_seed(0)
    n, c, h, w, k = 64, 128, 14, 14, 3
    x = torch.randn(n, c, h, w)
    weight = torch.randn(c, c, k, k)
    bias = torch.randn(c)
    dy = torch.randn(n, c, h, w)
    conv_bwd = torch.ops.aten.convolution_backward
    args = ([c], [1, 1], [1, 1], [1, 1], False, [0, 0], 1)  # bias sizes, stride, pad, dilation, ...
    with torch.no_grad():
        for threads in range(1, max_threads + 1):
            torch.set_num_threads(threads)
            fwd = median_ms(lambda: torch.nn.functional.conv2d(x, weight, bias, 1, 1))
            bwd_in = median_ms(lambda: conv_bwd(dy, x, weight, *args, [True, False, False]))
            bwd_w = median_ms(lambda: conv_bwd(dy, x, weight, *args, [False, True, True]))
            for name, ms in (("conv2d_forward", fwd), ("conv2d_backward_input", bwd_in),
                             ("conv2d_backward_weight", bwd_w),
                             ("conv2d_total", fwd + bwd_in + bwd_w)):
                print(f"{name}\t{threads}\tpytorch\t{ms:.3f}\tms", flush=True)


if __name__ == "__main__":
    main()
