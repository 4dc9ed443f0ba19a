"""Deterministic pseudo-random signals: pure functions of (seed, key, time).

Every random-looking quantity of the simulators (clouds, wind, river flow, load noise) is a
function of time and a seed, never of a generator's state, so that the live service and the
backfill produce the same values for the same instant, in any order, at any resolution.

``hash_uniform`` is the SplitMix64 finaliser (Steele, Lea & Flood 2014, "Fast splittable
pseudorandom number generators") applied to ``seed ⊕ key ⊕ index``; ``value_noise`` interpolates
those uniforms linearly between knots spaced ``period_s`` apart (a "value noise" signal).
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK = 0xFFFFFFFFFFFFFFFF


def key_of(*parts: str | int) -> int:
    """A stable 64-bit key for names (device ids, signal names): CRC-32 based, never ``hash()``."""
    text = "/".join(str(p) for p in parts).encode("utf-8")
    lo = zlib.crc32(text)
    hi = zlib.crc32(text[::-1] + b"#")
    return (hi << 32) | lo


_SCALAR_PATH_MAX = 8  # below this many indices plain integers beat numpy's per-call overhead


def _hash_one(seed: int, key: int, index: int) -> float:
    """:func:`hash_uniform` for one index with Python integers (bit-identical to the numpy path)."""
    base = ((seed & _MASK) * 0x9E3779B97F4A7C15 ^ key) & _MASK
    z = ((index & _MASK) * 0x9E3779B97F4A7C15 + base) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return (z >> 11) / float(1 << 53)


def hash_uniform(seed: int, key: int, index: npt.ArrayLike) -> FloatArray:
    """Uniform numbers in [0, 1) for integer ``index`` (array), given ``seed`` and ``key``."""
    raw = np.atleast_1d(np.asarray(index, dtype=np.int64))
    if raw.size <= _SCALAR_PATH_MAX:
        return np.array([_hash_one(seed, key, int(i)) for i in raw.ravel()], dtype=np.float64).reshape(raw.shape)
    idx = raw.astype(np.uint64)
    base = np.uint64(((seed & _MASK) * 0x9E3779B97F4A7C15 ^ key) & _MASK)
    with np.errstate(over="ignore"):
        z = idx * _GOLDEN + base
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def value_noise(seed: int, key: int, t_s: npt.ArrayLike, period_s: float) -> FloatArray:
    """A smooth signal in [0, 1): uniforms at knots every ``period_s`` seconds, linearly interpolated."""
    t = np.atleast_1d(np.asarray(t_s, dtype=np.float64)) / period_s
    k = np.floor(t)
    frac = t - k
    ki = k.astype(np.int64)
    a = hash_uniform(seed, key, ki)
    b = hash_uniform(seed, key, ki + 1)
    return a + (b - a) * frac


def centred_noise(seed: int, key: int, t_s: npt.ArrayLike, period_s: float) -> FloatArray:
    """Like :func:`value_noise` but in [−1, 1) with mean 0."""
    return 2.0 * value_noise(seed, key, t_s, period_s) - 1.0
