"""Controlled vocabularies (CASE-3, MGMT-1). The forms use these for their choices."""

from __future__ import annotations

from enum import StrEnum


class O2Device(StrEnum):
    """Oxygen delivery devices (CASE-3)."""

    ROOM_AIR = "room_air"
    BLOW_BY = "blow_by"
    NASAL_CANNULA = "nasal_cannula"
    HFNC = "hfnc"
    SIMPLE_FACE_MASK = "simple_face_mask"
    VENTURI = "venturi"
    NON_REBREATHER = "non_rebreather"
    CPAP = "cpap"
    BIPAP = "bipap"
    NIV_OTHER = "niv_other"
    INVASIVE_MV = "invasive_mv"


class Consciousness(StrEnum):
    """Level of consciousness (ICANS-1, B-8): `alert` is normal, not grade 1."""

    ALERT = "alert"
    AWAKENS_SPONTANEOUSLY = "awakens_spontaneously"
    AWAKENS_TO_VOICE = "awakens_to_voice"
    AWAKENS_TO_TACTILE = "awakens_to_tactile"
    UNAROUSABLE = "unarousable"
    NOT_ASSESSABLE = "not_assessable"


class Seizure(StrEnum):
    NONE = "none"
    RAPID_RESOLVING_CLINICAL = "rapid_resolving_clinical"
    NONCONVULSIVE_EEG_RESOLVED = "nonconvulsive_eeg_resolved"
    PROLONGED_GT5MIN = "prolonged_gt5min"
    REPETITIVE_NO_RETURN = "repetitive_no_return"


class Motor(StrEnum):
    NONE = "none"
    DEEP_FOCAL_WEAKNESS = "deep_focal_weakness"


class IcpEdema(StrEnum):
    NONE = "none"
    FOCAL_LOCAL_EDEMA = "focal_local_edema"
    DIFFUSE_EDEMA = "diffuse_edema"
    POSTURING = "posturing"
    CN_VI_PALSY = "cn_vi_palsy"
    PAPILLEDEMA = "papilledema"
    CUSHING_TRIAD = "cushing_triad"


O2_DEVICES: tuple[str, ...] = tuple(m.value for m in O2Device)
# How a device reads in a sentence (drivers, standing values, findings).
O2_DEVICE_NAMES: dict[O2Device, str] = {
    O2Device.ROOM_AIR: "room air",
    O2Device.BLOW_BY: "blow-by oxygen",
    O2Device.NASAL_CANNULA: "nasal cannula",
    O2Device.HFNC: "high-flow nasal cannula (HFNC)",
    O2Device.SIMPLE_FACE_MASK: "simple face mask",
    O2Device.VENTURI: "Venturi mask",
    O2Device.NON_REBREATHER: "non-rebreather mask",
    O2Device.CPAP: "CPAP",
    O2Device.BIPAP: "BiPAP",
    O2Device.NIV_OTHER: "other non-invasive ventilation",
    O2Device.INVASIVE_MV: "invasive mechanical ventilation",
}
CONSCIOUSNESS: tuple[str, ...] = tuple(m.value for m in Consciousness)
SEIZURE: tuple[str, ...] = tuple(m.value for m in Seizure)
MOTOR: tuple[str, ...] = tuple(m.value for m in Motor)
ICP_EDEMA: tuple[str, ...] = tuple(m.value for m in IcpEdema)

# How the neuro vocabulary reads in a sentence (drivers, standing values).
CONSCIOUSNESS_NAMES: dict[Consciousness, str] = {
    Consciousness.ALERT: "alert",
    Consciousness.AWAKENS_SPONTANEOUSLY: "awakens spontaneously",
    Consciousness.AWAKENS_TO_VOICE: "awakens to voice",
    Consciousness.AWAKENS_TO_TACTILE: "awakens only to touch",
    Consciousness.UNAROUSABLE: "unarousable",
    Consciousness.NOT_ASSESSABLE: "consciousness not assessable",
}
SEIZURE_NAMES: dict[Seizure, str] = {
    Seizure.NONE: "no seizure",
    Seizure.RAPID_RESOLVING_CLINICAL: "clinical seizure resolving rapidly",
    Seizure.NONCONVULSIVE_EEG_RESOLVED: "non-convulsive seizure on EEG resolved with intervention",
    Seizure.PROLONGED_GT5MIN: "prolonged seizure (> 5 min)",
    Seizure.REPETITIVE_NO_RETURN: "repetitive seizures without return to baseline",
}
MOTOR_NAMES: dict[Motor, str] = {
    Motor.NONE: "no focal weakness",
    Motor.DEEP_FOCAL_WEAKNESS: "deep focal motor weakness",
}
ICP_EDEMA_NAMES: dict[IcpEdema, str] = {
    IcpEdema.NONE: "no oedema",
    IcpEdema.FOCAL_LOCAL_EDEMA: "focal/local oedema",
    IcpEdema.DIFFUSE_EDEMA: "diffuse cerebral oedema",
    IcpEdema.POSTURING: "decerebrate/decorticate posturing",
    IcpEdema.CN_VI_PALSY: "cranial nerve VI palsy",
    IcpEdema.PAPILLEDEMA: "papilloedema",
    IcpEdema.CUSHING_TRIAD: "Cushing's triad",
}

LOW_FLOW_DEVICES = frozenset({O2Device.BLOW_BY, O2Device.NASAL_CANNULA})
HIGH_FLOW_OR_MASK_DEVICES = frozenset(
    {O2Device.HFNC, O2Device.SIMPLE_FACE_MASK, O2Device.VENTURI, O2Device.NON_REBREATHER}
)
POSITIVE_PRESSURE_DEVICES = frozenset(
    {O2Device.CPAP, O2Device.BIPAP, O2Device.NIV_OTHER, O2Device.INVASIVE_MV}
)

# Vasoactive drugs (CRS-14, A-6). name -> True if it counts as a vasopressor for CRS grading.
# Vasopressin is a vasopressor but is handled specially (CRS-14). Inotropes are recorded, not graded.
VASOPRESSIN = "vasopressin"
VASOPRESSORS: dict[str, bool] = {
    "norepinephrine": True,
    "epinephrine": True,
    "phenylephrine": True,
    "dopamine": True,
    "vasopressin": True,
    "angiotensin_ii": True,
    "dobutamine": False,  # inotrope, A-6
    "milrinone": False,  # inotrope, A-6
    "isoproterenol": False,  # inotrope/chronotrope, A-6
}
INOTROPES: frozenset[str] = frozenset(k for k, v in VASOPRESSORS.items() if not v)
# Drug codes whose plain reading is not the code itself (the others read as written).
DRUG_NAMES: dict[str, str] = {
    "angiotensin_ii": "angiotensin II",
    "g_csf": "G-CSF",
    "atg": "ATG",
    "ivig": "IVIG",
    "tmp_smx": "TMP-SMX",
    "piperacillin_tazobactam": "piperacillin-tazobactam",
    "intrathecal_chemotherapy": "intrathecal chemotherapy",
    "hypertonic_saline": "hypertonic saline",
    "antibiotic_other": "other antibiotic",
    "nsaid": "NSAID",
}


def drug_name(code: str) -> str:
    """How a drug code reads in a sentence."""
    return DRUG_NAMES.get(code, code)


# Drug classes (CRS-23 masking, MGMT-1).
TOCILIZUMAB = "tocilizumab"
CORTICOSTEROIDS = frozenset(
    {"dexamethasone", "methylprednisolone", "hydrocortisone", "prednisone", "prednisolone"}
)
ANTI_CYTOKINE = frozenset({"tocilizumab", "anakinra", "siltuximab"})
# these mask fever for the rest of the CRS episode.
MASKING_FOR_EPISODE = ANTI_CYTOKINE | CORTICOSTEROIDS
# these mask fever for 24 h after the last dose.
ANTIPYRETICS = frozenset(
    {"acetaminophen", "paracetamol", "ibuprofen", "naproxen", "ketorolac", "metamizole", "nsaid"}
)
G_CSF = frozenset({"g_csf", "filgrastim", "pegfilgrastim", "lenograstim"})
DRUGS: tuple[str, ...] = tuple(
    sorted(
        MASKING_FOR_EPISODE
        | ANTIPYRETICS
        | G_CSF
        | {
            "levetiracetam",
            "ruxolitinib",
            "cyclophosphamide",
            "atg",
            "ivig",
            "intrathecal_chemotherapy",
            "lorazepam",
            "midazolam",
            "diazepam",
            "mannitol",
            "hypertonic_saline",
            "cefepime",
            "piperacillin_tazobactam",
            "meropenem",
            "levofloxacin",
            "vancomycin",
            "fluconazole",
            "posaconazole",
            "voriconazole",
            "micafungin",
            "acyclovir",
            "valacyclovir",
            "tmp_smx",
            "entecavir",
            "allopurinol",
            "antibiotic_other",
        }
    )
)

EVENTS: tuple[str, ...] = (
    "death",
    "crs_diagnosed",
    "icans_diagnosed",
    "progression",
    "next_therapy",
    "icu_admission",
    "discharge",
    "flare_declared",  # physician-declared flare or relapse (RELAPSE-5; any disease)
)

CLINICAL_FLAGS: tuple[str, ...] = (
    "recurrent_sinopulmonary_infections",
    "recurrent_infections",
    "serious_infection",
    "cns_involvement",
    "prior_seizures",
    # LICATS organ signals (LICATS-1, LICATS-4) in an organ affected by the autoimmune disease before CAR-T:
    "new_inflammatory_rash",
    "mucosal_lesions",
    "arthritis_or_enthesitis",
    "troponin_rise",
    "unexplained_dyspnea",
    "diarrhea_or_abdominal_pain",
)
INFECTION_FLAGS = frozenset(
    {"recurrent_sinopulmonary_infections", "recurrent_infections", "serious_infection"}
)
LICATS_FLAGS = frozenset(
    {
        "new_inflammatory_rash",
        "mucosal_lesions",
        "arthritis_or_enthesitis",
        "troponin_rise",
        "unexplained_dyspnea",
        "diarrhea_or_abdominal_pain",
    }
)

# Lab fields of case files: key -> unit label. Keys marked as alternatives are converted (units.py).
LAB_FIELDS: dict[str, str] = {
    "anc_per_uL": "/µL",
    "platelets_10e9_L": "×10⁹/L",
    "hgb_g_dL": "g/dL",
    "crp_mg_L": "mg/L",
    "crp_mg_dL": "mg/dL",
    "ferritin_ng_mL": "ng/mL",
    "il6_pg_mL": "pg/mL",
    "fibrinogen_mg_dL": "mg/dL",
    "ldh_U_L": "U/L",
    "alt_U_L": "U/L",
    "alt_uln_U_L": "U/L",
    "ast_U_L": "U/L",
    "ast_uln_U_L": "U/L",
    "creatinine_mg_dL": "mg/dL",
    "creatinine_umol_L": "µmol/L",
    "igg_mg_dL": "mg/dL",
    "cd19_per_uL": "/µL",
    "upcr_mg_mg": "mg/mg",
    # Follow-up (CASE-7; LOINC codes LAB-14…LAB-18): upcr_mg_mmol is converted
    # to upcr_mg_mg (UNIT-10); anti-dsDNA, C3 and C4 come with the reporting lab's limit (D-3).
    "upcr_mg_mmol": "mg/mmol",
    "protein_g_24h": "g/24 h",
    "egfr_mL_min": "mL/min/1.73 m²",
    "anti_dsdna_IU_mL": "IU/mL",
    "anti_dsdna_cutoff_IU_mL": "IU/mL",
    "c3_mg_dL": "mg/dL",
    "c3_lln_mg_dL": "mg/dL",
    "c4_mg_dL": "mg/dL",
    "c4_lln_mg_dL": "mg/dL",
    "cd4_per_uL": "/µL",
    "naive_b_cells_pct": "% of CD19",  # naïve (CD27−IgD+) fraction of the B cells, BCELL-4
}

# Suggestion vocabulary (MGMT-1): stable ids.
SUGGESTION_CODES: tuple[str, ...] = (
    "supportive_care",
    "antipyretic",
    "iv_fluids",
    "infection_workup",
    "neutropenic_fever_antibiotics",
    "g_csf_consider",
    "tocilizumab",
    "consider_tocilizumab",
    "dexamethasone",
    "high_dose_methylprednisolone",
    "steroid_taper_plan",
    "icu_transfer",
    "consider_icu_transfer",
    "telemetry_pulse_oximetry",
    "echocardiogram",
    "vasopressor_support",
    "neuro_consult",
    "neuroimaging",
    "eeg",
    "lumbar_puncture",
    "antiseizure_treatment",
    "seizure_prophylaxis_levetiracetam",
    "aspiration_precautions",
    "raised_icp_management",
    "alternative_immunosuppression",
    "antifungal_prophylaxis",
    "iec_hs_evaluation",
    "ivig",
    "consider_ivig",
    "prophylactic_g_csf",
    "notify_physician_urgent",
    "continue_monitoring",
    "sepsis_evaluation",
    "licats_evaluation",
)

# Follow-up lab fields with their LOINC codes (LAB-12…LAB-18), shown beside the name on the visit form.
FOLLOWUP_LAB_LOINC: dict[str, tuple[str, str]] = {
    "cd19_per_uL": ("CD19 B cells", "8116-6"),
    "cd4_per_uL": ("CD4 T cells", "24467-3"),
    "igg_mg_dL": ("IgG", "2465-3"),
    "egfr_mL_min": ("eGFR (CKD-EPI 2021)", "98979-8"),
    "creatinine_mg_dL": ("Creatinine", "2160-0"),
    "upcr_mg_mg": ("Urine protein/creatinine ratio", "2890-2"),
    "anti_dsdna_IU_mL": ("Anti-dsDNA", "5130-0"),
    "c3_mg_dL": ("Complement C3", "4485-9"),
    "c4_mg_dL": ("Complement C4", "4498-2"),
}
