"""bench/torch_blas.py — which BLAS the PyTorch reference runs its matmuls on, and whether it is
fit to be a reference.

Debian's python3-torch does its linear layers and matmuls through the system libblas.so.3
(BLAS_INFO=generic in torch.__config__.show()). Which library that is depends on the
alternatives: OpenBLAS when libopenblas0-pthread is installed, else the netlib reference BLAS,
about 100x slower on a 512 x 512 product. A ratio measured against the reference BLAS would
time the BLAS, not PyTorch, so the bench scripts run this first and stop when it exits 1.

Prints one line: the library file torch has mapped and a measured sgemm rate at 1 thread. Exit
0 for OpenBLAS or MKL (a pip wheel links MKL into torch itself), 1 otherwise."""
import os
import re
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402  (after OPENBLAS_NUM_THREADS: OpenBLAS reads it when it loads)

torch.set_num_threads(1)
a = torch.randn(512, 512)
b = torch.randn(512, 512)
(a @ b).sum()  # the first product loads and initialises the BLAS
runs = 5
start = time.perf_counter()
for _ in range(runs):
    a @ b
gflops = runs * 2 * 512 ** 3 / (time.perf_counter() - start) / 1e9

mapped = set()
with open("/proc/self/maps") as maps:
    for line in maps:
        path = line.split()[-1]
        if re.search(r"/lib(open)?blas[^/]*\.so|/libmkl[^/]*\.so", path):
            mapped.add(os.path.realpath(path))
config = torch.__config__.show()
blas_info = re.search(r"BLAS_INFO=(\w+)", config)
blas_info = blas_info.group(1) if blas_info else "unknown"

# The library torch's BLAS calls resolve to is the libblas.so.3 it mapped (OpenBLAS's own
# libopenblas may be mapped too, through liblapack, while sgemm comes from the reference BLAS).
libblas = sorted(p for p in mapped if os.path.basename(p).startswith("libblas.so"))
mkl = sorted(p for p in mapped if "mkl" in p) or (["(linked into torch)"] if blas_info == "mkl" else [])
if libblas and all("openblas" in p for p in libblas):
    print(f"torch {torch.__version__}: BLAS {libblas[0]} (OpenBLAS), sgemm 512 at 1 thread {gflops:.1f} GFLOP/s")
    sys.exit(0)
if not libblas and mkl:
    print(f"torch {torch.__version__}: BLAS {mkl[0]} (MKL), sgemm 512 at 1 thread {gflops:.1f} GFLOP/s")
    sys.exit(0)
which = ", ".join(sorted(mapped)) or f"none mapped (BLAS_INFO={blas_info})"
print(f"torch {torch.__version__}: BLAS {which}: not OpenBLAS or MKL (sgemm 512 at 1 thread {gflops:.1f} GFLOP/s); "
      "a ratio against it would time the reference BLAS, not PyTorch. Install libopenblas0-pthread "
      "(apt-get install libopenblas0-pthread) or point the libblas.so.3 alternative at OpenBLAS.",
      file=sys.stderr)
sys.exit(1)
