"""The claims ledger: each theorem and stated number, checked across the study's cases.

A stage checks its own claims (a list of :class:`Claim`) and gives, per case (a reference
or scenario and a parameter value), a *margin*: the slack left before the claim fails
(``bound - value`` for an inequality, ``-|error|`` for an identity). A claim holds when its
worst margin is at least ``-tolerance``, the floating-point noise floor stated with it; a
negative margin beyond that is a violation and is reported as one.

:func:`summarize` turns a stage's margins into ledger rows; :func:`ledger` merges the rows
of every stage and chunk, so the claims stage needs no knowledge of any paper.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

LEDGER_NOTE = """
One row per claim, checked on every reference and scenario of the study's config (and, for
paper A, on random references with ties and tiny masses). `status`: proven (a theorem that
a source says the paper states and proves), reported (stated in the paper according to
secondary transcriptions), derived (an algebraic restatement or consequence we checked),
ours (our own extension or claim: ties, discrete references, our checks of a limit),
stated-number (a number the paper prints, with the printed value), observed (what our own
computations or experiments show). `source`: the paper's theorem, section or equation where
one is known (from the abstract or the transcriptions, as said), `secondary` where only
transcriptions give the claim without a number, `ours` for our own claims. A row that is
ours and fails is a finding about our extension, not about the paper; the paper's own claim
has its own row. Where a source is ambiguous, the statement says so. `cases`: how many
(case, parameter) pairs were checked; 0 means the claim is not checked (its statement says
why, and `worst_case` says "not checked"): such a row neither holds nor fails, although
`holds` is false. `worst_margin`: the smallest slack seen, in the claim's units (bound minus
value for an inequality, minus the absolute error for an identity); the claim `holds` when
it is at least `-tolerance`, its noise floor. `worst_case`: where that margin was found.
`evidence`: the figure or table that shows it.
"""

STATUSES = ("proven", "reported", "derived", "ours", "stated-number", "observed")
#: The ledger's columns.
COLUMNS = ["paper", "claim", "statement", "status", "source", "cases", "worst_margin", "tolerance",
           "holds", "worst_case", "evidence"]
_METADATA = ["paper", "statement", "status", "source", "tolerance", "evidence"]
#: ``worst_case`` of a claim the study does not check (``Claim(checked=False)``).
NOT_CHECKED = "not checked"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One claim of the ledger: its paper, name, statement, status, evidence figure,
    tolerance (the noise floor of its margin) and source. Keyword arguments only.

    A claim the study cannot check (``checked=False``: e.g. a conjecture whose statement was
    not recovered) still gets its row, with 0 cases, ``holds`` false and its statement saying
    why it is not checked; readers tell it from a failure by ``cases == 0`` (see
    :func:`unchecked`). Giving it margins is an error.
    """

    paper: str
    claim: str
    statement: str
    status: str  # one of STATUSES
    evidence: str
    tolerance: float
    source: str  # the paper's theorem/section/equation, "secondary", or "ours"
    checked: bool = True

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"claim {self.claim!r}: status {self.status!r} not in {STATUSES}")
        if not self.source:
            raise ValueError(f"claim {self.claim!r}: no source")
        if self.status == "ours" and self.source != "ours":
            raise ValueError(f"claim {self.claim!r}: status 'ours' needs source 'ours'")
        if not self.checked and "not checked" not in self.statement:
            raise ValueError(f"claim {self.claim!r}: an unchecked claim's statement must say "
                             "'not checked'")


def summarize(margins: pd.DataFrame, claims: Iterable[Claim]) -> pd.DataFrame:
    """Ledger rows (:data:`COLUMNS`) of ``claims`` from per-case ``margins``.

    ``margins`` has columns ``reference, claim, case, margin`` (``case`` a label such as
    ``"n=100"``). Every claim gets a row, in the order given; one with no case is listed
    with 0 cases and ``holds`` false: it was not checked (its ``worst_case`` says
    :data:`NOT_CHECKED` when the claim is marked unchecked, "no applicable case" otherwise).
    """
    claims = {c.claim: c for c in claims}
    unknown = sorted(set(margins["claim"]) - set(claims))
    if unknown:
        raise ValueError(f"margins name claims that are not in the claim list: {unknown}")
    given = sorted(set(margins["claim"]) & {c.claim for c in claims.values() if not c.checked})
    if given:
        raise ValueError(f"margins given for claims marked unchecked: {given}")
    unchecked = pd.DataFrame([
        {**{k: v for k, v in asdict(c).items() if k != "checked"}, "cases": 0,
         "worst_margin": 0.0,
         "worst_case": "no applicable case" if c.checked else NOT_CHECKED}
        for c in claims.values()
    ])
    if margins.empty:
        return ledger(unchecked)
    checked = pd.DataFrame({
        "claim": margins["claim"].to_numpy(),
        "cases": 1,
        "worst_margin": margins["margin"].astype(float).to_numpy(),
        "worst_case": (margins["reference"].astype(str) + " at " + margins["case"].astype(str))
        .to_numpy(),
    })
    metadata = unchecked.set_index("claim")[_METADATA]
    checked = checked.join(metadata, on="claim")
    return ledger(pd.concat([unchecked, checked], ignore_index=True))


def ledger(rows: pd.DataFrame) -> pd.DataFrame:
    """Merge ledger rows of the same claim: cases add up, the worst checked margin wins.

    Claims keep the order of their first row. Rows of one claim must agree on its paper,
    statement, status, tolerance and evidence. ``holds``: at least one case, and the worst
    margin at least ``-tolerance``.
    """
    merged = []
    for claim, group in rows.groupby("claim", sort=False):
        for column in _METADATA:
            if group[column].nunique() > 1:
                raise ValueError(f"claim {claim!r}: rows disagree on {column}: "
                                 f"{sorted(map(str, group[column].unique()))}")
        checked = group[group["cases"] > 0]
        row = (checked.loc[checked["worst_margin"].idxmin()] if len(checked)
               else group.iloc[0]).copy()
        row["cases"] = int(group["cases"].sum())
        row["holds"] = bool(row["cases"] > 0 and row["worst_margin"] >= -row["tolerance"])
        merged.append(row)
    table = pd.DataFrame(merged, columns=COLUMNS).reset_index(drop=True)
    return table.astype({"cases": int, "worst_margin": float, "tolerance": float,
                         "holds": bool})


def unchecked(table: pd.DataFrame) -> pd.Series:
    """Rows of a ledger that were not checked (0 cases): neither holding nor failing.

    ``holds`` is false on them only because nothing was checked; a reader (the README's
    findings, the results pages) must list them apart from the failures, which are
    ``~holds & ~unchecked(table)``.
    """
    return table["cases"] == 0
