// Times one SGD step of the seed's network (784-500-10, batch 100) in Hypatia and prints one line per
// dtype: "hypatia <dtype> <median ms> <p10 ms> <p90 ms>", and the step's matrix products alone as "gemms <dtype> ...";
// then the cost of calling a one-op function (x + 1 on 10 float64s) as "hypatia call <median us> ...".
// bench/run.sh puts it beside the peers.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <vector>

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "mlp.h"

namespace hp = hypatia;

namespace {

// The step's five matrix products alone, through the same OpenBLAS: x·w and h·v forward; v's gradient
// h'·d, the hidden gradient d·v' and w's gradient x'·dh backward. The floor for the whole step.
template <class T>
void step_gemms(const std::vector<T>& x, const std::vector<T>& w, std::vector<T>& h, const std::vector<T>& v,
                std::vector<T>& out, std::vector<T>& gv, std::vector<T>& gh, std::vector<T>& gw) {
  constexpr int n = 100, in = 784, hidden = 500, classes = 10;
  auto gemm = [](CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int nn, int k, const T* a, int lda, const T* b, int ldb,
                 T* c, int ldc) {
    if constexpr (std::is_same_v<T, float>) cblas_sgemm(CblasRowMajor, ta, tb, m, nn, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
    else cblas_dgemm(CblasRowMajor, ta, tb, m, nn, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
  };
  gemm(CblasNoTrans, CblasNoTrans, n, hidden, in, x.data(), in, w.data(), hidden, h.data(), hidden);
  gemm(CblasNoTrans, CblasNoTrans, n, classes, hidden, h.data(), hidden, v.data(), classes, out.data(), classes);
  gemm(CblasTrans, CblasNoTrans, hidden, classes, n, h.data(), hidden, out.data(), classes, gv.data(), classes);
  gemm(CblasNoTrans, CblasTrans, n, hidden, classes, out.data(), classes, v.data(), classes, gh.data(), hidden);
  gemm(CblasTrans, CblasNoTrans, in, hidden, n, x.data(), in, gh.data(), hidden, gw.data(), hidden);
}

template <class T>
std::vector<double> time_gemms(int steps) {
  // OpenBLAS with its own threads (as OPENBLAS_NUM_THREADS says, else one per core): the library's best for
  // these products. Hypatia keeps OpenBLAS on one thread and splits products itself; restored after.
  const char* setting = std::getenv("OPENBLAS_NUM_THREADS");
  const int threads = setting && std::atoi(setting) > 0 ? std::atoi(setting) : static_cast<int>(std::thread::hardware_concurrency());
  openblas_set_num_threads(std::max(1, threads));
  std::vector<T> x(100 * 784, T(0.5)), w(784 * 500, T(0.01)), h(100 * 500), v(500 * 10, T(0.01)), out(100 * 10),
      gv(500 * 10), gh(100 * 500), gw(784 * 500);
  for (int i = 0; i < 20; ++i) step_gemms(x, w, h, v, out, gv, gh, gw);
  std::vector<double> ms;
  for (int i = 0; i < steps; ++i) {
    auto start = std::chrono::steady_clock::now();
    step_gemms(x, w, h, v, out, gv, gh, gw);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  openblas_set_num_threads(1);
  return ms;
}

}  // namespace

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
    const std::vector<double> gemms = dtype == hp::DType::Float32 ? time_gemms<float>(steps) : time_gemms<double>(steps);
    std::printf("gemms %s %.4f %.4f %.4f\n", std::string(hp::dtype_name(dtype)).c_str(), gemms[gemms.size() / 2],
                gemms[gemms.size() / 10], gemms[gemms.size() * 9 / 10]);
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
