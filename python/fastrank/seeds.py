"""Seeds written as text, for the command line and the bench scripts: a count ``N`` (seeds
0..N-1), a range ``a-b`` or a list ``a,b,c``."""
from __future__ import annotations

import argparse
from typing import List

__all__ = ["parse_seeds", "MAX_SEEDS"]

MAX_SEEDS = 100_000  # a grid larger than this is a typo, not a plan


def parse_seeds(text: str) -> List[int]:
    """"N" → 0..N-1; "a-b" → a..b; "a,b,c" → those seeds."""
    text = text.strip()
    try:
        if "," in text:
            parts = text.split(",")
            if not all(part.strip() for part in parts):
                raise argparse.ArgumentTypeError(f"bad --seeds {text!r}: an empty item in the list")
            seeds = [int(part) for part in parts]
        elif "-" in text[1:]:
            a, b = text.split("-", 1)
            if int(b) - int(a) >= MAX_SEEDS:
                raise argparse.ArgumentTypeError(f"bad --seeds {text!r}: more than {MAX_SEEDS:,} seeds")
            seeds = list(range(int(a), int(b) + 1))
            if not seeds:
                raise argparse.ArgumentTypeError(f"empty seed range {text!r} (write a-b with a <= b)")
        else:
            count = int(text)
            if count > MAX_SEEDS:
                raise argparse.ArgumentTypeError(f"bad --seeds {text!r}: more than {MAX_SEEDS:,} seeds")
            if count < 1:
                raise argparse.ArgumentTypeError(f"a seed count must be positive, got {count}")
            seeds = list(range(count))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad --seeds {text!r}: a count N (seeds 0..N-1), a range a-b, or a list a,b,c") from None
    if any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"seeds must be non-negative, got {text!r}")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds repeat in {text!r}")
    return seeds
