"""Inspection frameworks, their judgement areas and grade labels.

Grades are Ofsted's 1-4 scale. Labels are kept as printed; this module only
decides whether a printed label is consistent with a grade under a framework
(grade 3 was "Adequate" until 2013 and "Requires improvement (to be good)"
after), never rewrites one into the other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Normalised areas: the lines a chart can follow across frameworks.
OVERALL = "overall"
LEADERSHIP = "leadership"
HELP_AND_PROTECTION = "help_and_protection"
CHILDREN_IN_CARE = "children_in_care"
CARE_LEAVERS = "care_leavers"
NORMALISED_AREAS = (OVERALL, LEADERSHIP, HELP_AND_PROTECTION, CHILDREN_IN_CARE, CARE_LEAVERS)

GRADE_NAMES = {1: "Outstanding", 2: "Good", 4: "Inadequate"}
_OLD_GRADE_3 = frozenset({"adequate"})
_NEW_GRADE_3 = frozenset({"requires improvement", "requires improvement to be good"})


@dataclass(frozen=True)
class Framework:
    """One inspection framework: its areas and how it labels grade 3."""

    key: str
    title: str
    areas: dict[str, str | None]  # area key -> normalised area (None: no line)
    grade_3_labels: frozenset[str]
    overall_areas: tuple[str, ...] = ()  # areas whose (worst) grade is "overall"
    judges_overall: bool = True
    types: tuple[str, ...] = ("standard",)


_SLAC_SECTION = {
    "overall_effectiveness": None,
    "capacity_for_improvement": None,
    "quality_of_provision": None,
    "service_responsiveness": None,
    "assessment_and_direct_work": None,
    "case_planning_review_and_recording": None,
    "leadership_and_management": None,
    "ambition_and_prioritisation": None,
    "evaluation": None,
    "user_engagement": None,
    "partnerships": None,
    "equality_and_diversity": None,
    "value_for_money": None,
}
_SLAC_AREAS = {
    **{f"safeguarding_{k}": v for k, v in _SLAC_SECTION.items()},
    "safeguarding_children_are_safe": None,
    "safeguarding_children_feel_safe": None,
    **{f"lac_{k}": v for k, v in _SLAC_SECTION.items()},
    "lac_being_healthy": None,
    "lac_staying_safe": None,
    "lac_enjoying_and_achieving": None,
    "lac_making_a_positive_contribution": None,
    "lac_economic_wellbeing": None,
}
_SLAC_AREAS["safeguarding_overall_effectiveness"] = HELP_AND_PROTECTION
_SLAC_AREAS["lac_overall_effectiveness"] = CHILDREN_IN_CARE

_LAC_2012_AREAS = {
    "overall_effectiveness": CHILDREN_IN_CARE,
    "capacity_for_improvement": None,
    "outcomes_for_looked_after_children": None,  # graded as a whole in 2012-13 reports (Kent 2013)
    "being_healthy": None,
    "staying_safe": None,
    "enjoying_and_achieving": None,
    "making_a_positive_contribution": None,
    "economic_wellbeing": None,
    "quality_of_provision": None,
    "leadership_and_management": None,
}
_CP_2012_AREAS = {
    "overall_effectiveness": HELP_AND_PROTECTION,
    "effectiveness_of_help_and_protection": None,
    "quality_of_practice": None,
    "leadership_and_governance": None,
}
_SIF_AREAS = {
    "overall_effectiveness": OVERALL,
    "help_and_protection": HELP_AND_PROTECTION,
    "children_looked_after": CHILDREN_IN_CARE,
    "adoption_performance": None,
    "care_leavers": CARE_LEAVERS,
    "leadership_management_and_governance": LEADERSHIP,
}
_ILACS_2018_AREAS = {
    "overall_effectiveness": OVERALL,
    "impact_of_leaders": LEADERSHIP,
    "help_and_protection": HELP_AND_PROTECTION,
    "children_in_care_and_care_leavers": CHILDREN_IN_CARE,
}
_ILACS_2023_AREAS = {
    "overall_effectiveness": OVERALL,
    "impact_of_leaders": LEADERSHIP,
    "help_and_protection": HELP_AND_PROTECTION,
    "children_in_care": CHILDREN_IN_CARE,
    "care_leavers": CARE_LEAVERS,
}
_ILACS_2026_AREAS = {k: v for k, v in _ILACS_2023_AREAS.items() if k != "overall_effectiveness"}

FRAMEWORKS: dict[str, Framework] = {
    f.key: f
    for f in (
        Framework(
            "slac-2009",
            "Inspection of safeguarding and looked after children services",
            _SLAC_AREAS,
            _OLD_GRADE_3,
            overall_areas=("safeguarding_overall_effectiveness", "lac_overall_effectiveness"),
        ),
        Framework(
            "lac-2012",
            "Inspection of local authority arrangements for looked after children",
            _LAC_2012_AREAS,
            _OLD_GRADE_3,
            overall_areas=("overall_effectiveness",),
        ),
        Framework(
            "cp-2012",
            "Inspection of local authority arrangements for the protection of children",
            _CP_2012_AREAS,
            _OLD_GRADE_3,
            overall_areas=("overall_effectiveness",),
        ),
        Framework(
            "sif-2013",
            "Single inspection framework: services for children in need of help and "
            "protection, children looked after and care leavers",
            _SIF_AREAS,
            _NEW_GRADE_3,
            overall_areas=("overall_effectiveness",),
            types=("standard", "re-inspection"),
        ),
        Framework(
            "ilacs-2018",
            "Inspection of local authority children's services (ILACS)",
            _ILACS_2018_AREAS,
            _NEW_GRADE_3,
            overall_areas=("overall_effectiveness",),
            types=("standard", "short"),
        ),
        Framework(
            "ilacs-2023",
            "Inspection of local authority children's services (ILACS), care leavers judged separately",
            _ILACS_2023_AREAS,
            _NEW_GRADE_3,
            overall_areas=("overall_effectiveness",),
            types=("standard", "short"),
        ),
        Framework(
            "ilacs-2026",
            "Inspection of local authority children's services (ILACS), no overall effectiveness",
            _ILACS_2026_AREAS,
            _NEW_GRADE_3,
            judges_overall=False,
            types=("standard", "short"),
        ),
    )
}

TIMESCALES = ("immediately", "three_months", "six_months")


def normalise_label(label: str) -> str:
    """Fold a printed judgement label for comparison ("Requires improvement to be good." -> lower, one space)."""
    return re.sub(r"\s+", " ", label).strip().strip(".:;,").strip().casefold()


def label_matches_grade(framework: Framework, label: str, grade: int) -> bool:
    """Whether a printed label is what this framework prints for this grade."""
    folded = normalise_label(label)
    if grade == 3:
        return folded in framework.grade_3_labels
    return folded == GRADE_NAMES.get(grade, "").casefold()


def allowed_labels(framework: Framework, grade: int) -> list[str]:
    """Labels this framework prints for a grade, for error messages."""
    if grade == 3:
        return sorted(framework.grade_3_labels)
    return [GRADE_NAMES[grade].casefold()] if grade in GRADE_NAMES else []
