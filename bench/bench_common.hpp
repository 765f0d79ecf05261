// bench/bench_common.hpp — timing helpers shared by the benchmark programs: median wall-clock
// time after a warm-up, and the tab-separated result line bench/run_kernels.sh parses:
//   <workload> <threads> <implementation> <value> <unit>
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace fz::bench {

// Median milliseconds of f() over at least `min_runs` runs (and up to `budget_s` seconds),
// after `warmup` untimed runs.
template <typename F>
double median_ms(F&& f, int min_runs = 20, double budget_s = 2.0, int warmup = 3) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> ms;
  const auto start = Clock::now();
  while (int(ms.size()) < min_runs ||
         (ms.size() < 500 && std::chrono::duration<double>(Clock::now() - start).count() < budget_s)) {
    const auto t0 = Clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

inline void report(const char* workload, int threads, const char* impl, double value,
                   const char* unit) {
  std::printf("%s\t%d\t%s\t%.3f\t%s\n", workload, threads, impl, value, unit);
  std::fflush(stdout);
}

}  // namespace fz::bench
