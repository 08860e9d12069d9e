"""A small program to profile: which line of word_stats is slow?

python examples/demo.py
"""

from __future__ import annotations

import re

from lineprof import LineProfiler

TEXT = (
    """It was the best of times, it was the worst of times, it was the age of wisdom,
it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity,
it was the season of Light, it was the season of Darkness, it was the spring of hope,
it was the winter of despair."""
    * 200
)


def normalise(word: str) -> str:
    return re.sub(r"[^a-z]", "", word.lower())


def word_stats(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for word in text.split():
        key = normalise(word)
        if not key:
            continue
        counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return dict(ranked[:5])


if __name__ == "__main__":
    lp = LineProfiler(word_stats)
    top = lp.runcall(word_stats, TEXT)
    print("top words:", top)
    print()
    lp.print_stats()
