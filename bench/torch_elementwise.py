#!/usr/bin/python3
"""bench/torch_elementwise.py — the PyTorch side of bench_elementwise: exp, tanh, sigmoid over
4M floats and a sum over the last axis of (4096, 1024); median ms over >= 20 runs after warm-up,
at 1 and 2 threads. Prints  <workload> <threads> pytorch <ms> ms.  Run with /usr/bin/python3."""
import sys

import torch

from torch_timing import median_ms


def main():
    max_threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.manual_seed(0)
    x = torch.randn(1 << 22)
    m = torch.randn(4096, 1024)
    with torch.no_grad():
        for threads in range(1, max_threads + 1):
            torch.set_num_threads(threads)
            rows = (("exp_4M", lambda: torch.exp(x)), ("tanh_4M", lambda: torch.tanh(x)),
                    ("sigmoid_4M", lambda: torch.sigmoid(x)),
                    ("sum_lastaxis_4096x1024", lambda: m.sum(-1)))
            for name, fn in rows:
                print(f"{name}\t{threads}\tpytorch\t{median_ms(fn):.3f}\tms", flush=True)


if __name__ == "__main__":
    main()
