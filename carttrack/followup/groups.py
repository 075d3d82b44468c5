"""Indication groups (CASE-2: `patient.indication_group`; VISIT-3: one visit template per group).

The group decides which follow-up rules apply: renal response and LN flare only for lupus nephritis
(RENAL-1), the juvenile TIS thresholds for juvenile dermatomyositis (TIS-3), the urgent loss of
B-cell aplasia for B-ALL (BCELL-5, G-7), and the visit template (G-1). Without an explicit group
it is read from the free-text indication, word by word, case-insensitive.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache


class IndicationGroup(StrEnum):
    SLE = "sle"
    LUPUS_NEPHRITIS = "lupus_nephritis"
    MYOSITIS = "myositis"
    JUVENILE_DERMATOMYOSITIS = "juvenile_dermatomyositis"
    SSC = "ssc"
    ONCOLOGY = "oncology"
    # + an autoimmune indication outside the four disease groups (e.g. myasthenia, NMOSD): follow-up
    #   visits and B cells apply, no disease instrument does.
    OTHER_AUTOIMMUNE = "other_autoimmune"


INDICATION_GROUPS: tuple[str, ...] = tuple(g.value for g in IndicationGroup)
LUPUS_GROUPS = frozenset({IndicationGroup.SLE, IndicationGroup.LUPUS_NEPHRITIS})
MYOSITIS_GROUPS = frozenset({IndicationGroup.MYOSITIS, IndicationGroup.JUVENILE_DERMATOMYOSITIS})

# Words that name each group in a free-text indication (checked in this order).
_LUPUS_WORDS = ("sle", "lupus")
_KIDNEY_WORDS = ("nephritis", "renal", "kidney")
_MYOSITIS_WORDS = (
    "myositis",
    "dermatomyositis",
    "polymyositis",
    "antisynthetase",
    "anti-synthetase",
    "iim",
    "myopathy",
)
# "SLE without nephritis", "no renal involvement", "non-renal SLE": the kidney word is negated.
_NO_KIDNEY = re.compile(r"(?<![a-z])(without|no|non|not)[ -](lupus |renal |kidney )?(nephritis|renal|kidney)")
_SSC_WORDS = ("systemic sclerosis", "ssc", "scleroderma", "dcssc", "lcssc")


@lru_cache(maxsize=1024)
def _has_word(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])", text) for w in words)


def indication_group(indication: str, explicit: str | None, *, autoimmune: bool) -> IndicationGroup:
    """The explicit group if given, else read from the indication text; `autoimmune` is the core's
    autoimmune switch (screens.is_autoimmune) and separates other autoimmune diseases from oncology."""
    if explicit is not None:
        return IndicationGroup(explicit)
    text = indication.lower()
    if _has_word(text, ("jdm",)) or (
        _has_word(text, ("juvenile",)) and _has_word(text, ("dermatomyositis", "myositis"))
    ):
        return IndicationGroup.JUVENILE_DERMATOMYOSITIS
    if _has_word(text, _LUPUS_WORDS):
        if _has_word(text, _KIDNEY_WORDS) and not _NO_KIDNEY.search(text):
            return IndicationGroup.LUPUS_NEPHRITIS
        return IndicationGroup.SLE
    if _has_word(text, _SSC_WORDS):
        return IndicationGroup.SSC
    if _has_word(text, _MYOSITIS_WORDS):
        return IndicationGroup.MYOSITIS
    return IndicationGroup.OTHER_AUTOIMMUNE if autoimmune else IndicationGroup.ONCOLOGY


_B_ALL = re.compile(r"(?<![a-z])(b[- ]?all|b[- ]cell all|acute lymphoblastic)(?![a-z])", re.IGNORECASE)
_ALL_CAPS = re.compile(r"(?<![A-Za-z])ALL(?![A-Za-z])")  # "ALL" in capitals: the word "all" is not


def is_b_all(indication: str) -> bool:
    """B-cell acute lymphoblastic leukaemia (BCELL-5: loss of B-cell aplasia is urgent)."""
    return bool(_B_ALL.search(indication) or _ALL_CAPS.search(indication))


# CASE-10: a case file has no target antigen; it is read from `patient.product` — the antigen the
# text names, else the approved product's name (its label's target). Checked in this order.
_PRODUCT_TARGETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("CD19×BCMA", ("cd19×bcma", "cd19xbcma", "cd19/bcma", "cd19-bcma")),
    ("BCMA", ("bcma", "idecabtagene", "ide-cel", "abecma", "ciltacabtagene", "cilta-cel", "carvykti")),
    (
        "CD19",
        (
            "cd19",
            "axicabtagene",
            "axi-cel",
            "yescarta",
            "tisagenlecleucel",
            "tisa-cel",
            "kymriah",
            "lisocabtagene",
            "liso-cel",
            "breyanzi",
            "brexucabtagene",
            "brexu-cel",
            "tecartus",
            "obecabtagene",
            "obe-cel",
            "aucatzyl",
        ),
    ),
)


def product_target(product: str) -> str:
    """CASE-10: the target antigen of a case file's free-text product ("" when it names none)."""
    text = product.lower()
    for target, words in _PRODUCT_TARGETS:
        if any(w in text for w in words):
            return target
    return ""
