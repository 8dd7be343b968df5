// Times one SGD step of the seed's network (784-500-10, batch 100) in Hypatia and prints one line per
// dtype: "hypatia <dtype> <median ms> <p10 ms> <p90 ms>"; then the cost of calling a one-op function
// (x + 1 on 10 float64s) as "hypatia call <median us> ...". bench/run.sh puts it beside the peers.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "mlp.h"

namespace hp = hypatia;

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 300;
  for (hp::DType dtype : {hp::DType::Float32, hp::DType::Float64}) {
    MlpConfig config;
    config.dtype = dtype;
    config.learning_rate = 0.01;
    config.profile = std::getenv("HYPATIA_BENCH_PROFILE") != nullptr;
    Mlp mlp(config);
    hp::random::Generator rng(0);
    hp::Array images = rng.uniform({100, 784}, 0.0, 1.0, dtype);
    hp::Array labels = rng.binomial({100}, 9, 0.5);
    for (int i = 0; i < 20; ++i) mlp.train_step(images, labels);
    hp::finish_compiling();  // the optimized kernels (the first calls ran a quick build)
    std::vector<double> ms;
    for (int i = 0; i < steps; ++i) {
      auto start = std::chrono::steady_clock::now();
      mlp.train_step(images, labels);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("hypatia %s %.4f %.4f %.4f\n", std::string(hp::dtype_name(dtype)).c_str(), ms[ms.size() / 2],
                ms[ms.size() / 10], ms[ms.size() * 9 / 10]);
    if (config.profile) std::fprintf(stderr, "%s\n", mlp.train_function().profile_summary().c_str());
  }
  // Call overhead: medians of batches of 1000 calls, in microseconds per call.
  auto x = hp::vector("x");
  auto add_one = hp::function({x}, {x + 1.0});
  hp::finish_compiling();
  hp::Array small = hp::Array::from({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  std::vector<double> us;
  for (int batch = 0; batch < 200; ++batch) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i) add_one({small});
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / 1000);
  }
  std::sort(us.begin(), us.end());
  std::printf("hypatia call %.4f %.4f %.4f\n", us[us.size() / 2], us[us.size() / 10], us[us.size() * 9 / 10]);
  return 0;
}
