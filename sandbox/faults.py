"""Fault injection for Bot API calls: latency, 5xx, forced 429, dropped connections, pause.

Two kinds of faults, both settable at start-up (CLI flags) and at run time
(``/sandbox/api/faults``):

- *rates*: every call draws from a seeded random generator (``error_rate``,
  ``flood_rate``, ``drop_rate``) and waits ``latency_ms`` (+ jitter);
- *scripted*: a queue of rules such as "the next 3 sendMessage calls answer
  502", consumed in order, which is what deterministic tests want.

Fault kinds:
  error       answer 5xx (``status`` 500 or 502) in Telegram's envelope, nothing is done
  flood       answer 429 "Too Many Requests: retry after N", nothing is done
  drop        close the connection without an answer, nothing is done
  drop_after  do the call (the message IS sent), then close without an answer
  timeout     hold the call ``delay_ms`` (default 60 s) before doing it normally
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass, field

__all__ = ["FAULT_KINDS", "Decision", "FaultConfig", "FaultInjector", "FaultRule"]

FAULT_KINDS = ("error", "flood", "drop", "drop_after", "timeout")


@dataclass
class FaultRule:
    """A scripted fault: applies to the next ``count`` matching calls."""

    kind: str
    count: int = 1
    methods: list[str] | None = None  # None: any method
    status: int = 500
    retry_after: int = 1
    delay_ms: int = 60_000

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        if self.kind == "error" and not 500 <= int(self.status) <= 599:
            raise ValueError("status of an error fault must be 5xx")
        self.methods = _lower_methods(self.methods)

    def matches(self, method: str) -> bool:
        return self.methods is None or method.lower() in self.methods

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FaultConfig:
    """Random faults and latency; all zero by default."""

    latency_ms: int = 0
    latency_jitter_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 500
    flood_rate: float = 0.0
    flood_retry_after: int = 1
    drop_rate: float = 0.0
    methods: list[str] | None = None  # methods the random faults and latency apply to
    seed: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Decision:
    """What to do with one call: wait ``delay`` seconds, then ``kind`` (None: serve normally)."""

    delay: float = 0.0
    kind: str | None = None
    status: int = 500
    retry_after: int = 1


@dataclass
class FaultStats:
    injected: dict = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))


def _lower_methods(methods) -> list[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        methods = [m for m in methods.split(",") if m.strip()]
    return [m.strip().lower() for m in methods]


class FaultInjector:
    """Decides, per Bot API call, whether and how to misbehave; also owns the pause."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.config = config or FaultConfig()
        self.config.methods = _lower_methods(self.config.methods)
        self.rules: list[FaultRule] = []
        self.stats = FaultStats()
        self._random = random.Random(self.config.seed)
        self._resumed = asyncio.Event()
        self._resumed.set()

    # -- configuration ---------------------------------------------------------------

    def configure(self, changes: dict) -> None:
        """Apply a partial update of FaultConfig fields (and ``rules`` / ``paused``)."""
        known = FaultConfig.__dataclass_fields__
        for name, value in changes.items():
            if name == "rules":
                self.rules = [FaultRule(**rule) for rule in value]
            elif name == "add_rules":
                self.rules.extend(FaultRule(**rule) for rule in value)
            elif name == "paused":
                self.pause() if value else self.resume()
            elif name in known:
                setattr(self.config, name, value)
            else:
                raise ValueError(f"unknown fault setting {name!r}")
        self.config.methods = _lower_methods(self.config.methods)
        if "seed" in changes:
            self._random = random.Random(self.config.seed)

    def clear(self) -> None:
        self.config = FaultConfig()
        self.rules.clear()
        self._random = random.Random()
        self.resume()

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    def pause(self) -> None:
        self._resumed.clear()

    def resume(self) -> None:
        self._resumed.set()

    async def wait_until_resumed(self) -> None:
        if not self._resumed.is_set():
            await self._resumed.wait()

    def to_dict(self) -> dict:
        return {
            **self.config.to_dict(),
            "paused": self.paused,
            "rules": [rule.to_dict() for rule in self.rules],
            "injected": dict(self.stats.injected),
        }

    # -- per call --------------------------------------------------------------------

    def decide(self, method: str) -> Decision:
        """Consume a scripted rule if one matches, else roll the configured rates."""
        decision = self._scripted(method) or self._random_decision(method)
        if decision.kind:
            self.stats.injected[decision.kind] += 1
        return decision

    def _scripted(self, method: str) -> Decision | None:
        for rule in self.rules:
            if rule.matches(method):
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
                delay = rule.delay_ms / 1000 if rule.kind == "timeout" else 0.0
                return Decision(delay=delay, kind=rule.kind, status=int(rule.status), retry_after=int(rule.retry_after))
        return None

    def _random_decision(self, method: str) -> Decision:
        config = self.config
        if config.methods is not None and method.lower() not in config.methods:
            return Decision()
        delay = 0.0
        if config.latency_ms or config.latency_jitter_ms:
            delay = (config.latency_ms + self._random.uniform(0, config.latency_jitter_ms)) / 1000
        roll = self._random.random()
        for kind, rate in (("error", config.error_rate), ("flood", config.flood_rate), ("drop", config.drop_rate)):
            if roll < rate:
                return Decision(
                    delay=delay, kind=kind, status=int(config.error_status), retry_after=int(config.flood_retry_after)
                )
            roll -= rate
        return Decision(delay=delay)
