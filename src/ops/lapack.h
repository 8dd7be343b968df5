// LAPACK's Fortran routines (the LAPACK inside OpenBLAS), overloaded on float and double so that the
// linear-algebra ops are written once as templates. Declared with the hidden string lengths gfortran's
// ABI appends for character arguments. Matrices are column-major; `info` reports failures.
#pragma once
#include <cstddef>

extern "C" {
#define HYPATIA_LAPACK_BOTH(declare) declare(s, float) declare(d, double)

#define HYPATIA_LAPACK_DECLARE(p, T)                                                                                 \
  void p##getrf_(const int* m, const int* n, T* a, const int* lda, int* ipiv, int* info);                           \
  void p##getri_(const int* n, T* a, const int* lda, const int* ipiv, T* work, const int* lwork, int* info);        \
  void p##getrs_(const char* trans, const int* n, const int* nrhs, const T* a, const int* lda, const int* ipiv, T* b, \
                 const int* ldb, int* info, size_t);                                                                 \
  void p##potrf_(const char* uplo, const int* n, T* a, const int* lda, int* info, size_t);                           \
  void p##potri_(const char* uplo, const int* n, T* a, const int* lda, int* info, size_t);                           \
  void p##trtri_(const char* uplo, const char* diag, const int* n, T* a, const int* lda, int* info, size_t, size_t);  \
  void p##sysv_(const char* uplo, const int* n, const int* nrhs, T* a, const int* lda, int* ipiv, T* b,             \
                const int* ldb, T* work, const int* lwork, int* info, size_t);                                       \
  void p##syevd_(const char* jobz, const char* uplo, const int* n, T* a, const int* lda, T* w, T* work,              \
                 const int* lwork, int* iwork, const int* liwork, int* info, size_t, size_t);                        \
  void p##sygvd_(const int* itype, const char* jobz, const char* uplo, const int* n, T* a, const int* lda, T* b,    \
                 const int* ldb, T* w, T* work, const int* lwork, int* iwork, const int* liwork, int* info, size_t,  \
                 size_t);                                                                                            \
  void p##geev_(const char* jobvl, const char* jobvr, const int* n, T* a, const int* lda, T* wr, T* wi, T* vl,      \
                const int* ldvl, T* vr, const int* ldvr, T* work, const int* lwork, int* info, size_t, size_t);      \
  void p##gesdd_(const char* jobz, const int* m, const int* n, T* a, const int* lda, T* s, T* u, const int* ldu,    \
                 T* vt, const int* ldvt, T* work, const int* lwork, int* iwork, int* info, size_t);                  \
  void p##geqrf_(const int* m, const int* n, T* a, const int* lda, T* tau, T* work, const int* lwork, int* info);   \
  void p##orgqr_(const int* m, const int* n, const int* k, T* a, const int* lda, const T* tau, T* work,             \
                 const int* lwork, int* info);                                                                       \
  void p##gelsd_(const int* m, const int* n, const int* nrhs, T* a, const int* lda, T* b, const int* ldb, T* s,     \
                 const T* rcond, int* rank, T* work, const int* lwork, int* iwork, int* info);
HYPATIA_LAPACK_BOTH(HYPATIA_LAPACK_DECLARE)
#undef HYPATIA_LAPACK_DECLARE
}

namespace hypatia {
// OpenBLAS's threads (one per core Hypatia uses) for the length of one LAPACK call, which splits its own
// work: Hypatia otherwise keeps OpenBLAS on the calling thread (ops/blas.h, parallel_gemm). Calls on other
// threads meanwhile may use them too (OpenBLAS's setting is the process's): more threads, same values.
class LapackThreads {
 public:
  LapackThreads();
  ~LapackThreads();
  LapackThreads(const LapackThreads&) = delete;
  LapackThreads& operator=(const LapackThreads&) = delete;

 private:
  int threads_;  // (one while the caller flushes subnormals: OpenBLAS's workers would not)
};
}  // namespace hypatia

namespace hypatia::lapack {

// One overload per precision, each forwarding to s... or d...; character arguments are one letter.
#define HYPATIA_LAPACK_DEFINE(p, T)                                                                                  \
  inline int getrf(int m, int n, T* a, int lda, int* ipiv) {                                                         \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##getrf_(&m, &n, a, &lda, ipiv, &info);                                                                         \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int getri(int n, T* a, int lda, const int* ipiv, T* work, int lwork) {                                      \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##getri_(&n, a, &lda, ipiv, work, &lwork, &info);                                                               \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int getrs(char trans, int n, int nrhs, const T* a, int lda, const int* ipiv, T* b, int ldb) {               \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##getrs_(&trans, &n, &nrhs, a, &lda, ipiv, b, &ldb, &info, 1);                                                  \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int potrf(char uplo, int n, T* a, int lda) {                                                                \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##potrf_(&uplo, &n, a, &lda, &info, 1);                                                                         \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int potri(char uplo, int n, T* a, int lda) {                                                                \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##potri_(&uplo, &n, a, &lda, &info, 1);                                                                         \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int trtri(char uplo, int n, T* a, int lda) {                                                                \
    const char diag = 'N';                                                                                           \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##trtri_(&uplo, &diag, &n, a, &lda, &info, 1, 1);                                                               \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int sysv(char uplo, int n, int nrhs, T* a, int lda, int* ipiv, T* b, int ldb, T* work, int lwork) {         \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##sysv_(&uplo, &n, &nrhs, a, &lda, ipiv, b, &ldb, work, &lwork, &info, 1);                                      \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int syevd(char jobz, char uplo, int n, T* a, int lda, T* w, T* work, int lwork, int* iwork, int liwork) {    \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##syevd_(&jobz, &uplo, &n, a, &lda, w, work, &lwork, iwork, &liwork, &info, 1, 1);                              \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int sygvd(int itype, char jobz, char uplo, int n, T* a, int lda, T* b, int ldb, T* w, T* work, int lwork,   \
                   int* iwork, int liwork) {                                                                         \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##sygvd_(&itype, &jobz, &uplo, &n, a, &lda, b, &ldb, w, work, &lwork, iwork, &liwork, &info, 1, 1);             \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int geev(char jobvl, char jobvr, int n, T* a, int lda, T* wr, T* wi, T* vl, int ldvl, T* vr, int ldvr,     \
                  T* work, int lwork) {                                                                              \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##geev_(&jobvl, &jobvr, &n, a, &lda, wr, wi, vl, &ldvl, vr, &ldvr, work, &lwork, &info, 1, 1);                  \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int gesdd(char jobz, int m, int n, T* a, int lda, T* s, T* u, int ldu, T* vt, int ldvt, T* work, int lwork, \
                   int* iwork) {                                                                                     \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##gesdd_(&jobz, &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &info, 1);                         \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int geqrf(int m, int n, T* a, int lda, T* tau, T* work, int lwork) {                                        \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##geqrf_(&m, &n, a, &lda, tau, work, &lwork, &info);                                                            \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int orgqr(int m, int n, int k, T* a, int lda, const T* tau, T* work, int lwork) {                           \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##orgqr_(&m, &n, &k, a, &lda, tau, work, &lwork, &info);                                                        \
    return info;                                                                                                     \
  }                                                                                                                  \
  inline int gelsd(int m, int n, int nrhs, T* a, int lda, T* b, int ldb, T* s, T rcond, int* rank, T* work,          \
                   int lwork, int* iwork) {                                                                          \
    const LapackThreads threads;                                                                                     \
    int info;                                                                                                        \
    p##gelsd_(&m, &n, &nrhs, a, &lda, b, &ldb, s, &rcond, rank, work, &lwork, iwork, &info);                         \
    return info;                                                                                                     \
  }
HYPATIA_LAPACK_BOTH(HYPATIA_LAPACK_DEFINE)
#undef HYPATIA_LAPACK_DEFINE
#undef HYPATIA_LAPACK_BOTH

}  // namespace hypatia::lapack
