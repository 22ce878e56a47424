#!/usr/bin/env python3
"""Fit the rational erf that cl_kernels/common.cl uses, and check it in float32.

erf(u) ~= u * P(u^2) / Q(u^2) on |u| <= CLAMP, with P and Q of degree 5 and
Q(0) = 1; beyond CLAMP erf is 1 to float precision (erfc(3.92) < 6e-8), so the
kernels clamp u first. The fit is linear least squares on x P - erf Q = erf
with Lawson reweighting towards the minimax error. Prints the coefficients as
OpenCL float literals and the worst absolute error of a float32 evaluation
(Horner with fused multiply-adds, as the kernels do) over [-6, 6].

Needs numpy and scipy.
"""
import numpy as np
from numpy.polynomial import polynomial as poly
from scipy.special import erf

CLAMP = 3.92
DEGREE = 5


def fit(degree_p, degree_q, clamp, iterations=200):
    n = 4000
    x = np.concatenate([clamp * np.sin(np.linspace(0, np.pi / 2, n)), np.linspace(0, clamp, n)])
    s, f = x * x, erf(x)
    lawson = np.ones_like(x)
    q_abs = np.ones_like(x)
    for _ in range(iterations):
        columns = [x * s**k for k in range(degree_p + 1)]
        columns += [-f * s**k for k in range(1, degree_q + 1)]
        weight = lawson / q_abs
        sol, *_ = np.linalg.lstsq(np.stack(columns, 1) * weight[:, None], f * weight, rcond=None)
        p, q = sol[: degree_p + 1], np.concatenate([[1.0], sol[degree_p + 1 :]])
        q_values = poly.polyval(s, q)
        q_abs = np.abs(q_values)
        err = np.abs(x * poly.polyval(s, p) / q_values - f)
        lawson = lawson * (err / err.max()) ** 0.3 + 1e-3 * lawson
        lawson /= lawson.max()
    return p.astype(np.float32), q.astype(np.float32)


def horner32(coefficients, s):
    acc = np.full_like(s, coefficients[-1])
    for c in coefficients[-2::-1]:
        acc = (acc.astype(np.float64) * s + np.float64(c)).astype(np.float32)  # one rounding: fma
    return acc


def erf32(p, q, x):
    u = np.clip(x.astype(np.float32), np.float32(-CLAMP), np.float32(CLAMP))
    s = u * u
    return u * horner32(p, s) / horner32(q, s)


def main():
    p, q = fit(DEGREE, DEGREE, CLAMP)
    if np.any(poly.polyval(np.linspace(0, CLAMP**2, 10000), q.astype(np.float64)) <= 0):
        raise SystemExit("fit failed: Q has a root in range")
    x = np.linspace(-6, 6, 2_000_001)
    worst = np.abs(erf32(p, q, x).astype(np.float64) - erf(x)).max()
    print("P:", ", ".join("%.9gf" % v for v in p))
    print("Q:", ", ".join("%.9gf" % v for v in q))
    print("max |erf error| in float32 over [-6, 6]: %.3g" % worst)


if __name__ == "__main__":
    main()
