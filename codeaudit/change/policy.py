"""The hook's policy, from ``[tool.codeaudit.hook]``: which auditors run, and the severity at
which a finding blocks (``fail_on``, or the stricter ``ai_fail_on`` in AI-generated lines).

:meth:`HookSettings.threshold` is what the pipeline's one verdict takes for a change
(:func:`codeaudit.pipeline.run`); :meth:`HookSettings.blocks` says the same of one finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codeaudit.config import Config, check_options
from codeaudit.errors import ConfigError
from codeaudit.model import Finding, Severity

OPTIONS_SPEC: Mapping[str, Any] = {
    "fail_on": "",
    "ai_fail_on": "",
    "auditors": [],
    "baseline": "",
    "suggestions_logs": [],
    "markers": True,
}


@dataclass(frozen=True, slots=True)
class HookSettings:
    """The policy from ``[tool.codeaudit.hook]`` (see the module docs for defaults)."""

    fail_on: Severity
    ai_fail_on: Severity
    auditors: tuple[str, ...]
    baseline: str | None = None
    suggestions_logs: tuple[str, ...] = ()
    markers: bool = True

    @classmethod
    def from_config(cls, config: Config) -> HookSettings:
        """
        >>> s = HookSettings.from_config(Config())
        >>> (s.fail_on.label, s.ai_fail_on.label, "tests" in s.auditors)
        ('medium', 'low', False)
        """
        opts = check_options(
            "hook", config.auditor_options("hook"), OPTIONS_SPEC, source=config.source
        )
        where = (
            f"{config.source}: [tool.codeaudit.hook]" if config.source else "[tool.codeaudit.hook]"
        )

        def severity(key: str, default: Severity) -> Severity:
            if not opts[key]:
                return default
            try:
                return Severity.parse(opts[key])  # type: ignore[return-value]
            except ValueError as exc:
                raise ConfigError(f"{where}.{key}: {exc}") from None

        fail_on = severity("fail_on", config.fail_on)
        ai_fail_on = severity("ai_fail_on", Severity(max(fail_on - 1, Severity.INFO)))
        for key in ("auditors", "suggestions_logs"):
            if not all(isinstance(v, str) for v in opts[key]):
                raise ConfigError(f"{where}.{key} must be a list of strings")
        auditors = tuple(opts["auditors"]) or tuple(a for a in config.auditors if a != "tests")
        if opts["auditors"]:
            from codeaudit.registry import auditor_targets

            known = auditor_targets()
            for name in auditors:
                if name not in known:
                    raise ConfigError(
                        f"{where}.auditors: unknown auditor '{name}' (known: {', '.join(sorted(known))})"
                    )
        return cls(
            fail_on=fail_on,
            ai_fail_on=ai_fail_on,
            auditors=auditors,
            baseline=opts["baseline"] or None,
            suggestions_logs=tuple(opts["suggestions_logs"]),
            markers=bool(opts["markers"]),
        )

    def threshold(self, finding: Finding) -> Severity:
        """The severity at which ``finding`` blocks: ``ai_fail_on`` in AI-generated lines."""
        return self.ai_fail_on if finding.ai_generated else self.fail_on

    def blocks(self, finding: Finding) -> bool:
        return finding.active and finding.severity >= self.threshold(finding)
