"""Table cells shared by the ``compare`` command's text output and the HTML report."""

from __future__ import annotations

from collections.abc import Sequence

from modstream.model.compare import CandidateResult

COMPARISON_HEADER = (
    "model",
    "ROC AUC",
    "PR AUC",
    "F1 @tuned",
    "F1 @default",
    "fit s/fold",
    "predict s/fold",
)
COMPARISON_NOTE = (
    "mean ± std over folds. F1 @tuned: F1 of removed at the threshold of best F1 on "
    "out-of-fold scores inside the training fold (the held-out fold never picks its own "
    "threshold, as in training); F1 @default: at the classifier's own decision (P ≥ 0.5, "
    "or margin ≥ 0 for SVM, SGD and ridge)."
)


def _pm(values: CandidateResult, metric: str, digits: int) -> str:
    return f"{values.mean(metric):.{digits}f} ± {values.std(metric):.{digits}f}"


def comparison_rows(results: Sequence[CandidateResult]) -> list[list[str]]:
    """One row of cells per candidate, best mean ROC AUC first."""
    ordered = sorted(results, key=lambda r: -r.mean("roc_auc"))
    return [
        [
            r.name,
            _pm(r, "roc_auc", 3),
            _pm(r, "pr_auc", 3),
            _pm(r, "f1_tuned", 3),
            _pm(r, "f1_default", 3),
            _pm(r, "fit_seconds", 2),
            _pm(r, "predict_seconds", 3),
        ]
        for r in ordered
    ]


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [str(cells[0]).ljust(widths[0])]
        parts += [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def feature_label(name: str, width: int = 60) -> str:
    """A readable feature name: spaces in char n-grams shown as ``␣``, long names cut."""
    if name.startswith("char:"):
        name = "char:" + name[5:].replace(" ", "␣")
    text = "".join(c if c.isprintable() else "?" for c in name)
    return text if len(text) <= width else text[: width - 1] + "…"
