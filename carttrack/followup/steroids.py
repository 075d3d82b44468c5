"""Glucocorticoid equivalence and the drug classes of the follow-up medication list (STEROID-1,
STEROID-2).

Prednisolone-equivalent mg/day (STEROID-1) [Glucocorticoid equivalence]: prednisone or prednisolone 5 mg =
methylprednisolone 4 mg = dexamethasone 0.75 mg = hydrocortisone 20 mg. Classes (STEROID-2):
glucocorticoid, antimalarial, immunosuppressant, biologic, investigational; two more the medication
list needs and no remission definition counts: anti-infective prophylaxis (INF-3, INF-4, BCELL-7) and
supportive (immunoglobulin replacement). Names are the `medication_status` names of CASE-7 plus the
other drugs of the washout table (ELIG-3), lower case with underscores.
"""

from __future__ import annotations

from enum import StrEnum


class DrugClass(StrEnum):
    GLUCOCORTICOID = "glucocorticoid"
    ANTIMALARIAL = "antimalarial"
    IMMUNOSUPPRESSANT = "immunosuppressant"
    BIOLOGIC = "biologic"
    INVESTIGATIONAL = "investigational"
    PROPHYLAXIS = "anti_infective_prophylaxis"
    SUPPORTIVE = "supportive"


PREDNISOLONE_REFERENCE_MG = 5.0  # STEROID-1: the equivalence is stated against prednisolone 5 mg
# STEROID-1 [Glucocorticoid equivalence]: mg of each glucocorticoid equivalent to prednisolone 5 mg.
MG_EQUIVALENT_TO_PREDNISOLONE_5: dict[str, float] = {
    "prednisone": 5.0,
    "prednisolone": 5.0,
    "methylprednisolone": 4.0,
    "dexamethasone": 0.75,
    "hydrocortisone": 20.0,
}

_ANTIMALARIALS = ("hydroxychloroquine", "chloroquine")
_IMMUNOSUPPRESSANTS = (
    "mycophenolate_mofetil",
    "mycophenolic_acid",
    "azathioprine",
    "methotrexate",
    "leflunomide",
    "cyclophosphamide",
    "tacrolimus",
    "voclosporin",
    "ciclosporin",
    "sirolimus",
    "everolimus",
    "tofacitinib",
    "baricitinib",
    "upadacitinib",
    "bortezomib",
    "dimethyl_fumarate",
    "fingolimod",
    "cladribine",
)
_BIOLOGICS = (
    "belimumab",
    "anifrolumab",
    "rituximab",
    "obinutuzumab",
    "ocrelizumab",
    "ofatumumab",
    "tocilizumab",
    "sarilumab",
    "anakinra",
    "canakinumab",
    "secukinumab",
    "ustekinumab",
    "abatacept",
    "adalimumab",
    "etanercept",
    "infliximab",
    "natalizumab",
    "alemtuzumab",
    "daratumumab",
    "atg",
)
# BCELL-7: antiviral (HSV/VZV) and PJP prophylaxis, the drugs the stop rule (CD4, 12 months) is about.
ANTIVIRAL_PJP_PROPHYLAXIS = frozenset(
    {"acyclovir", "valacyclovir", "famciclovir", "tmp_smx", "atovaquone", "dapsone", "pentamidine"}
)
_OTHER_PROPHYLAXIS = ("letermovir", "entecavir", "tenofovir", "lamivudine", "fluconazole", "posaconazole")
_SUPPORTIVE = ("ivig", "scig")

DRUG_CLASSES: dict[str, DrugClass] = {
    **{name: DrugClass.GLUCOCORTICOID for name in MG_EQUIVALENT_TO_PREDNISOLONE_5},
    **{name: DrugClass.ANTIMALARIAL for name in _ANTIMALARIALS},
    **{name: DrugClass.IMMUNOSUPPRESSANT for name in _IMMUNOSUPPRESSANTS},
    **{name: DrugClass.BIOLOGIC for name in _BIOLOGICS},
    **{name: DrugClass.PROPHYLAXIS for name in sorted(ANTIVIRAL_PJP_PROPHYLAXIS) + list(_OTHER_PROPHYLAXIS)},
    **{name: DrugClass.SUPPORTIVE for name in _SUPPORTIVE},
}
FOLLOWUP_DRUGS: tuple[str, ...] = tuple(DRUG_CLASSES)

# G-2, REMISSION-1: a drug of these classes ends (or prevents) drug-free remission.
NOT_DRUG_FREE_CLASSES = frozenset(
    {DrugClass.GLUCOCORTICOID, DrugClass.IMMUNOSUPPRESSANT, DrugClass.BIOLOGIC, DrugClass.INVESTIGATIONAL}
)
# DORIS-3: the DORIS stability clause covers these (glucocorticoids have their own limit).
STABILITY_CLASSES = frozenset(
    {DrugClass.ANTIMALARIAL, DrugClass.IMMUNOSUPPRESSANT, DrugClass.BIOLOGIC, DrugClass.INVESTIGATIONAL}
)


# Abbreviations a medication list uses, and other names of the same drug.
DRUG_ALIASES: dict[str, str] = {
    "hcq": "hydroxychloroquine",
    "mmf": "mycophenolate_mofetil",
    "mpa": "mycophenolic_acid",
    "mycophenolate_sodium": "mycophenolic_acid",
    "aza": "azathioprine",
    "mtx": "methotrexate",
    "cyc": "cyclophosphamide",
    "cyclosporine": "ciclosporin",
    "cotrimoxazole": "tmp_smx",
    "trimethoprim_sulfamethoxazole": "tmp_smx",
    "aciclovir": "acyclovir",
}


def normalise_drug_name(name: str) -> str:
    """'Mycophenolate mofetil' -> 'mycophenolate_mofetil'; 'MMF' -> 'mycophenolate_mofetil'."""
    norm = "_".join(name.strip().lower().replace("-", " ").replace("/", " ").split())
    return DRUG_ALIASES.get(norm, norm)


def drug_class(name: str, *, investigational: bool = False) -> DrugClass | None:
    """The class of a known drug; an unknown name is investigational when flagged so, else None."""
    known = DRUG_CLASSES.get(name)
    if known is not None:
        return known
    return DrugClass.INVESTIGATIONAL if investigational else None


def prednisolone_equivalent_mg(drug: str, mg_per_day: float) -> float:
    """STEROID-1: mg/day of a glucocorticoid as prednisolone-equivalent mg/day."""
    return mg_per_day * PREDNISOLONE_REFERENCE_MG / MG_EQUIVALENT_TO_PREDNISOLONE_5[drug]
