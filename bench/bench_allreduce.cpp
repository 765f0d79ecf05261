// bench/bench_allreduce.cpp — the time of the data-parallel step's one allreduce (flows/
// collective.hpp) as the parameter count grows. Run under mpirun -np N: for each buffer size
// (floats = parameters + 1 for the loss), the median over `reps` timed calls after warm-up, as
// rank 0 sees it (every rank leaves the allreduce together), and the fastest call (on a busy
// machine the median includes the time a rank waits for the other to be scheduled). Prints
// tab-separated lines:
//   allreduce <ranks> <floats> <median_us> <min_us> us
// Usage: mpirun -np 2 build/bench/bench_allreduce [reps=50]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "flows/collective.hpp"

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
  fz::Collective& world = fz::launched_collective();
  for (std::size_t n : {1000ul, 10000ul, 100000ul, 1000000ul, 4000000ul}) {
    std::vector<float> buffer(n, 1.0f);
    for (int w = 0; w < 3; ++w) world.allreduce_sum(buffer.data(), n);
    std::vector<double> us;
    for (int r = 0; r < reps; ++r) {
      world.barrier();
      const auto t0 = std::chrono::steady_clock::now();
      world.allreduce_sum(buffer.data(), n);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      std::fill(buffer.begin(), buffer.end(), 1.0f);  // keep the values finite and small
    }
    std::sort(us.begin(), us.end());
    if (world.rank() == 0)
      std::printf("allreduce\t%d\t%zu\t%.1f\t%.1f\tus\n", world.size(), n, us[us.size() / 2], us.front());
  }
  return 0;
}
