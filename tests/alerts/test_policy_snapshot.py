"""The policy snapshot an alert keeps: stored JSON reads back unchanged, and old or partial snapshots
read with the documented defaults."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alerts.models import PAGE_CHANNELS, Channel, Target
from alerts.policy import DEFAULT_POLICY, PolicySnapshot, PolicyStep

channels = st.lists(st.sampled_from(list(Channel.values)), min_size=1, max_size=4, unique=True)
steps = st.builds(
    lambda target, role, user_id, chans, wait: {
        "target": target,
        "role": role,
        "user_id": user_id,
        "channels": chans,
        "wait_minutes": wait,
    },
    st.sampled_from(list(Target.values)),
    st.sampled_from(["", "physician", "nurse", "coordinator"]),
    st.none() | st.integers(1, 10_000),
    channels,
    st.integers(0, 120),
)
snapshots = st.builds(
    lambda pid, name, repeat, reminder, final_wait, final, chain: {
        "policy_id": pid,
        "name": name,
        "repeat_count": repeat,
        "reminder_minutes": reminder,
        "final_wait_minutes": final_wait,
        "final_channels": final,
        "steps": chain,
    },
    st.none() | st.integers(1, 10_000),
    st.text(min_size=1, max_size=40),
    st.integers(0, 5),
    st.integers(1, 240),
    st.integers(0, 120),
    channels,
    st.lists(steps, min_size=1, max_size=8),
)


@given(snapshots)
def test_a_stored_snapshot_reads_back_to_the_same_json(stored):
    assert PolicySnapshot.from_json(stored).to_json() == stored


def test_an_alert_without_a_snapshot_escalates_by_the_built_in_policy():
    assert PolicySnapshot.from_json({}) is DEFAULT_POLICY
    assert PolicySnapshot.from_json(None).chain_steps[0].target == Target.ONCALL_PRIMARY


def test_missing_keys_of_an_older_snapshot_take_the_defaults():
    snap = PolicySnapshot.from_json({"name": "Old ward", "steps": [{"target": "oncall_primary"}]})
    assert (snap.repeat_count, snap.reminder_minutes, snap.final_wait_minutes) == (0, 30, 5)
    assert snap.final_channels == PAGE_CHANNELS
    only = PolicyStep(target=Target.ONCALL_PRIMARY, channels=(Channel.INAPP,), wait_minutes=5)
    assert snap.steps == (only,)
    assert snap.final_step.target == Target.LEADS and snap.final_step.channels == PAGE_CHANNELS
