"""A device defined by measured data: conductance against pulse number, one table per direction.

Each step moves along the table of its direction from the device's present conductance: the
present normalised conductance is placed on the curve (the pulse number that reaches it, by
linear interpolation between the measured points), the curve is followed ``n`` pulses further
(times the device's device-to-device factor), and the conductance read off there (interpolated
again; beyond the last point the curve stays at its end). Between the points the curve is taken
as straight: a table should sample the curve finely enough for that.

The tables are a card's ``ltp_curve`` and ``ltd_curve`` (:class:`spikenet.params.devices.TableDeviceParams`).
"""

from __future__ import annotations

import hashlib

import numpy as np
from brian2 import Function, siemens

from ...params.devices import TableDeviceParams
from ..brian2_functions import _function
from .base import DeviceModel


class TableModel(DeviceModel):
    params = TableDeviceParams

    def __init__(self, params):
        super().__init__(params)
        g_min, g_max = float(params.g_min / siemens), float(params.g_max / siemens)
        # each branch as (pulse numbers from 0, normalised conductance times its direction: increasing)
        self.branches = {}
        for name, sign in (("ltp", 1.0), ("ltd", -1.0)):
            points = np.asarray(getattr(params, f"{name}_curve"), dtype=float)
            pulses = points[:, 0] - points[0, 0]
            x = (points[:, 1] - g_min) / (g_max - g_min)
            self.branches[name] = (pulses, sign * x, sign)

    def _step(self, x, n, scale, name, ops):
        pulses, signed_x, sign = self.branches[name]
        start = ops.interp(sign * x, signed_x, pulses)
        return sign * ops.interp(start + n * scale, pulses, signed_x)

    def pulses_per_range(self, up, ops):
        return ops.float(ops.where(up, float(self.branches["ltp"][0][-1]), float(self.branches["ltd"][0][-1])))

    def step(self, a, up, n, free, noise):
        ops = a.ops
        x_up = self._step(a.x, n, a.scale, "ltp", ops)
        x_dn = self._step(a.x, n, a.scale, "ltd", ops)
        return ops.where(up, x_up, x_dn) + noise

    def nominal_levels(self) -> np.ndarray:
        pulses, signed_x, _ = self.branches["ltp"]
        return np.interp(np.arange(int(pulses[-1]) + 1, dtype=float), pulses, signed_x)

    # ----------------------------------------------------------------- Brian2

    def brian2_per_range(self) -> str:
        return "(up_pulse * table_pulses_ltp + (1 - up_pulse) * table_pulses_ltd)"

    def brian2_step(self) -> str:
        # each branch gets its own pulse count (0 on the other branch): only the branch taken
        # searches its table
        return """x_up = table_ltp(x, up_pulse * n_pulse * dscale)
x_dn = table_ltd(x, (1 - up_pulse) * n_pulse * dscale)
x_new = clip(x_up + x_dn - x + c2c_std * sqrt(n_pulse) * randn_if(n_pulse), 0, 1)"""

    def brian2_namespace(self) -> dict:
        tag = hashlib.sha1(repr((self.p.ltp_curve, self.p.ltd_curve, self.p.g_min, self.p.g_max)).encode()).hexdigest()[:10]
        out = {"table_pulses_ltp": float(self.branches["ltp"][0][-1]),
               "table_pulses_ltd": float(self.branches["ltd"][0][-1])}
        for name in ("ltp", "ltd"):
            pulses, signed_x, sign = self.branches[name]
            out[f"table_{name}"] = table_function(f"_spikenet_table_{name}_{tag}", pulses, signed_x, sign)
        return out




# --- table_<branch>(x, n): a measured curve followed n pulses from x (the `table` model) ---

def _c_array(values: np.ndarray) -> str:
    return ", ".join(repr(float(v)) for v in values)


def table_function(name: str, pulses: np.ndarray, signed_x: np.ndarray, sign: float) -> Function:
    """The Brian2 function ``name(x, n)`` of one branch of a measured table: ``x`` placed on the
    curve (its pulse number, interpolated), moved ``n`` pulses on and read off (``x`` itself for
    ``n = 0``), as :class:`spikenet.memristive.models.table.TableModel` does in NumPy.

    ``pulses`` increase from 0; ``signed_x`` is the normalised conductance times ``sign`` (+1 for
    a rising curve, -1 for a falling one), so that both interpolations run over increasing values.
    The table's values are written into the generated code (one function per table); the
    interpolation is NumPy's ``interp`` (clamped at the ends), written out for C++ and Cython.
    """
    pulses, signed_x = np.asarray(pulses, dtype=float), np.asarray(signed_x, dtype=float)
    s = float(sign)

    def numpy_impl(x, n):
        x, n = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(n, dtype=float))
        start = np.interp(s * x, signed_x, pulses)
        return np.where(n == 0, x, s * np.interp(start + n, pulses, signed_x))

    cpp = f"""
    static const double {name}_p[] = {{{_c_array(pulses)}}};
    static const double {name}_x[] = {{{_c_array(signed_x)}}};
    static double {name}_interp(const double v, const double* a, const double* b)
    {{
        const int last = {len(pulses) - 1};
        if (v <= a[0]) return b[0];
        if (v >= a[last]) return b[last];
        int lo = 0, hi = last;
        while (hi - lo > 1) {{ const int mid = (lo + hi) / 2; if (a[mid] <= v) lo = mid; else hi = mid; }}
        const double slope = (b[hi] - b[lo]) / (a[hi] - a[lo]);
        return slope * (v - a[lo]) + b[lo];
    }}
    double {name}(const double x, const double n)
    {{
        if (n == 0) return x;
        const double start = {name}_interp({s!r} * x, {name}_x, {name}_p);
        return {s!r} * {name}_interp(start + n, {name}_p, {name}_x);
    }}
    """
    cython = f"""
import numpy as _numpy_{name}
cdef double[::1] {name}_p = _numpy_{name}.array([{_c_array(pulses)}], dtype=_numpy_{name}.float64)
cdef double[::1] {name}_x = _numpy_{name}.array([{_c_array(signed_x)}], dtype=_numpy_{name}.float64)

cdef double {name}_interp(const double v, double[::1] a, double[::1] b):
    cdef int last = a.shape[0] - 1
    cdef int lo = 0
    cdef int hi = last
    cdef int mid
    if v <= a[0]:
        return b[0]
    if v >= a[last]:
        return b[last]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[mid] <= v:
            lo = mid
        else:
            hi = mid
    cdef double slope = (b[hi] - b[lo]) / (a[hi] - a[lo])
    return slope * (v - a[lo]) + b[lo]

cdef double {name}(const double x, const double n):
    if n == 0:
        return x
    cdef double start = {name}_interp({s!r} * x, {name}_x, {name}_p)
    return {s!r} * {name}_interp(start + n, {name}_p, {name}_x)
"""
    return _function(name, 2, numpy_impl, cpp, cython, random=False)


def monotone_curve(points, rising: bool) -> tuple[tuple[float, float], ...]:
    """Measured ``(pulse, conductance)`` points made strictly monotonic, for a table card: the
    least-squares isotonic regression of conductance on pulse number
    (``scipy.optimize.isotonic_regression``), each run of equal fitted values merged into one
    point at its mean pulse number. Measured curves scatter from pulse to pulse (cycle-to-cycle
    noise, digitisation); a table holds the trend and the card's ``c2c_std`` the scatter."""
    from scipy.optimize import isotonic_regression

    points = np.asarray(points, dtype=float)
    points = points[np.argsort(points[:, 0], kind="stable")]
    fit = isotonic_regression(points[:, 1], increasing=rising).x
    edges = np.concatenate([[0], np.flatnonzero(np.diff(fit) != 0) + 1, [len(fit)]])
    return tuple((float(points[a:b, 0].mean()), float(fit[a])) for a, b in zip(edges[:-1], edges[1:]))
