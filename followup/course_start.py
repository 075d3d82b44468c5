"""Start the infusion of a planned course (ELIG-5): the form and the write.

The infusion is recorded through ``monitoring.registration`` (the same rules, history row and
one-active-infusion lock as the coordinator's "Record infusion" screen and the API), in one durable
transaction with the planned course's own record of it: the dose, who gave it, who recorded it.

While the eligibility work-up (ELIG-1, ELIG-2, ELIG-4) or the washout checklist (ELIG-3) still misses
an item, the start is refused with the list of what is missing, unless the coordinator records the
treating physician's override: the physician who decided and the reason. The override, the
physician and the items missing at that moment are stored with the course and shown on its
follow-up page. Why not a hard block: an infusion that was given must be on the census from day 0
(the toxicity checks cannot wait for paperwork), and the EBMT/ISCT items are recommendations the
treating team may weigh against disease activity. Why not a silent start: the work-up exists to say
what is missing before a course goes ahead, so going ahead regardless is a deliberate, named decision.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.permissions import require
from carttrack.wording import person
from monitoring import registration
from monitoring.course_forms import InfusionStartForm
from monitoring.models import Infusion, Product

from .models import DoseUnit, PlannedCourse, PlannedCourseStatus
from .planning import plan_status

#: Plausible CAR-T doses per unit (project decision, ELIG-5): labelled doses are 0.2–5 × 10⁶/kg and
#: 50–600 × 10⁶ cells in total; the bounds catch a misplaced decimal point or a unit mix-up.
DOSE_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    DoseUnit.CELLS_E6_PER_KG: (Decimal("0.01"), Decimal("100")),
    DoseUnit.CELLS_E6: (Decimal("0.1"), Decimal("10000")),
}
ALREADY_STARTED = "This planned course was already started or cancelled: nothing was recorded."
HISTORY_REASON_LENGTH = 100  # django-simple-history's change-reason column


def _members(team_id: int, *roles: str):
    return (
        User.objects.filter(memberships__team_id=team_id, memberships__role__in=roles, is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def missing_items(plan: PlannedCourse) -> list[str]:
    """What the work-up and the washout checklist still miss, in the words of the planned-course page."""
    return plan_status(plan, plan.patient).missing


def planned_course_start(
    *,
    user: Any,
    plan: PlannedCourse,
    product: Product,
    dose: Decimal,
    dose_unit: str,
    infused_at: datetime,
    given_by: Any,
    override_by: Any = None,
    override_reason: str = "",
) -> Infusion:
    """Record the planned course's infusion (day 0) and mark the plan infused, in one transaction.

    Raises ``ValidationError`` keyed by field (the dose outside its range, a giver or an overriding
    physician from outside the team, items still missing without an override),
    ``ObservationConflict`` while the patient has an active infusion and ``PermissionDenied``."""
    team_id = plan.patient.care_team_id
    require(user, "patient.manage", team_id)
    errors: dict[str, list[str]] = {}
    low, high = DOSE_RANGES.get(dose_unit, (None, None))
    if low is None or high is None:
        errors["dose_unit"] = [f"Choose one of: {', '.join(str(label) for label in DoseUnit.labels)}."]
    elif not low <= dose <= high:
        errors["dose"] = [f"Dose must be between {low} and {high} {DoseUnit(dose_unit).label}."]
    if given_by is None or not _members(team_id, Role.NURSE, Role.PHYSICIAN).filter(pk=given_by.pk).exists():
        errors["given_by"] = ["Choose the nurse or physician of this care team who gave the infusion."]
    reason = (override_reason or "").strip()
    with transaction.atomic(durable=True):
        locked = PlannedCourse.objects.select_for_update().select_related("patient__care_team")
        locked = locked.get(pk=plan.pk)
        if locked.status != PlannedCourseStatus.PLANNED:
            raise ValidationError(ALREADY_STARTED)
        missing = missing_items(locked)
        if missing and not reason:
            errors["override_reason"] = [
                "Still missing: " + "; ".join(missing) + ". Complete the planned course, or record the"
                " treating physician's decision to infuse anyway (the physician and the reason)."
            ]
        physicians = _members(team_id, Role.PHYSICIAN)
        if missing and not (override_by and physicians.filter(pk=override_by.pk).exists()):
            errors["override_by"] = ["Choose the treating physician of this care team who decided."]
        if errors:
            raise ValidationError(errors)
        history = f"infusion of {product} started from its planned course"
        if missing:
            history += f", override by {person(override_by)}"
        infusion = registration.infusion_start_within(
            user=user,
            patient=locked.patient,
            product=product,
            infused_at=infused_at,
            reason=history[:HISTORY_REASON_LENGTH],
        )
        locked.status = PlannedCourseStatus.INFUSED
        locked.infusion = infusion
        locked.product = product
        locked.dose, locked.dose_unit = dose, dose_unit
        locked.given_by, locked.started_by, locked.started_at = given_by, user, timezone.now()
        if missing:
            locked.override_by, locked.override_reason, locked.override_missing = override_by, reason, missing
        locked.save()
    return infusion


class PlannedStartForm(InfusionStartForm):
    """The coordinator's start of a planned course: the infusion form (product, time in the team's
    zone) with the dose, who gave it and, when items are missing, the physician's override."""

    dose = forms.DecimalField(label="Dose", max_digits=8, decimal_places=3)
    dose_unit = forms.ChoiceField(label="Dose unit", choices=DoseUnit.choices)
    given_by = forms.ModelChoiceField(queryset=User.objects.none(), label="Given by")
    override_by = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Decided by (treating physician)", required=False
    )
    override_reason = forms.CharField(
        label="Why infuse although items are missing",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    field_order = ["product", "dose", "dose_unit", "infused_at", "given_by", "override_by", "override_reason"]

    def __init__(self, *args: Any, plan: PlannedCourse, missing: list[str], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("product", plan.product_id)
        super().__init__(*args, **kwargs)
        team_id = plan.patient.care_team_id
        for name in ("given_by", "override_by"):
            self.fields[name].label_from_instance = person  # type: ignore[attr-defined]
        self.fields["given_by"].queryset = _members(team_id, Role.NURSE, Role.PHYSICIAN)
        self.fields["override_by"].queryset = _members(team_id, Role.PHYSICIAN)
        if not missing:  # nothing to override: the override fields are not offered
            del self.fields["override_by"], self.fields["override_reason"]
