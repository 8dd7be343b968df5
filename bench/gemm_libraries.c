/* OpenBLAS's sgemm against oneDNN's, BLIS's and libxsmm's for the products of make bench's models (row-major
 * C[m,n] = op(A) op(B); the two digits: A, B transposed): the measurement behind ops/blas.cpp's choice.
 * Median microseconds, and each library's time over OpenBLAS's (below 1: faster than OpenBLAS).
 *   cc -O2 bench/gemm_libraries.c -lopenblas -ldnnl -o /tmp/gemm_libraries
 *   with BLIS and libxsmm (Debian's libblis-dev, libxsmm-dev):
 *   cc -O2 -DWITH_BLIS_XSMM -I/usr/include/x86_64-linux-gnu bench/gemm_libraries.c -lopenblas -ldnnl \
 *      -L/usr/lib/x86_64-linux-gnu/blis-openmp -l:libblis.a -lxsmm -lxsmmnoblas -fopenmp -lm -o /tmp/gemm_libraries
 *   taskset -c 1 env OMP_NUM_THREADS=1 BLIS_NUM_THREADS=1 /tmp/gemm_libraries     (one core)
 */
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#ifdef WITH_BLIS_XSMM
#include <blis.h>
#include <libxsmm.h>
#define LIBRARIES 4
#else
#define LIBRARIES 2
#endif
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(){
  /* LSTM step (batch 16, 128 units), its BPTT products, the MLP step, the Elman RNN step */
  struct {int m,n,k,ta,tb;} s[]={{32,128,32,0,0},{32,128,32,1,0},{16,512,128,0,0},{16,128,512,0,1},{128,512,16,1,0},{1600,512,128,0,0},{100,500,784,0,0},{100,10,500,0,0},{500,10,100,1,0},{100,500,10,0,1},{784,500,100,1,0},{32,128,128,0,0},{128,128,32,1,0}};
  float *a=malloc(4<<22),*b=malloc(4<<22),*c=malloc(4<<22);
  for(int i=0;i<(1<<22);i++){a[i]=0.001f*(i%97);b[i]=0.002f*(i%89);c[i]=0;}
  openblas_set_num_threads(1);
  static const char* names[]={"openblas","onednn","blis","libxsmm"};
  for(int bi=0;bi<2;bi++){ float beta=(float)bi, one=1.f; (void)one; printf("beta %d\n", bi);
  for(int q=0;q<(int)(sizeof s/sizeof s[0]);q++){int m=s[q].m,n=s[q].n,k=s[q].k,ta=s[q].ta,tb=s[q].tb; double r[4];
    int lda=ta?m:k, ldb=tb?k:n;
#ifdef WITH_BLIS_XSMM
    /* libxsmm's JIT kernel for this product, made before the timing (none: its sgemm, which may call BLAS) */
    libxsmm_blasint XM=n,XN=m,XK=k,XLA=ldb,XLB=lda,XLC=n; int xflags=(tb?LIBXSMM_GEMM_FLAG_TRANS_A:0)|(ta?LIBXSMM_GEMM_FLAG_TRANS_B:0);
    libxsmm_smmfunction xkernel=libxsmm_smmdispatch(XM,XN,XK,&XLA,&XLB,&XLC,&one,&beta,&xflags,NULL);
#endif
    for(int lib=0;lib<LIBRARIES;lib++){double ts[31]; int reps=(double)m*n*k>5e7?5:200;
      for(int w=0;w<31;w++){double t0=now(); for(int i=0;i<reps;i++){
        if(lib==0) cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,m,n,k,1.f,a,lda,b,ldb,beta,c,n);
        else if(lib==1) dnnl_sgemm(ta?'T':'N',tb?'T':'N',m,n,k,1.f,a,lda,b,ldb,beta,c,n);
#ifdef WITH_BLIS_XSMM
        /* BLIS takes row and column strides: row-major as it is */
        else if(lib==2) bli_sgemm(ta?BLIS_TRANSPOSE:BLIS_NO_TRANSPOSE,tb?BLIS_TRANSPOSE:BLIS_NO_TRANSPOSE,m,n,k,&one,a,lda,1,b,ldb,1,&beta,c,n,1);
        /* libxsmm is column-major: C^T = op(B)^T op(A)^T */
        else if(xkernel) xkernel(b,a,c);
        else libxsmm_sgemm(tb?"T":"N",ta?"T":"N",&XM,&XN,&XK,&one,b,&XLA,a,&XLB,&beta,c,&XLC);
#endif
        }
        ts[w]=(now()-t0)/reps;}
      qsort(ts,31,8,cmp); r[lib]=ts[15]*1e6;}
    printf("%5d %5d %5d %d%d  openblas %8.2f us",m,n,k,ta,tb,r[0]);
#ifdef WITH_BLIS_XSMM
    if(!xkernel) printf(" (libxsmm: no JIT kernel)");
#endif
    for(int lib=1;lib<LIBRARIES;lib++) printf("  %s %.2f",names[lib],r[lib]/r[0]);
    printf("\n");}}
}
