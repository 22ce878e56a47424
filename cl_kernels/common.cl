/*
 * Helpers shared by every program: the runtime puts this file in front of
 * each cl_kernels/*.cl source before building it (see src/runtime/program.c).
 */

/*
 * erfc(z) for z >= 0 as t exp(-z^2 + P(t)) with t = 1 / (1 + z/2) and the
 * classic Chebyshev-fitted polynomial P: fractional error below 1.2e-7
 * everywhere. Built from exp, it vectorises (PoCL runs the built-in erf
 * scalar, about ten times slower). Works for float and floatN arguments.
 */
#define TC_ERFC_NONNEG(z, t)                                                                   \
    ((t) * exp(-(z) * (z) - 1.26551223f +                                                     \
               (t) * (1.00002368f +                                                            \
                      (t) * (0.37409196f +                                                     \
                             (t) * (0.09678418f +                                              \
                                    (t) * (-0.18628806f +                                      \
                                           (t) * (0.27886807f +                                \
                                                  (t) * (-1.13520398f +                        \
                                                         (t) * (1.48851587f +                  \
                                                                (t) * (-0.82215223f +          \
                                                                       (t) * 0.17087277f))))))))))
