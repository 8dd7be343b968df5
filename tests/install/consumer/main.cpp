// A program outside the tree: d/dx sum(x^2) at x = [1, 2] is [2, 4].
#include <hypatia/hypatia.h>

#include <cstdio>

int main() {
  namespace hp = hypatia;
  auto x = hp::vector("x");
  auto g = hp::grad(hp::sum(x * x), x);
  hp::Array out = hp::function({x}, {g})({hp::Array::from({1.0, 2.0})})[0];
  std::printf("%s\n", out.str().c_str());
  return out.allclose(hp::Array::from({2.0, 4.0})) ? 0 : 1;
}
