"""bench/torch_timing.py — the timing loop shared by the PyTorch kernel scripts
(torch_conv2d.py, torch_elementwise.py): median milliseconds over at least `min_runs` calls
after `warmup`, continuing up to `budget_s` seconds (at most 500 calls)."""
import statistics
import time


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
