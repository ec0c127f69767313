// glibc's vector exp and log (libmvec) for the loops of spikenet's device code.
//
// Brian2 compiles with -ffast-math -fno-finite-math-only. The second flag leaves __FAST_MATH__
// undefined, and with it the SIMD declarations that glibc's <bits/math-vector.h> makes, so GCC
// cannot vectorise a loop that calls exp or log: the refresh of every synapse's drifted read
// ran scalar (measured: 13 ns per synapse scalar, 4 ns with AVX2, on an AMD EPYC). These are the
// declarations glibc makes itself under -ffast-math, for GCC on x86-64 glibc 2.22 or later;
// elsewhere this header does nothing and the loops stay scalar (same results to a few ulp).
#ifndef SPIKENET_SIMD_MATH_H
#define SPIKENET_SIMD_MATH_H
#include <math.h>
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && !defined(__FAST_MATH__)
#if __GLIBC_PREREQ(2, 22)
extern "C" {
__attribute__((simd("notinbranch"))) double exp(double) __THROW;
__attribute__((simd("notinbranch"))) double log(double) __THROW;
}
#endif
#endif
#endif
