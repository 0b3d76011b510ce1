"""A synthetic, clearly-labelled DEMO corpus of science-forum comments.

Every sentence here was written for modstream. Comments are assembled from an opening,
a body and an ending, so a few hundred rows can be produced deterministically. The
labels follow a simple house style (on-topic, sourced questions and discussion are
kept; jokes, insults, memes and off-topic rants are removed). It exists so the demo,
tests and docs work on a fresh clone; it says nothing about real moderation.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np

from modstream.datasets import Dataset

_KEPT_BODIES = (
    "the sample size in this study seems small for such a broad conclusion",
    "does the paper say whether the effect held after controlling for income",
    "the methods section explains how they measured the soil carbon over ten years",
    "I work in a lab that studies this protein and the result matches our data",
    "the confidence interval is wide so I would wait for a replication",
    "here is the link to the full paper for anyone who wants the methods",
    "the authors note that the mice were given a much higher dose than humans",
    "this builds on earlier work from the same group on ocean acidification",
    "can someone explain why the control group was chosen this way",
    "the press release overstates what the abstract actually claims",
    "the measurement was done with a mass spectrometer calibrated daily",
    "it would be interesting to see whether this holds in older patients",
    "the data set is public so anyone can check the analysis",
    "they used a randomized design with about two thousand participants",
    "the effect size is modest but consistent across the three cohorts",
    "peer review for this journal usually takes several months",
    "the telescope observations were repeated over two seasons",
    "this is a correlation study so causation is not established",
)
_REMOVED_BODIES = (
    "lol this is the dumbest thing I have read all week",
    "scientists are all paid shills anyway so who cares",
    "username checks out",
    "first they came for our burgers now this",
    "you people will believe anything",
    "this is fake news and everyone here is an idiot",
    "source: trust me bro",
    "came here to say this",
    "my uncle smoked every day and lived to ninety so this is wrong",
    "thanks obama",
    "who even funds this garbage",
    "can confirm, am a potato",
    "wake up sheeple, they are lying to you",
    "nobody asked for this study lmao",
    "imagine getting paid to research something so obvious",
    "this sub is just propaganda now",
    "upvote if you agree, downvote if you are a bot",
    "what a waste of taxpayer money, unbelievable",
)
_KEPT_OPEN = ("", "Interesting. ", "Good point, ", "From the paper: ", "Question: ", "Note that ")
_KEPT_END = ("", ".", " Thanks for posting.", " See the supplementary data.", "?")
_REMOVED_OPEN = ("", "LOL ", "Honestly ", "Ugh, ", "Yeah right, ", "OMG ")
_REMOVED_END = ("", "!!", " lol", " smh", "!!!", " 😂")


def _compose(rng: random.Random, opens: tuple, bodies: tuple, ends: tuple) -> str:
    text = rng.choice(opens) + rng.choice(bodies) + rng.choice(ends)
    if rng.random() < 0.3:
        text += " " + rng.choice(bodies)
    return text[0].upper() + text[1:]


def demo_rows(n: int = 600, seed: int = 7) -> list[tuple[str, int]]:
    """``n`` distinct (comment, removed) pairs; about one in three is removed."""
    rng = random.Random(seed)
    rows: dict[str, int] = {}
    while len(rows) < n:
        removed = int(rng.random() < 1 / 3)
        if removed:
            text = _compose(rng, _REMOVED_OPEN, _REMOVED_BODIES, _REMOVED_END)
        else:
            text = _compose(rng, _KEPT_OPEN, _KEPT_BODIES, _KEPT_END)
        rows.setdefault(text, removed)
    return list(rows.items())


def write_demo_csv(path: str | Path, n: int = 600, seed: int = 7) -> Path:
    """Write the demo corpus in the Kaggle r/science layout (``,X,BODY,REMOVED``)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["", "X", "BODY", "REMOVED"])
        for i, (text, label) in enumerate(demo_rows(n, seed)):
            writer.writerow([i, i, text, label])
    return out


def demo_dataset(n: int = 600, seed: int = 7) -> Dataset:
    """The demo corpus as a ``Dataset``, without touching the disk."""
    rows = demo_rows(n, seed)
    return Dataset(
        texts=[t for t, _ in rows],
        labels=np.array([label for _, label in rows], dtype=np.int64),
        sha256=f"demo-corpus-n{n}-seed{seed}",
        report={"source": "modstream demo corpus", "rows_read": n, "rows_kept": n},
    )
