"""What an alert is about and how it reaches people: syndromes, urgencies (and the urgency of a
grade), channels and escalation targets."""

from __future__ import annotations

from django.db import models


class Syndrome(models.TextChoices):
    CRS = "crs", "CRS"
    ICANS = "icans", "ICANS"
    SEPSIS = "sepsis", "Not CRS by ASTCT: evaluate sepsis/other cause"
    IEC_HS = "iec_hs", "IEC-HS screen positive"
    LICATS = "licats", "LICATS screen positive"
    OVERDUE_VITALS = "overdue_vitals", "Vitals overdue"
    OVERDUE_NEURO = "overdue_neuro", "Neuro check overdue"
    OVERDUE_LABS = "overdue_labs", "Daily labs overdue"
    HYPOXAEMIA = "hypoxaemia", "Hypoxaemia: SpO2 below 90 %"  # A-15, ALERT-11
    ICH = "ich", "Intracranial haemorrhage: neuro consult and imaging"  # B-9, ALERT-12
    # Follow-up after the first month (ALERT-13), raised by the followup app.
    RELAPSE = "relapse", "Flare or relapse"
    SEROLOGY = "serology", "Serological re-activation"
    B_CELL_APLASIA_LOST = "b_cell_aplasia_lost", "Loss of B-cell aplasia"
    OVERDUE_VISIT = "overdue_visit", "Follow-up visit overdue"


GRADED_SYNDROMES = frozenset({Syndrome.CRS, Syndrome.ICANS})
#: The clinical core's urgent findings (carttrack FINDING_CODES) and the urgent alert each raises.
FINDING_SYNDROMES = {"hypoxaemia": Syndrome.HYPOXAEMIA, "intracranial_haemorrhage": Syndrome.ICH}
#: Alerts that follow the grade evaluations (a correction can withdraw their support); the overdue
#: check alerts follow the schedule instead.
EVALUATED_SYNDROMES = frozenset(
    {
        Syndrome.CRS,
        Syndrome.ICANS,
        Syndrome.SEPSIS,
        Syndrome.IEC_HS,
        Syndrome.LICATS,
        *FINDING_SYNDROMES.values(),
    }
)
#: Follow-up alerts (ALERT-13): they outlive the acute monitoring of a course closed as complete.
FOLLOWUP_SYNDROMES = frozenset(
    {Syndrome.RELAPSE, Syndrome.SEROLOGY, Syndrome.B_CELL_APLASIA_LOST, Syndrome.OVERDUE_VISIT}
)
OVERDUE_SYNDROMES = {
    "vitals": Syndrome.OVERDUE_VITALS,
    "neuro": Syndrome.OVERDUE_NEURO,
    "labs": Syndrome.OVERDUE_LABS,
}


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    EMERGENT = "emergent", "Emergent"


URGENCY_RANK = {Urgency.ROUTINE: 1, Urgency.URGENT: 2, Urgency.EMERGENT: 3}


def urgency_for_grade(grade: int | None) -> str:
    """Grade 1 routine, grade 2 urgent, grade ≥ 3 emergent (the issue's urgency tiers)."""
    if grade is None or grade <= 1:
        return Urgency.ROUTINE
    if grade == 2:
        return Urgency.URGENT
    return Urgency.EMERGENT


class Channel(models.TextChoices):
    INAPP = "inapp", "In-app inbox"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PAGER = "pager", "Pager"


#: The channel lists, defined once: a page that must reach a person now (the leads, the built-in first
#: step), and a routine notice (in the inbox and by e-mail).
PAGE_CHANNELS: tuple[str, ...] = (Channel.INAPP, Channel.EMAIL, Channel.SMS)
ROUTINE_CHANNELS: tuple[str, ...] = (Channel.INAPP, Channel.EMAIL)
#: A nudge to the person at the bedside: the inbox and a text message (reminders, overdue checks).
SMS_NOW: tuple[str, ...] = (Channel.INAPP, Channel.SMS)


class Target(models.TextChoices):
    ONCALL_PRIMARY = "oncall_primary", "On-call (primary)"
    ONCALL_BACKUP = "oncall_backup", "On-call (backup)"
    ROLE = "role", "Everyone with a role"
    USER = "user", "A named person"
    LEADS = "leads", "Attending, charge nurse and coordinators"
    CHARGE_NURSE = "charge_nurse", "Charge nurse"
