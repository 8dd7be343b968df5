/* OpenBLAS's sgemm against oneDNN's for the products of make bench's models (row-major C[m,n] = op(A) op(B);
 * the two digits: A, B transposed): the measurement behind ops/blas.cpp's choice. Median microseconds.
 *   cc -O2 bench/gemm_libraries.c -lopenblas -ldnnl -o /tmp/gemm_libraries
 *   taskset -c 1 env OMP_NUM_THREADS=1 /tmp/gemm_libraries     (one core; without: all cores for oneDNN)
 */
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
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
  for(int bi=0;bi<2;bi++){ float beta=(float)bi; printf("beta %d\n", bi);
  for(int q=0;q<(int)(sizeof s/sizeof s[0]);q++){int m=s[q].m,n=s[q].n,k=s[q].k,ta=s[q].ta,tb=s[q].tb; double r[2];
    int lda=ta?m:k, ldb=tb?k:n;
    for(int lib=0;lib<2;lib++){double ts[31]; int reps=(double)m*n*k>5e7?5:200;
      for(int w=0;w<31;w++){double t0=now(); for(int i=0;i<reps;i++){
        if(lib==0) cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,m,n,k,1.f,a,lda,b,ldb,beta,c,n);
        else dnnl_sgemm(ta?'T':'N',tb?'T':'N',m,n,k,1.f,a,lda,b,ldb,beta,c,n);}
        ts[w]=(now()-t0)/reps;}
      qsort(ts,31,8,cmp); r[lib]=ts[15]*1e6;}
    printf("%5d %5d %5d %d%d  openblas %8.2f us  onednn %8.2f us  openblas/onednn %.2f\n",m,n,k,ta,tb,r[0],r[1],r[0]/r[1]);}}
}
