"""Dynamic INT8 quantisation settings for this CPU, and per-channel weight quantisation.

The settings come from Optimum's :class:`~optimum.onnxruntime.AutoQuantizationConfig` for the
instruction set the CPU reports (``avx512_vnni`` > ``avx512`` > ``avx2``; ``arm64``): weight type,
symmetry, per-channel, reduced range. Activations are quantised at run time (dynamic, uint8,
asymmetric), which is what ONNX Runtime's ``DynamicQuantizeMatMul`` kernel does.

:func:`quantize_weight` reproduces ONNX Runtime's reference per-channel quantisation
(``onnxruntime.quantization.quant_utils.quantize_data`` applied to each output column), vectorised
so a 2.7-billion-parameter model quantises tensor by tensor in seconds; a test checks the two agree.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

#: Instruction sets Optimum has a preset for, best first.
ISAS = ("avx512_vnni", "avx512", "avx2", "arm64")


@dataclass(frozen=True)
class WeightQuantization:
    """How weights are quantised (activations: dynamic uint8, asymmetric, per tensor)."""

    isa: str
    weights_dtype: str  # "int8" or "uint8"
    symmetric: bool
    per_channel: bool
    reduce_range: bool

    #: The engine precision these settings give.
    precision = "int8"

    def to_dict(self) -> dict:
        return asdict(self)

    def key(self) -> str:
        return "-".join(f"{k}={v}" for k, v in sorted(self.to_dict().items()))

    def qrange(self) -> tuple[int, int]:
        if self.weights_dtype == "int8":
            if self.reduce_range:
                return -64, 64
            return (-127, 127) if self.symmetric else (-128, 127)
        return (0, 127) if self.reduce_range else (0, 255)


def cpu_isa(flags: set[str] | None = None) -> str:
    """The best instruction set of :data:`ISAS` this CPU has."""
    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64"):
        return "arm64"
    if flags is None:
        flags = _cpu_flags()
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    if {"avx512f", "avx512bw"} <= flags:
        return "avx512"
    return "avx2"


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def quantization_for_cpu(isa: str | None = None) -> WeightQuantization:
    """Optimum's dynamic-quantisation preset for ``isa`` (default: this CPU's).

    >>> q = quantization_for_cpu("avx512_vnni")  # doctest: +SKIP
    >>> (q.weights_dtype, q.symmetric, q.per_channel, q.reduce_range)  # doctest: +SKIP
    ('int8', True, True, False)
    """
    from onnxruntime.quantization import QuantType
    from optimum.onnxruntime.configuration import AutoQuantizationConfig

    isa = isa or cpu_isa()
    if isa not in ISAS:
        raise ValueError(f"unknown instruction set {isa!r} (one of: {', '.join(ISAS)})")
    config = getattr(AutoQuantizationConfig, isa)(is_static=False, per_channel=True)
    if config.activations_dtype != QuantType.QUInt8 or config.activations_symmetric:
        raise ValueError(f"{isa}: only dynamic uint8 asymmetric activations are supported")
    return WeightQuantization(
        isa=isa,
        weights_dtype="int8" if config.weights_dtype == QuantType.QInt8 else "uint8",
        symmetric=bool(config.weights_symmetric),
        per_channel=bool(config.per_channel),
        reduce_range=bool(config.reduce_range),
    )


def quantize_weight(
    w: np.ndarray, q: WeightQuantization
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantise a MatMul weight ``w`` of shape ``(K, N)``; one scale per output column ``N``.

    Returns ``(quantised (K, N), scale (N,) float32, zero_point (N,))``: ``w ≈ scale * (q - zp)``.

    >>> from codeaudit.generators.quantize import WeightQuantization, quantize_weight
    >>> spec = WeightQuantization(isa="avx512_vnni", weights_dtype="int8", symmetric=True, per_channel=True, reduce_range=False)
    >>> qw, scale, zp = quantize_weight(np.array([[0.5, -2.0], [-1.0, 1.0]], dtype=np.float32), spec)
    >>> qw.tolist(), zp.tolist()
    ([[64, -127], [-127, 64]], [0, 0])
    """
    w = np.asarray(w, dtype=np.float32)
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D weight, got shape {w.shape}")
    qmin, qmax = q.qrange()
    np_type = np.int8 if q.weights_dtype == "int8" else np.uint8
    axis = 0 if q.per_channel else None
    rmin = np.minimum(w.min(axis=axis), np.float32(0))
    rmax = np.maximum(w.max(axis=axis), np.float32(0))
    if q.symmetric:
        absmax = np.maximum(np.abs(rmin), np.abs(rmax))
        rmin, rmax = -absmax, absmax
    scale64 = (rmax.astype(np.float64) - rmin.astype(np.float64)) / float(qmax - qmin)
    tiny = scale64 < np.finfo(np.float32).tiny
    if q.symmetric:
        zp = np.full(np.shape(scale64), round((qmin + qmax) / 2.0), dtype=np.float64)
    else:
        zp = np.round(qmin - rmin / np.where(tiny, 1.0, scale64))
    scale = np.where(tiny, 1.0, scale64).astype(np.float32)
    zp = np.where(tiny, 0.0, zp)
    # Column by column in blocks keeps the float32 temporaries small for 50k-column heads.
    out = np.empty(w.shape, dtype=np_type)
    scale_b = (
        np.broadcast_to(scale, (w.shape[1],))
        if q.per_channel
        else np.full((w.shape[1],), scale, np.float32)
    )
    zp_b = np.broadcast_to(zp, (w.shape[1],)) if q.per_channel else np.full((w.shape[1],), zp)
    step = 8192
    for start in range(0, w.shape[1], step):
        sl = slice(start, start + step)
        block = np.round(w[:, sl] / scale_b[sl]) + zp_b[sl]
        np.clip(block, qmin, qmax, out=block)
        out[:, sl] = block.astype(np_type)
    zero_point = zp_b.astype(np_type)
    return out, np.ascontiguousarray(scale_b, dtype=np.float32), np.ascontiguousarray(zero_point)


@dataclass(frozen=True)
class Int4Quantization:
    """Block-wise 4-bit weights for ONNX Runtime's ``MatMulNBits`` (the ``onnx-int4`` engine).

    Each column of a ``(K, N)`` weight is cut into blocks of ``block_size`` rows; a block has
    its own float32 scale and (asymmetric) 4-bit zero point. ``accuracy_level`` 4 lets the kernel
    quantise the activations to INT8 and use the CPU's integer dot products; 0 computes in
    float32. Defaults chosen by measurement (fidelity on the tiny model, speed on this CPU; see
    docs/generation.md).
    """

    block_size: int = 32
    accuracy_level: int = 4
    symmetric: bool = False
    #: Range shrink factors tried per block, least squared error wins; ``(1.0,)`` is plain
    #: round-to-nearest on the block's min/max (a search did not raise fidelity on the tiny model).
    clip_grid: tuple[float, ...] = (1.0,)
    kernel: str = "MatMulNBits"
    #: The language-model head in INT8 (``DynamicQuantizeMatMul``, this CPU's preset) instead:
    #: with a 4-bit head the tiny model's teacher-forced agreement falls from 97 % to 94 %.
    head_int8: bool = True

    precision = "int4"

    def head_spec(self) -> WeightQuantization:
        return quantization_for_cpu()

    def to_dict(self) -> dict:
        return {**asdict(self), "head": self.head_spec().to_dict() if self.head_int8 else None}


def quantize_int4(w: np.ndarray, q: Int4Quantization) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantise a MatMul weight ``w`` of shape ``(K, N)`` for ``MatMulNBits``.

    Per block of ``block_size`` rows of one column: the range ``[min, max]`` (widened to hold
    0), shrunk by the factor of :attr:`Int4Quantization.clip_grid` that gives the least squared
    error on that block (plain round-to-nearest min/max when the grid is ``(1.0,)``). Returns
    ``MatMulNBits``' layout: ``(packed (N, blocks, block_size / 2) uint8 — two 4-bit values per
    byte, the even row in the low nibble —, scales (N, blocks) float32, zero points
    (N, ceil(blocks / 2)) uint8, packed the same way)``.
    """
    w = np.asarray(w, dtype=np.float32)
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D weight, got shape {w.shape}")
    k, n = w.shape
    bs = q.block_size
    blocks = (k + bs - 1) // bs
    packed = np.empty((n, blocks, bs // 2), dtype=np.uint8)
    scales = np.empty((n, blocks), dtype=np.float32)
    zps = np.zeros((n, blocks + (blocks & 1)), dtype=np.uint8)
    step = max(1, (1 << 22) // (blocks * bs))  # columns at a time: bounded temporaries
    for start in range(0, n, step):
        cols = w[:, start : start + step].T  # (c, K)
        if blocks * bs != k:
            cols = np.pad(cols, ((0, 0), (0, blocks * bs - k)))
        x = cols.reshape(cols.shape[0], blocks, bs).astype(np.float32)
        lo0 = np.minimum(x.min(axis=-1), 0.0)
        hi0 = np.maximum(x.max(axis=-1), 0.0)
        best_err = np.full(lo0.shape, np.inf, dtype=np.float32)
        best_q = np.zeros(x.shape, dtype=np.uint8)
        best_scale = np.ones(lo0.shape, dtype=np.float32)
        best_zp = np.zeros(lo0.shape, dtype=np.uint8)
        for ratio in q.clip_grid:
            lo, hi = lo0 * ratio, hi0 * ratio
            if q.symmetric:
                absmax = np.maximum(-lo, hi)
                scale = absmax / 7.0
                zp = np.full(lo.shape, 8.0, dtype=np.float32)
            else:
                scale = (hi - lo) / 15.0
                zp = np.clip(np.round(-lo / np.where(scale > 0, scale, 1.0)), 0, 15)
            scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
            qx = np.clip(np.round(x / scale[..., None]) + zp[..., None], 0, 15)
            err = (((qx - zp[..., None]) * scale[..., None] - x) ** 2).sum(axis=-1)
            better = err < best_err
            best_err = np.where(better, err, best_err)
            best_q = np.where(better[..., None], qx.astype(np.uint8), best_q)
            best_scale = np.where(better, scale, best_scale)
            best_zp = np.where(better, zp.astype(np.uint8), best_zp)
        sl = slice(start, start + x.shape[0])
        packed[sl] = best_q[..., 0::2] | (best_q[..., 1::2] << 4)
        scales[sl] = best_scale
        zps[sl, :blocks] = best_zp
    zero_points = zps[:, 0::2] | (zps[:, 1::2] << 4)
    return packed, scales, np.ascontiguousarray(zero_points)
