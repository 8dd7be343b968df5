// Libraries loaded at run time (cuBLAS, cuDNN, cuFFT, cuSOLVER, clFFT), so a machine without them builds
// and runs. Each declares the functions it calls as an X-macro table X(member, "symbol", signature), and
// gets its struct of pointers and its loader from the macros here: a library missing any of them is not
// used at all.
#pragma once
#include <dlfcn.h>

#include <initializer_list>
#include <type_traits>

namespace hypatia {

// The first of `names` (sonames, then paths) that dlopen opens, or null.
inline void* open_first_library(std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (void* library = dlopen(name, RTLD_NOW | RTLD_LOCAL)) return library;
  return nullptr;
}

}  // namespace hypatia

// A member of the pointers' struct.
#define HYPATIA_API_POINTER(member, symbol, signature) std::add_pointer_t<signature> member = nullptr;
#define HYPATIA_API_RESOLVE(member, symbol, signature)                                \
  found->member = reinterpret_cast<decltype(found->member)>(dlsym(library, symbol)); \
  complete = complete && found->member;
// A new `Api` (kept for the process, as the library is) with every function of `TABLE` resolved from the
// first library of the names that opens; null when none opens or a function is missing.
#define HYPATIA_LOAD_API(Api, TABLE, ...)                                               \
  [&]() -> const Api* {                                                                 \
    void* library = ::hypatia::open_first_library({__VA_ARGS__});                       \
    if (!library) return nullptr;                                                       \
    auto* found = new Api();                                                            \
    bool complete = true;                                                               \
    TABLE(HYPATIA_API_RESOLVE)                                                          \
    return complete ? found : nullptr;                                                  \
  }()
