"""The codes the FHIR interface exchanges (docs/interop.md): LOINC and UCUM of
LAB-1…LAB-18 (docs/clinical-rules.md; FHIR-2…FHIR-6), the project's local code systems for what has
no verified standard code, and the ICD-10-CM / NCIt codes of the toxicity episodes.

Each LOINC code maps to one observation kind of the clinical core and, per value, to the case-file
field it fills with the UCUM units that field accepts as written.  A value in any other unit is
converted by the UCUM library into the first of them it converts to (``interop.units``)."""

from __future__ import annotations

from dataclasses import dataclass

from carttrack.vocabulary import DRUGS, O2_DEVICES, VASOPRESSORS

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"

#: The project's own code systems (published with the CapabilityStatement, FHIR-2, FHIR-4).
LOCAL = "https://carttrack.org/fhir/CodeSystem"
LOCAL_OBSERVATION = f"{LOCAL}/observation"  # codes without LOINC: o2-device, ice, crs-grade ...
LOCAL_O2_DEVICE = f"{LOCAL}/o2-device"  # the device list of CASE-3
LOCAL_DRUG = f"{LOCAL}/drug"  # the clinical core's drug vocabulary (RxNorm: not mapped, docs/interop.md)
LOCAL_PRODUCT = f"{LOCAL}/product"
LOCAL_ICE_ITEM = f"{LOCAL}/ice-item"
LOCAL_TOXICITY = f"{LOCAL}/toxicity"  # ICAHT, IEC-HS, LICATS: no ICD-10-CM code in the specification
LOCAL_FIELD = f"{LOCAL}/case-file-field"  # a field of a case-file record (CASE-3), value as JSON text
LOCAL_EXT = "https://carttrack.org/fhir/StructureDefinition"
FOR_CRS_ICANS_EXT = f"{LOCAL_EXT}/for-crs-icans"  # a dose given for CRS/ICANS (false: another reason, A-2)

#: The HL7 AdverseEvent Clinical Research R4 backport 1.0.1 (FHIR-6): the profile and its extensions
#: (``AE_EXT``/<id>: ae-grade, resolve-date, mitigating-action, suspect-entity, resultingEffect, status).
AE_EXT = "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition"
AE_PROFILE = f"{AE_EXT}/AdverseEvent-clinical-research"
EVENT_STATUS = "http://hl7.org/fhir/event-status"  # the profile's status modifier extension
#: The profile's outcome value set (adverse-event-clinical-research-outcomes), NCIt codes.
AE_OUTCOME = {
    "resolved": ("C49498", "Recovered/Resolved"),
    "ongoing": ("C49494", "Not recovering/not resolved"),
}
AE_GRADE_VALUESET = "http://terminology.hl7.org/ValueSet/adverse-event-clinical-research-grades"
#: FHIR's data-absent-reason: a required element the project has no value for says why (FHIR-6).
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


@dataclass(frozen=True)
class Field:
    """One value of a LOINC-coded observation: the case-file field and the UCUM units it takes as
    written (the first is canonical); ``limit`` names the field filled from the lab's referenceRange."""

    name: str
    units: tuple[str, ...]
    range_high: str | None = None
    range_low: str | None = None


@dataclass(frozen=True)
class Code:
    code: str
    display: str
    kind: str  # the clinical core's observation kind: vitals or lab
    field: Field | None  # the value itself (None: a panel whose values are all components)
    components: tuple[tuple[str, Field], ...] = ()  # (LOINC of the component, its field)


_SBP = ("8480-6", Field("sbp", ("mm[Hg]",)))
_DBP = ("8462-4", Field("dbp", ("mm[Hg]",)))
_O2_FLOW = ("3151-8", Field("o2_flow_l_min", ("L/min",)))
_FIO2 = ("3150-0", Field("fio2", ("%",)))

#: LOINC code → what it fills (LAB-1…LAB-18).
CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("8310-5", "Body temperature", "vitals", Field("temp_c", ("Cel", "[degF]"))),
        Code("8867-4", "Heart rate", "vitals", Field("hr", ("/min",))),
        Code("9279-1", "Respiratory rate", "vitals", Field("rr", ("/min",))),
        Code("85354-9", "Blood pressure panel", "vitals", None, (_SBP, _DBP)),
        Code(_SBP[0], "Systolic blood pressure", "vitals", _SBP[1]),
        Code(_DBP[0], "Diastolic blood pressure", "vitals", _DBP[1]),
        Code(
            "59408-5",
            "Oxygen saturation by pulse oximetry",
            "vitals",
            Field("spo2", ("%",)),
            (_O2_FLOW, _FIO2),
        ),
        Code(_O2_FLOW[0], "Inhaled oxygen flow rate", "vitals", _O2_FLOW[1]),
        Code(_FIO2[0], "Inhaled oxygen concentration", "vitals", _FIO2[1]),
        Code("751-8", "Neutrophils [#/volume] in Blood", "lab", Field("anc_per_uL", ("/uL",))),
        Code("777-3", "Platelets [#/volume] in Blood", "lab", Field("platelets_10e9_L", ("10*9/L",))),
        Code("718-7", "Hemoglobin [Mass/volume] in Blood", "lab", Field("hgb_g_dL", ("g/dL",))),
        Code("1988-5", "C reactive protein", "lab", Field("crp_mg_L", ("mg/L", "mg/dL"))),
        Code("2276-4", "Ferritin", "lab", Field("ferritin_ng_mL", ("ng/mL",))),
        Code("20567-4", "Ferritin (immunoassay)", "lab", Field("ferritin_ng_mL", ("ng/mL",))),
        Code("26881-3", "Interleukin 6", "lab", Field("il6_pg_mL", ("pg/mL",))),
        Code("3255-7", "Fibrinogen", "lab", Field("fibrinogen_mg_dL", ("mg/dL",))),
        Code("2532-0", "Lactate dehydrogenase", "lab", Field("ldh_U_L", ("U/L",))),
        Code("14804-9", "Lactate dehydrogenase (L to P)", "lab", Field("ldh_U_L", ("U/L",))),
        Code(
            "1742-6", "Alanine aminotransferase", "lab", Field("alt_U_L", ("U/L",), range_high="alt_uln_U_L")
        ),
        Code(
            "1920-8",
            "Aspartate aminotransferase",
            "lab",
            Field("ast_U_L", ("U/L",), range_high="ast_uln_U_L"),
        ),
        Code("2160-0", "Creatinine", "lab", Field("creatinine_mg_dL", ("mg/dL", "umol/L"))),
        Code("2465-3", "IgG", "lab", Field("igg_mg_dL", ("mg/dL",))),
        Code("8116-6", "CD19 cells [#/volume] in Blood", "lab", Field("cd19_per_uL", ("/uL",))),
        Code("24467-3", "CD4 cells [#/volume] in Blood", "lab", Field("cd4_per_uL", ("/uL",))),
        Code("98979-8", "eGFR (CKD-EPI 2021)", "lab", Field("egfr_mL_min", ("mL/min/{1.73_m2}",))),
        Code(
            "5130-0",
            "DNA double strand Ab",
            "lab",
            Field("anti_dsdna_IU_mL", ("[IU]/mL",), range_high="anti_dsdna_cutoff_IU_mL"),
        ),
        Code("4485-9", "Complement C3", "lab", Field("c3_mg_dL", ("mg/dL",), range_low="c3_lln_mg_dL")),
        Code("4498-2", "Complement C4", "lab", Field("c4_mg_dL", ("mg/dL",), range_low="c4_lln_mg_dL")),
        Code(
            "2890-2",
            "Protein/Creatinine [Mass Ratio] in Urine",
            "lab",
            Field("upcr_mg_mg", ("mg/mg", "mg/mmol")),
        ),
    )
}

#: The case-file field a unit written as its second (third …) accepted unit fills instead: the
#: clinical core converts these with its own named factors (UNIT-3, UNIT-4, UNIT-10, UNIT-1).
FIELD_FOR_UNIT: dict[tuple[str, str], str] = {
    ("temp_c", "[degF]"): "temp_f",
    ("crp_mg_L", "mg/dL"): "crp_mg_dL",
    ("creatinine_mg_dL", "umol/L"): "creatinine_umol_L",
    ("upcr_mg_mg", "mg/mmol"): "upcr_mg_mmol",
}

#: Local observation codes (no LOINC found, FHIR-2/FHIR-4).
O2_DEVICE_CODE = "o2-device"
ICE_CODE = "ice"
VASOPRESSORS_CODE = "vasopressors"
#: ``record-<kind>``: a case-file record of a kind (or the part of one) without standard codes: one
#: component per field (FHIR-4), ICE items as ``ice-item`` components and the ICE total in value.
RECORD_PREFIX = "record-"
RECORD_KINDS = (
    "vitals",
    "neuro",
    "lab",
    "event",
    "clinical_flag",
    "sledai",
    "medication_status",
    "myositis_core_set",
    "ssc_assessment",
)
CRS_GRADE_CODE = "crs-grade"
ICANS_GRADE_CODE = "icans-grade"
ICAHT_EARLY_GRADE_CODE = "icaht-early-grade"  # EHA/EBMT grades (ICAHT-4, ICAHT-10)
ICAHT_LATE_GRADE_CODE = "icaht-late-grade"
#: syndrome → the local code of its grade Observation (the export writes them, the import skips them)
GRADE_CODES = {
    "crs": CRS_GRADE_CODE,
    "icans": ICANS_GRADE_CODE,
    "icaht-early": ICAHT_EARLY_GRADE_CODE,
    "icaht-late": ICAHT_LATE_GRADE_CODE,
}
ICE_ITEMS = ("orientation", "naming", "commands", "writing", "attention")

#: Which local drug codes are vasopressors (recorded on the vitals, CRS-14) and which are doses.
VASOPRESSOR_DRUGS = frozenset(VASOPRESSORS)
DOSE_DRUGS = frozenset(DRUGS)
DEVICE_CODES = frozenset(O2_DEVICES)

#: ICD-10-CM by grade (FHIR-6): CRS D89.831–D89.835, ICANS G92.01–G92.05; unspecified D89.839 / G92.00.
ICD10_BY_GRADE: dict[str, dict[int | None, str]] = {
    "crs": {**{g: f"D89.83{g}" for g in range(1, 6)}, None: "D89.839"},
    "icans": {**{g: f"G92.0{g}" for g in range(1, 6)}, None: "G92.00"},
}
ICD10_DISPLAY = {
    "crs": "Cytokine release syndrome, grade {grade}",
    "icans": "Immune effector cell-associated neurotoxicity syndrome, grade {grade}",
}
ICD10_CODE_FIRST = "T80.82"  # complication of immune effector cellular therapy (code first)
ICD10_CODE_FIRST_DISPLAY = "Complication of immune effector cellular therapy"
#: The toxicities without an ICD-10-CM code of their own in the specification (FHIR-6): the
#: project's local code, beside T80.82 (code, display).
LOCAL_TOXICITY_CODES = {
    "icaht-early": "Early immune effector cell-associated hematotoxicity (ICAHT, day 0 to +30)",
    "icaht-late": "Late immune effector cell-associated hematotoxicity (ICAHT, day +31 to +100)",
    "iec-hs": "Immune effector cell-associated HLH-like syndrome (IEC-HS)",
    "licats": "Local immune effector cell-associated toxicity syndrome (LICATS)",
}
#: NCIt codes of the ae-grade value set, grades 1–4 (FHIR-6; grade 5 is death, coded by outcome).
NCIT_GRADE = {1: "C41338", 2: "C41339", 3: "C41340", 4: "C41337"}
NCIT_GRADE_DISPLAY = {1: "Mild", 2: "Moderate", 3: "Severe", 4: "Life-threatening"}


def accepted_loinc_text() -> str:
    """The accepted LOINC codes, for an OperationOutcome (E-2)."""
    return ", ".join(f"{c.code} ({c.display})" for c in CODES.values())
