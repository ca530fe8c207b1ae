"""``codeaudit scorecard``: audit a code model, not only its suggestions.

For one model and each engine named: HumanEval pass@1/pass@k in the sandbox, the leak rate on a
prompt set that invites paths, hosts, addresses and credentials, the memorization rate against a
corpus (with licences and copied files), the security-smell rate by CWE on a prompt set that
invites risky APIs, latency (the ``bench generate`` row), optionally canary exposure
(Carlini et al. 2019); rates with 95 % intervals and paired comparisons between engines.

This package sits above the pipeline and the generation layer; nothing below imports it.
Heavy modules (torch, transformers, onnxruntime, scipy) load only inside the functions that use
them.
"""

from __future__ import annotations

from .runner import FORMAT, ScorecardOptions, run_scorecard

__all__ = ["FORMAT", "ScorecardOptions", "run_scorecard"]
