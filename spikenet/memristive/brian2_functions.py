"""Brian2 functions that skip work a device update does not need: the branches of a device model.

Brian2's abstract code has no ``if``: every statement of a synapse's ``on_pre`` runs for every
transmitted spike, so a device update written with ``int(condition)`` factors draws its random
numbers and evaluates its exponentials on every spike, also when the learning rule asks for no
pulse at all (most spikes: a rule's step is a small fraction of one device pulse). These
functions carry the branch into the generated code (C++ for the compiled engine, Cython for
runtime mode, NumPy as the fallback), in the way Brian2's own :class:`brian2.BinomialFunction`
does: each draws from Brian2's generator (``_rand`` / ``_randn``, so ``brian2.seed`` governs
them; ``stochastic_round`` in C++ from a Mersenne Twister seeded from it) and only when the value
is needed. Written by hand because Brian2 offers conditional
expressions only through user functions.

Each function's result equals the unbranched expression it replaces (``stochastic_round``:
the same distribution), which the tests check against the NumPy device models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from brian2 import Function
from brian2.core.functions import DEFAULT_FUNCTIONS

__all__ = ["DEVICE_FUNCTIONS", "stochastic_round", "randn_if", "curve_step", "drift_factor", "binomial_count", "switch_probability",
           "lognormal_sum"]


_INCLUDE = Path(__file__).resolve().parent / "include"


def _size(args: tuple, vectorisation_idx) -> int:
    try:
        return len(vectorisation_idx)
    except TypeError:
        return int(vectorisation_idx)


def _function(name: str, n_args: int, numpy_impl, cpp: str, cython: str, *, random: bool,
              cpp_headers: tuple[str, ...] = ()) -> Function:
    """A Brian2 function of ``n_args`` dimensionless arguments with the three implementations
    (``cpp_headers``: this package's headers, in ``include/``, that the C++ code needs)."""
    f = Function(numpy_impl, arg_units=[1] * n_args, return_unit=1, stateless=not random, auto_vectorise=random)
    deps = {"_rand": DEFAULT_FUNCTIONS["rand"], "_randn": DEFAULT_FUNCTIONS["randn"]} if random else None
    f.implementations.add_implementation("numpy", numpy_impl)
    kwds = {"headers": [f'"{h}"' for h in cpp_headers], "include_dirs": [str(_INCLUDE)]} if cpp_headers else None
    f.implementations.add_implementation("cpp", {"support_code": cpp, "headers": ["<random>"]}, dependencies=deps,
                                         name=name, compiler_kwds=kwds)
    f.implementations.add_implementation("cython", cython, dependencies=deps, name=name)
    return f


# --- stochastic_round(v): floor(v) + Bernoulli(v - floor(v)); no draw when v is whole (0 included) ---

def _stochastic_round_numpy(v, vectorisation_idx):
    v = np.broadcast_to(np.asarray(v, dtype=float), (_size((v,), vectorisation_idx),))
    whole = np.floor(v)
    return whole + (np.random.rand(len(v)) < v - whole)


stochastic_round = _function(
    "_spikenet_stochastic_round", 1, _stochastic_round_numpy,
    """
    double _spikenet_stochastic_round(const double v, const int _vectorisation_idx)
    {
        const double whole = floor(v);
        // No draw where it could not come up (a fraction below the draw's resolution of 2^-32):
        // most presynaptic events of a pair-based rule request a vanishing change, and the
        // draw was the device synapse's main cost there.
        if (v - whole < 1.0 / 4294967296.0) return whole;
        // One 32-bit Mersenne Twister word per draw (seeded from Brian2's generator at the first
        // draw of each code object, so the program's seed governs it): Brian2's _rand() takes two
        // words and this draw runs at every synaptic event of a device synapse (measured on
        // mnist_dc_n100 with pcm_2pcm, another run on the second core: the presynaptic code object
        // 2.01 -> 1.49 s per 100 training images). A resolution
        // of 2^-32 in the probability is far below any request's.
        static std::mt19937 generator((std::uint_fast32_t)(_rand(_vectorisation_idx) * 4294967296.0));
        return whole + (generator() * (1.0 / 4294967296.0) < v - whole ? 1.0 : 0.0);
    }
    """,
    """
cdef double _spikenet_stochastic_round(const double v, const int _vectorisation_idx):
    cdef double whole = floor(v)
    if v == whole:
        return whole
    return whole + (1.0 if _rand(_vectorisation_idx) < v - whole else 0.0)
""", random=True)
"""The number of pulses that carries a requested change of ``v`` pulses on average."""


# --- randn_if(flag): a standard normal draw where flag != 0, else 0 (and no draw) ---

def _randn_if_numpy(flag, vectorisation_idx):
    flag = np.broadcast_to(np.asarray(flag, dtype=float), (_size((flag,), vectorisation_idx),))
    return np.where(flag != 0, np.random.randn(len(flag)), 0.0)


randn_if = _function(
    "_spikenet_randn_if", 1, _randn_if_numpy,
    """
    double _spikenet_randn_if(const double flag, const int _vectorisation_idx)
    {
        return flag != 0 ? _randn(_vectorisation_idx) : 0.0;
    }
    """,
    """
cdef double _spikenet_randn_if(const double flag, const int _vectorisation_idx):
    if flag != 0:
        return _randn(_vectorisation_idx)
    return 0.0
""", random=True)
"""Noise that only a device receiving pulses gets (``c2c_std * randn_if(n_pulse)``)."""


# --- drift_factor(nu, r): r^-nu, the power law of conductance drift, in loops the compiler vectorises ---

def _drift_factor_numpy(nu, r):
    return np.exp(-np.asarray(nu, dtype=float) * np.log(np.asarray(r, dtype=float)))


drift_factor = _function(
    "_spikenet_drift_factor", 2, _drift_factor_numpy,
    """
    static inline double _spikenet_drift_factor(const double nu, const double r)
    {
        // r^-nu as exp(-nu log r): the C library's pow() took twice as long
        return exp(-nu * log(r));
    }
    """,
    """
cdef double _spikenet_drift_factor(const double nu, const double r):
    return exp(-nu * log(r))
""", random=False, cpp_headers=("spikenet_simd_math.h",))
"""The drift law's factor :math:`r^{-\\nu}` for the age ratio ``r = (t - t_prog + t_0) / t_0``."""


# --- curve_step(x, n, a, levels): NeuroSim's exponential curve moved n pulses from x ---

def _curve_step_numpy(x, n, a, levels):
    x, n, a, levels = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, n, a, levels)))
    with np.errstate(over="ignore", invalid="ignore"):
        b = 1.0 / (1.0 - np.exp(-levels / a))
        return np.where(n == 0, x, b - (b - x) * np.exp(-n / a))


curve_step = _function(
    "_spikenet_curve_step", 4, _curve_step_numpy,
    """
    double _spikenet_curve_step(const double x, const double n, const double a, const double levels)
    {
        if (n == 0) return x;
        // B depends on the card only (unless d2d_std spreads A): computed again only when A or L change.
        static double last_a = 0.0, last_levels = 0.0, b = 0.0;
        if (a != last_a || levels != last_levels) {
            b = 1.0 / (1.0 - exp(-levels / a));
            last_a = a;
            last_levels = levels;
        }
        return b - (b - x) * exp(-n / a);
    }
    """,
    """
cdef double _spikenet_curve_step(const double x, const double n, const double a, const double levels):
    if n == 0:
        return x
    cdef double b = 1.0 / (1.0 - exp(-levels / a))
    return b - (b - x) * exp(-n / a)
""", random=False)
r"""NeuroSim's curve :math:`x \mapsto B - (B - x) e^{-n/A}`, :math:`B = 1 / (1 - e^{-L/A})`, for
``n`` signed pulses (negative: back along the curve), ``a`` = A and ``levels`` = L in pulses; ``x``
itself for ``n = 0`` (without evaluating the exponentials)."""


# --- binomial_count(n, p): Binomial(n, p) for per-synapse n and p ---

def _binomial_count_numpy(n, p, vectorisation_idx):
    size = _size((n, p), vectorisation_idx)
    n = np.broadcast_to(np.asarray(n, dtype=float), (size,))
    p = np.broadcast_to(np.asarray(p, dtype=float), (size,))
    return np.random.binomial(np.maximum(n, 0).astype(np.int64), np.clip(p, 0, 1)).astype(float)


# Inversion by sequential search, as Brian2's BinomialFunction does for its exact case (expected
# n p + 1 uniform draws); here n and p differ from synapse to synapse, so nothing is precomputed.
# n p is small for the devices it serves (a few devices switching per write).
binomial_count = _function(
    "_spikenet_binomial_count", 2, _binomial_count_numpy,
    """
    double _spikenet_binomial_count(const double n_trials, const double p, const int _vectorisation_idx)
    {
        const long n = (long)n_trials;
        if (n <= 0 || p <= 0) return 0.0;
        if (p >= 1) return (double)n;
        const bool reverse = p > 0.5;
        const double P = reverse ? 1.0 - p : p;
        const double q = 1.0 - P;
        double px = exp(n * log(q));
        double U = _rand(_vectorisation_idx);
        long X = 0;
        while (U > px && X < n)
        {
            U -= px;
            X++;
            px *= ((double)(n - X + 1) * P) / ((double)X * q);
        }
        return (double)(reverse ? n - X : X);
    }
    """,
    """
cdef double _spikenet_binomial_count(const double n_trials, const double p, const int _vectorisation_idx):
    cdef long n = <long>n_trials
    if n <= 0 or p <= 0:
        return 0.0
    if p >= 1:
        return <double>n
    cdef bint reverse = p > 0.5
    cdef double P = 1.0 - p if reverse else p
    cdef double q = 1.0 - P
    cdef double px = exp(n * log(q))
    cdef double U = _rand(_vectorisation_idx)
    cdef long X = 0
    while U > px and X < n:
        U -= px
        X += 1
        px *= (<double>(n - X + 1) * P) / (<double>X * q)
    return <double>(n - X if reverse else X)
""", random=True)
"""How many of ``n`` devices switch, each with probability ``p`` (no draw when ``n p = 0``)."""


# --- switch_probability(p, wanted): a pulsed binary device's chance to switch under a request ---

def _switch_probability_numpy(p, wanted):
    p, wanted = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(wanted, dtype=float))
    whole = np.floor(wanted)
    return np.where(wanted < 1, p, 1 - (1 - p) ** whole * (1 - (wanted - whole) * p))


switch_probability = _function(
    "_spikenet_switch_probability", 2, _switch_probability_numpy,
    """
    double _spikenet_switch_probability(const double p, const double wanted)
    {
        if (wanted < 1) return p;
        const double whole = floor(wanted);
        return 1.0 - exp(whole * log(1.0 - p)) * (1.0 - (wanted - whole) * p);
    }
    """,
    """
cdef double _spikenet_switch_probability(const double p, const double wanted):
    if wanted < 1:
        return p
    cdef double whole = floor(wanted)
    return 1.0 - exp(whole * log(1.0 - p)) * (1.0 - (wanted - whole) * p)
""", random=False)
r"""A request of ``wanted`` pulses per device reaches each device with ``floor(wanted)`` pulses
and one more with probability ``wanted - floor(wanted)`` (stochastic rounding, device by device);
a device that got at least one pulse has switched with probability ``p`` (``wanted < 1``: it got
exactly one) or :math:`1 - (1-p)^k (1 - f p)` (``k`` whole pulses, fraction ``f``: all got pulses)."""


# --- lognormal_sum(n, sigma): the sum of n conductance factors exp(sigma z) ---

def _lognormal_sum_numpy(n, sigma, vectorisation_idx):
    size = _size((n, sigma), vectorisation_idx)
    n = np.broadcast_to(np.asarray(n, dtype=float), (size,))
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), (size,))
    return fenton_wilkinson_sum(n, sigma, np.random.randn(size))


def fenton_wilkinson_sum(n, sigma, z):
    r"""The sum of ``n`` independent factors :math:`e^{\sigma Z}` (median 1) as one log-normal draw
    from standard normals ``z``: Fenton & Wilkinson's approximation, which keeps the sum's mean
    :math:`n e^{\sigma^2/2}` and variance :math:`n (e^{\sigma^2} - 1) e^{\sigma^2}` (exact for
    ``n`` = 1). NumPy or torch arrays; 0 for ``n`` = 0."""
    xp = _array_module(n)
    n = n * 1.0
    sigma = sigma * 1.0 + 0.0 * n
    s2 = xp.log1p(xp.expm1(sigma ** 2) / xp.clip(n, 1, None))
    total = n * xp.exp(sigma ** 2 / 2) * xp.exp(xp.sqrt(s2) * z - s2 / 2)
    return xp.where(n > 0, total, 0.0 * n)


def _array_module(a):
    if type(a).__module__.startswith("torch"):
        import torch

        return torch
    return np


lognormal_sum = _function(
    "_spikenet_lognormal_sum", 2, _lognormal_sum_numpy,
    """
    double _spikenet_lognormal_sum(const double n, const double sigma, const int _vectorisation_idx)
    {
        if (n <= 0) return 0.0;
        if (sigma <= 0) return n;
        const double s2 = log1p(expm1(sigma * sigma) / n);
        return n * exp(sigma * sigma / 2) * exp(sqrt(s2) * _randn(_vectorisation_idx) - s2 / 2);
    }
    """,
    """
cdef double _spikenet_lognormal_sum(const double n, const double sigma, const int _vectorisation_idx):
    if n <= 0:
        return 0.0
    if sigma <= 0:
        return n
    cdef double s2 = log1p(expm1(sigma * sigma) / n)
    return n * exp(sigma * sigma / 2) * exp(sqrt(s2) * _randn(_vectorisation_idx) - s2 / 2)
""", random=True)
"""The summed conductance factors of ``n`` binary devices in one state (:func:`fenton_wilkinson_sum`),
drawn only for ``n > 0``."""


DEVICE_FUNCTIONS: dict[str, Function] = {
    "stochastic_round": stochastic_round,
    "drift_factor": drift_factor,
    "randn_if": randn_if,
    "curve_step": curve_step,
    "binomial_count": binomial_count,
    "switch_probability": switch_probability,
    "lognormal_sum": lognormal_sum,
}
"""The functions by the names device code uses; every device synapse's namespace holds them."""
