"""Per-job random generators derived from the study's one seed and the job's names.

Each job hashes its names (stage, wildcards) with SHA-256, never Python's salted
``hash()``, and feeds the words to ``numpy.random.SeedSequence`` with the seed, so the
same config gives the same streams in any process, on any machine, in any order.
"""

from __future__ import annotations

import hashlib

import numpy as np


def seed_sequence(seed: int, *names: object) -> np.random.SeedSequence:
    """``SeedSequence([seed, *sha256(names) as 32-bit words])``."""
    digest = hashlib.sha256("\x1f".join(map(str, names)).encode()).digest()
    words = np.frombuffer(digest, dtype="<u4").tolist()
    return np.random.SeedSequence([int(seed), *words])


def generator(seed: int, *names: object) -> np.random.Generator:
    """A PCG64 generator for the job named by ``names`` under the study ``seed``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, *names)))
