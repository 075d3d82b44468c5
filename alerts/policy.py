"""The escalation policy as frozen data: what an alert copies from its team's policy when it opens.

An alert keeps its :class:`PolicySnapshot` in ``Alert.policy_snapshot`` (JSON) so that later edits of
the team's policy never change an alert already open; each step row keeps the :class:`PolicyStep`s it
notifies in ``EscalationStep.targets``.  ``from_json`` reads what earlier versions stored (missing
keys take the defaults below), ``to_json`` writes the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from accounts.models import Role

from .models import PAGE_CHANNELS, ROUTINE_CHANNELS, Channel, EscalationPolicy, Target

#: Unless a policy says otherwise: the wait after a step, and before an acknowledged alert with no note
#: or order is reminded.
DEFAULT_WAIT_MINUTES = 5
DEFAULT_REMINDER_MINUTES = 30


@dataclass(frozen=True)
class PolicyStep:
    """Who one step notifies (``target``: on-call slot, a role, a named person, the leads, the charge
    nurse), by which channels, and how long the chain waits after it."""

    target: str
    role: str = ""
    user_id: int | None = None
    channels: tuple[str, ...] = (Channel.INAPP,)
    wait_minutes: int = DEFAULT_WAIT_MINUTES

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyStep:
        return cls(
            target=data.get("target") or "",
            role=data.get("role") or "",
            user_id=data.get("user_id"),
            channels=tuple(data.get("channels") or (Channel.INAPP,)),
            wait_minutes=int(data.get("wait_minutes", DEFAULT_WAIT_MINUTES)),
        )

    @classmethod
    def leads(
        cls, *, channels: tuple[str, ...] = PAGE_CHANNELS, wait_minutes: int = DEFAULT_WAIT_MINUTES
    ) -> PolicyStep:
        """The final step: attending, charge nurse and coordinators."""
        return cls(target=Target.LEADS, channels=tuple(channels), wait_minutes=wait_minutes)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "role": self.role,
            "user_id": self.user_id,
            "channels": list(self.channels),
            "wait_minutes": self.wait_minutes,
        }

    @property
    def is_oncall(self) -> bool:
        return self.target in (Target.ONCALL_PRIMARY, Target.ONCALL_BACKUP)


@dataclass(frozen=True)
class PolicySnapshot:
    """A team's escalation policy as an alert keeps it: the steps run ``repeat_count + 1`` times, then
    the leads are notified by ``final_channels`` after ``final_wait_minutes`` (and again until someone
    acknowledges)."""

    policy_id: int | None
    name: str
    repeat_count: int = 0
    reminder_minutes: int = DEFAULT_REMINDER_MINUTES
    final_wait_minutes: int = DEFAULT_WAIT_MINUTES
    final_channels: tuple[str, ...] = PAGE_CHANNELS
    steps: tuple[PolicyStep, ...] = field(default_factory=tuple)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> PolicySnapshot:
        """An alert's stored snapshot; an empty one (never written) reads as the built-in default."""
        if not data:
            return DEFAULT_POLICY
        return cls(
            policy_id=data.get("policy_id"),
            name=data.get("name") or "",
            repeat_count=int(data.get("repeat_count", 0)),
            reminder_minutes=int(data.get("reminder_minutes", DEFAULT_REMINDER_MINUTES)),
            final_wait_minutes=int(data.get("final_wait_minutes", DEFAULT_WAIT_MINUTES)),
            final_channels=tuple(data.get("final_channels") or PAGE_CHANNELS),
            steps=tuple(PolicyStep.from_json(s) for s in data.get("steps") or ()),
        )

    @classmethod
    def of(cls, policy: EscalationPolicy) -> PolicySnapshot:
        """A team's saved policy, frozen now (later edits never change it)."""
        return cls(
            policy_id=policy.pk,
            name=policy.name,
            repeat_count=policy.repeat_count,
            reminder_minutes=policy.reminder_minutes,
            final_wait_minutes=policy.final_wait_minutes,
            final_channels=tuple(policy.final_channels or PAGE_CHANNELS),
            steps=tuple(
                PolicyStep(
                    target=s.target,
                    role=s.role,
                    user_id=s.user_id,
                    channels=tuple(s.channels or (Channel.INAPP,)),
                    wait_minutes=s.wait_minutes,
                )
                for s in policy.steps.order_by("position", "id")
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id,
            "name": self.name,
            "repeat_count": self.repeat_count,
            "reminder_minutes": self.reminder_minutes,
            "final_wait_minutes": self.final_wait_minutes,
            "final_channels": list(self.final_channels),
            "steps": [s.to_json() for s in self.steps],
        }

    @property
    def chain_steps(self) -> tuple[PolicyStep, ...]:
        """The steps to run (the built-in default's when a snapshot has none)."""
        return self.steps or DEFAULT_POLICY.steps

    @property
    def final_step(self) -> PolicyStep:
        return PolicyStep.leads(channels=self.final_channels, wait_minutes=self.final_wait_minutes)


DEFAULT_POLICY = PolicySnapshot(
    policy_id=None,
    name="Built-in default (no team policy configured)",
    repeat_count=1,
    steps=(
        PolicyStep(target=Target.ONCALL_PRIMARY, channels=PAGE_CHANNELS),
        PolicyStep(target=Target.ONCALL_BACKUP, channels=(Channel.INAPP, Channel.SMS, Channel.PAGER)),
        PolicyStep(target=Target.ROLE, role=Role.PHYSICIAN, channels=ROUTINE_CHANNELS, wait_minutes=10),
    ),
)


def single_step_policy(
    *, name: str, step: PolicyStep, repeat_count: int, final_wait_minutes: int
) -> PolicySnapshot:
    """A built-in policy of one step (overdue checks, follow-up alerts): the leads are told by the
    routine channels at the end."""
    return replace(
        DEFAULT_POLICY,
        name=name,
        repeat_count=repeat_count,
        final_wait_minutes=final_wait_minutes,
        final_channels=ROUTINE_CHANNELS,
        steps=(step,),
    )
