#!/usr/bin/python3
"""bench/torch_elementwise.py — the PyTorch side of bench_elementwise: exp, tanh, sigmoid over
4M floats and a sum over the last axis of (4096, 1024); median ms over >= 20 runs after warm-up,
at 1 and 2 threads. Prints  <workload> <threads> pytorch <ms> ms.  Run with /usr/bin/python3."""
import statistics
import sys
import time

import torch


def median_ms(fn, min_runs=20, budget_s=2.0, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or (len(times) < 500 and time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


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
