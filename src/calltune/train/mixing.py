"""AgentTuning's data mixture: η of the training signal from agent data, 1−η from general chat.

AgentTuning minimises ``η·E_agent[log p] + (1−η)·E_general[log p]`` (η = 0.2 worked best).
calltune realises it by building each epoch's sample list: every agent sample once, and
general samples (shuffled, repeated if there are too few) until the agent share of the
*training signal* — the number of trained (labelled) tokens by default, or samples with
``by="samples"`` — is η. The realised ratio is reported, not assumed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from ..errors import CalltuneError

T = TypeVar("T")


class MixError(CalltuneError, ValueError):
    pass


@dataclass
class MixReport:
    eta_target: float
    by: str
    agent_samples: int
    general_samples: int
    agent_weight: int
    general_weight: int
    general_available: int
    general_passes: float

    @property
    def eta_realised(self) -> float:
        total = self.agent_weight + self.general_weight
        return self.agent_weight / total if total else 0.0

    @property
    def sample_ratio(self) -> float:
        total = self.agent_samples + self.general_samples
        return self.agent_samples / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["eta_realised"] = round(self.eta_realised, 4)
        d["agent_sample_ratio"] = round(self.sample_ratio, 4)
        return d

    def summary(self) -> str:
        unit = "label tokens" if self.by == "tokens" else "samples"
        return (
            f"mixture: η target {self.eta_target:.3f}, realised {self.eta_realised:.3f} by {unit} "
            f"({self.agent_weight} agent / {self.general_weight} general; "
            f"{self.agent_samples} agent + {self.general_samples} general samples, "
            f"general data used {self.general_passes:.2f}×)"
        )


def mix(
    agent: Sequence[T],
    general: Sequence[T],
    eta: float,
    weight: Callable[[T], int] | None = None,
    by: str = "tokens",
    seed: int = 0,
    shuffle: bool = True,
) -> tuple[list[T], MixReport]:
    """Mix ``agent`` and ``general`` items so that the agent share of the weight is ``eta``.

    ``weight(item)``: the item's training signal (e.g. its number of labelled tokens);
    used when ``by == "tokens"``; ``by == "samples"`` counts items. Returns the shuffled
    mixture and a :class:`MixReport` with the realised ratio.
    """
    if not 0 < eta <= 1:
        raise MixError(f"eta must be in (0, 1], got {eta}")
    if by not in ("tokens", "samples"):
        raise MixError(f"by must be 'tokens' or 'samples', got {by!r}")
    if not agent:
        raise MixError("no agent samples to mix")
    w: Callable[[T], int] = (weight or (lambda _x: 1)) if by == "tokens" else (lambda _x: 1)
    rng = random.Random(seed)
    a_weight = sum(w(x) for x in agent)
    chosen: list[T] = []
    g_weight = 0
    if eta < 1:
        if not general:
            raise MixError(f"eta={eta} asks for general data but none was given")
        target = a_weight * (1 - eta) / eta
        order = list(range(len(general)))
        passes = 0
        pos = len(order)
        while g_weight < target:
            if pos == len(order):
                rng.shuffle(order)
                pos = 0
                passes += 1
            item = general[order[pos]]
            iw = w(item)
            # stop where the total is closest to the target
            if g_weight + iw - target > target - g_weight:
                break
            chosen.append(item)
            g_weight += iw
            pos += 1
            if iw <= 0 and pos == len(order) and passes > 1000:
                raise MixError("general samples carry no training signal")
        used = (passes - 1) + pos / len(order) if passes else 0.0
    else:
        used = 0.0
    mixed = list(agent) + chosen
    if shuffle:
        rng.shuffle(mixed)
    rep = MixReport(
        eta_target=eta,
        by=by,
        agent_samples=len(agent),
        general_samples=len(chosen),
        agent_weight=a_weight,
        general_weight=g_weight,
        general_available=len(general),
        general_passes=round(used, 3),
    )
    return mixed, rep
