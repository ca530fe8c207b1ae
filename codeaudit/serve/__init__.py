"""``codeaudit serve``: a completion server that audits every suggestion before an editor sees it.

Layers, top to bottom: :mod:`.app` (HTTP routes, security, streaming), :mod:`.requests`
(settings, limits, OpenAI-shaped errors, request bodies), :mod:`.policy`
(what a finding does to a choice: block, redact, annotate), :mod:`.gate` (the streaming auditor:
line-by-line release, memorization hold-back), :mod:`.backends` (one model in memory with a
batching scheduler, or the replay engine), :mod:`.suggestion_log` (the JSONL log in the batch
contract) and :mod:`.metrics` (Prometheus text). Nothing below this package imports it; the
generation layer is imported only when a model is served.
"""

from __future__ import annotations
