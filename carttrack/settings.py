"""DecisionSettings: the site-configurable decisions of the rule book (A-1…E-3), one object with those
defaults.

Change a policy with dataclasses.replace(DecisionSettings(), ...) or DecisionSettings.from_dict(d);
every Evaluation carries .settings (to_dict()) so each grade says which policy produced it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, get_type_hints


@dataclass(frozen=True, slots=True)
class DecisionSettings:
    # --- CRS -----------------------------------------------------------------------------------
    # antipyretics waive the fever requirement for this many hours after the last dose (0 = never).
    antipyretic_masking_hours: float = 24.0
    # tocilizumab / corticosteroid / anakinra / siltuximab waive fever for the rest of the episode.
    anticytokine_masks_for_episode: bool = True
    # A-2 (revised): after the patient's CRS episode has closed, fever stays waived for as long as the
    # therapy acts, counted from its last dose; hypotension/hypoxia in that time opens a new episode.
    steroid_masking_after_episode_hours: float = 72.0
    tocilizumab_masking_after_episode_hours: float = 168.0
    siltuximab_masking_after_episode_hours: float = 168.0
    anakinra_masking_after_episode_hours: float = 24.0
    # a physician-recorded "crs_diagnosed" event opens an episode without fever.
    crs_diagnosed_opens_episode: bool = True
    # fever in the preceding N h qualifies concurrent hypotension/hypoxia.
    fever_lookback_hours: float = 24.0
    # an episode closes after N h without fever, vasopressors or supplemental oxygen.
    episode_close_hours: float = 48.0
    # hypotension thresholds (CRS-3). Adults from this age; children use PALS (CRS-4 [PALS hypotension]).
    adult_age_years: float = 18.0
    adult_sbp_below_mmhg: float = 90.0
    adult_map_below_mmhg: float = 65.0
    use_map_in_adults: bool = True
    fluid_bolus_counts_as_hypotension: bool = True
    # optional relative rule: SBP < fraction × baseline and < ceiling (off by default).
    relative_hypotension_rule: bool = False
    relative_hypotension_fraction: float = 0.8
    relative_hypotension_ceiling_mmhg: float = 100.0
    # vasopressin alone counts as one vasopressor (grade 3).
    vasopressin_alone_counts: bool = True
    # HFNC graded by device (grade 3) even at ≤ 6 L/min.
    hfnc_device_beats_flow: bool = True
    # SpO2 below this (%) raises an urgent hypoxaemia finding whatever the CRS grade.
    hypoxaemia_spo2_below_percent: float = 90.0
    # MGMT-4 [Santomasso 2021]: fever persisting longer than this -> manage as grade 2 (consider tocilizumab).
    persistent_fever_hours: float = 72.0
    # tocilizumab dosing.
    tocilizumab_mg_per_kg: float = 8.0
    tocilizumab_low_weight_rule: bool = True
    tocilizumab_low_weight_kg: float = 30.0
    tocilizumab_low_weight_mg_per_kg: float = 12.0
    tocilizumab_max_dose_mg: float = 800.0
    # tocilizumab limits per infusion course.
    tocilizumab_max_doses_24h: int = 3
    tocilizumab_max_doses_course: int = 4
    tocilizumab_min_interval_hours: float = 8.0
    # MGMT-22: steroid given within this many hours -> antifungal prophylaxis + taper watch [Santomasso 2021].
    steroid_watch_hours: float = 72.0
    # --- ICANS ---------------------------------------------------------------------------------
    # B-4: CAPD below this age (or developmental delay), ICE from it.
    capd_below_age_years: float = 12.0
    # B-6: a domain not re-assessed for this long is shown as stale.
    neuro_stale_hours: float = 24.0
    # B-9: platelets below this (×10⁹/L) at an intracranial haemorrhage add a transfusion-threshold note.
    ich_platelet_transfusion_below_10e9_l: float = 50.0
    # B-7: baseline-relative CAPD mode (off by default: printed table literally).
    capd_baseline_relative: bool = False
    capd_baseline_rise: int = 2
    # MGMT-13 [Santomasso 2021] p7: ICANS grade 2 without CRS: dexamethasone for high-risk products
    # (name fragments, lower case).
    high_risk_icans_products: tuple[str, ...] = (
        "axicabtagene",
        "axi-cel",
        "yescarta",
        "brexucabtagene",
        "brexu-cel",
        "tecartus",
    )
    # --- ICAHT and other toxicities --------------------------------------------------------------
    # C-1: interpolate across at most this many consecutive missing days.
    icaht_max_interpolated_gap_days: int = 7
    # C-1: recovery = ANC > 500/µL on this many consecutive days.
    icaht_recovery_days: int = 3
    icaht_early_end_day: int = 30
    icaht_late_end_day: int = 100
    # C-4: IVIG policy.
    ivig_igg_threshold_mg_dl: float = 400.0
    ivig_requires_infection: bool = True
    # C-3: IEC-HS screen (IECHS-3).
    iec_hs_ferritin_fold: float = 2.0
    iec_hs_window_hours: float = 72.0
    iec_hs_from_hours: float = 168.0
    # LICATS-4, BCELL-3: LICATS screen window and B-cell aplasia.
    licats_from_hours: float = 72.0
    licats_to_hours: float = 1440.0
    licats_creatinine_rise_fraction: float = 0.5
    b_cell_aplasia_cd19_below_per_ul: float = 1.0
    # EVAL-9: autoimmune indications switch on the autoimmune rules; matched as words, case-insensitive.
    autoimmune_terms: tuple[str, ...] = (
        "sle",
        "lupus",
        "myositis",
        "dermatomyositis",
        "polymyositis",
        "iim",
        "systemic sclerosis",
        "ssc",
        "scleroderma",
        "autoimmune",
        "myasthenia",
        "nmosd",
        "vasculitis",
        "sjogren",
        "sjögren",
    )
    kidney_involvement_terms: tuple[str, ...] = ("nephritis", "renal", "kidney")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionSettings:
        """Build from a dict; unknown keys are ignored, a bad value raises ValueError naming the key."""
        hints = get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            hint = hints[f.name]
            if hint is bool:
                ok = isinstance(value, bool)
            elif hint is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif hint is float:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                value = float(value) if ok else value
            else:
                ok = isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value)
                value = tuple(value) if ok else value
            if not ok or (isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0):
                raise ValueError(
                    f"setting {f.name}: {value!r} is not a valid {getattr(hint, '__name__', hint)}"
                )
            kwargs[f.name] = value
        return cls(**kwargs)

    def replace(self, **changes: Any) -> DecisionSettings:
        return dataclasses.replace(self, **changes)


DEFAULT_SETTINGS = DecisionSettings()
