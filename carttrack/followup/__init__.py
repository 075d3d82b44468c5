"""Long-term follow-up after CAR-T (the follow-up rules VISIT…OUTCOME of docs/clinical-rules.md;
G-1…G-9, D-1…D-5): remission, relapse,
B-cell return, renal response, serology, myositis and systemic-sclerosis instruments, visits, outcomes.

Entry points: ``carttrack.followup.evaluate.evaluate_followup`` (one course -> ``FollowupResult``),
``carttrack.followup.visits`` (visit template G-1), ``carttrack.followup.outcomes`` (cohort arithmetic).

This package ``__init__`` imports nothing: ``carttrack.observations`` imports the typed inputs of
``carttrack.followup.inputs`` (for its ``Observation`` union), so nothing here may import it back at
package load. The follow-up parsers (``parsing.py``) are registered with ``parse_observation`` by the
``carttrack`` package ``__init__``.
"""
