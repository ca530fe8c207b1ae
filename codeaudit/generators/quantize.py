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
