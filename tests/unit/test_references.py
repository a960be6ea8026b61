"""Reference families (bonkl.references) and per-job random streams (bonkl.plumbing.seeding)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from bonkl import bestofn
from bonkl.plumbing.seeding import generator, seed_sequence
from bonkl.references import build_reference, log_dirichlet, random_reference

SEED = 20240611


def build(**spec):
    """Build a reference named 'ref' from keyword arguments, with the study seed."""
    return build_reference({"name": "ref", **spec}, SEED)


def assert_probability_table(table, size):
    """Columns outcome/prob/reward, ``size`` rows, outcome ids '0'.., prob > 0 summing to 1."""
    assert list(table.columns) == ["outcome", "prob", "reward"]
    assert len(table) == size
    assert list(table["outcome"]) == [str(k) for k in range(size)]
    prob = table["prob"].to_numpy()
    assert np.all(prob > 0)
    assert prob.sum() == pytest.approx(1.0, abs=1e-14)


# --------------------------------------------------------------------------- ranked families


def test_uniform_increasing():
    """uniform(size): p = 1/size, reward k for outcome k (the default order)."""
    table = build(family="uniform", size=7)
    assert_probability_table(table, 7)
    np.testing.assert_allclose(table["prob"], np.full(7, 1 / 7), rtol=1e-15)
    np.testing.assert_array_equal(table["reward"], np.arange(7.0))


def test_zipf_decreasing():
    """zipf(size, s): p_k ∝ (k+1)^-s; reward 'decreasing' gives size-1-k."""
    table = build(family="zipf", size=6, exponent=1.5, reward="decreasing")
    assert_probability_table(table, 6)
    weights = np.arange(1, 7.0) ** -1.5
    np.testing.assert_allclose(table["prob"], weights / weights.sum(), rtol=1e-14)
    np.testing.assert_array_equal(table["reward"], 5.0 - np.arange(6.0))


def test_geometric():
    """geometric(size, ratio): p_k ∝ ratio^k, rewards increasing."""
    table = build(family="geometric", size=5, ratio=0.5)
    assert_probability_table(table, 5)
    weights = 0.5 ** np.arange(5.0)
    np.testing.assert_allclose(table["prob"], weights / weights.sum(), rtol=1e-14)
    np.testing.assert_array_equal(table["reward"], np.arange(5.0))


def test_random_rewards_are_a_permutation():
    """reward 'random' is a permutation of 0..size-1, seeded (same seed, same ranks)."""
    table = build(family="zipf", size=40, exponent=1.0, reward="random")
    assert_probability_table(table, 40)
    reward = table["reward"].to_numpy()
    np.testing.assert_array_equal(np.sort(reward), np.arange(40.0))
    assert not np.array_equal(reward, np.arange(40.0))
    again = build(family="zipf", size=40, exponent=1.0, reward="random")
    np.testing.assert_array_equal(again["reward"], reward)
    other = build_reference(
        {"name": "ref", "family": "zipf", "size": 40, "exponent": 1.0, "reward": "random"}, SEED + 1
    )
    assert not np.array_equal(other["reward"], reward)


@pytest.mark.parametrize("order", ["increasing", "decreasing", "random"])
def test_ties_give_equal_levels(order):
    """ties: L pools the ranks into L equal reward levels 0..L-1 (size 12, L=4: 3 each)."""
    table = build(family="uniform", size=12, ties=4, reward=order)
    assert_probability_table(table, 12)
    levels, counts = np.unique(table["reward"], return_counts=True)
    np.testing.assert_array_equal(levels, np.arange(4.0))
    np.testing.assert_array_equal(counts, [3, 3, 3, 3])
    reward = table["reward"].to_numpy()
    if order == "increasing":
        np.testing.assert_array_equal(reward, np.arange(12) // 3)
    elif order == "decreasing":
        np.testing.assert_array_equal(reward, (11 - np.arange(12)) // 3)


def test_ties_uneven_size():
    """size 10, L=3: three levels, each rank pooled by floor(rank·L/size)."""
    table = build(family="uniform", size=10, ties=3)
    np.testing.assert_array_equal(table["reward"], (np.arange(10) * 3) // 10)


# --------------------------------------------------------------------------- spike and binary


def test_spike_with_tied_groups():
    """spike: uniform bulk with rewards 0..bulk-1, then groups of tied outcomes sharing masses."""
    table = build(family="spike", bulk=5, masses=[1e-4, 1e-6], outcomes=[2, 3])
    assert_probability_table(table, 10)
    prob = table["prob"].to_numpy()
    np.testing.assert_allclose(prob[:5], (1 - 1e-4 - 1e-6) / 5, rtol=1e-15)
    np.testing.assert_allclose(prob[5:7], 5e-5, rtol=1e-15)
    np.testing.assert_allclose(prob[7:], 1e-6 / 3, rtol=1e-15)
    np.testing.assert_array_equal(table["reward"], [0, 1, 2, 3, 4, 5, 5, 6, 6, 6])
    p, r = prob, table["reward"].to_numpy()
    assert bestofn.top_mass(p, r) == pytest.approx(1e-6, rel=1e-12)


def test_spike_default_one_outcome_per_mass():
    """spike without 'outcomes': one outcome per mass, rewards increasing above the bulk."""
    table = build(family="spike", bulk=3, masses=[0.1, 0.01])
    assert_probability_table(table, 5)
    np.testing.assert_allclose(table["prob"], [0.89 / 3] * 3 + [0.1, 0.01], rtol=1e-14)
    np.testing.assert_array_equal(table["reward"], np.arange(5.0))


@pytest.mark.parametrize(
    "spec",
    [
        {"bulk": 3, "masses": [0.6, 0.5]},  # masses sum above 1
        {"bulk": 3, "masses": [0.1, 0.2], "outcomes": [1]},  # lengths differ
    ],
)
def test_spike_bad_spec(spec):
    """Masses summing to ≥ 1, or 'outcomes' not matching 'masses', raise ValueError."""
    with pytest.raises(ValueError):
        build(family="spike", **spec)


@pytest.mark.parametrize(("top", "expected"), [(None, 0.5), (0.01, 0.01), (1e-300, 1e-300)])
def test_binary(top, expected):
    """binary: rewards 0 and 1, p(1) = top_mass (default 1/2)."""
    spec = {"family": "binary"} if top is None else {"family": "binary", "top_mass": top}
    table = build(**spec)
    assert_probability_table(table, 2)
    assert table["prob"].iloc[1] == expected
    np.testing.assert_array_equal(table["reward"], [0.0, 1.0])


def test_unknown_family():
    """An unknown family raises ValueError naming it."""
    with pytest.raises(ValueError, match="nope"):
        build(family="nope")


def test_file_family(tmp_path):
    """family 'file' reads a user file (with normalize)."""
    path = tmp_path / "mine.csv"
    path.write_text("outcome,prob,reward\na,0.2,1\nb,0.2,0\n")
    table = build(family="file", path=str(path), normalize=True)
    np.testing.assert_allclose(table["prob"], [0.5, 0.5], rtol=1e-15)
    assert list(table["outcome"]) == ["a", "b"]


# --------------------------------------------------------------------------- dirichlet

DIRICHLET = {"family": "dirichlet", "size": 50, "concentration": 0.01}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_dirichlet_tiny_concentration_has_no_zero_mass(seed):
    """dirichlet(50, 0.01) for these seeds: every mass is positive, and they sum to 1."""
    table = build_reference({"name": "d", **DIRICHLET}, seed)
    assert_probability_table(table, 50)


@pytest.mark.parametrize(("seed", "outcome"), [(4, 36), (7, 25)])
def test_dirichlet_mass_below_double_floor_is_zero_and_harmless(seed, outcome):
    """A log-mass below ~-745 is stored as 0 (documented); best-of-n treats it as off-support."""
    table = build_reference({"name": "d", **DIRICHLET}, seed)
    prob = table["prob"].to_numpy()
    assert prob[outcome] == 0.0 and np.all(prob >= 0)
    assert prob.sum() == pytest.approx(1.0, abs=1e-12)
    reward = table["reward"].to_numpy()
    assert bestofn.pmf(prob, reward, 10)[outcome] == 0.0
    assert np.isfinite(bestofn.kl(prob, reward, [2, 1e6])).all()


def test_log_dirichlet_is_finite_for_tiny_concentration():
    """log_dirichlet itself never returns -inf, even where exp() would underflow."""
    rng = generator(SEED, "log_dirichlet")
    for _ in range(50):
        logp = log_dirichlet(np.full(50, 0.01), rng)
        assert np.all(np.isfinite(logp))
        assert np.logaddexp.reduce(logp) == pytest.approx(0.0, abs=1e-12)


def test_dirichlet_reproducible_and_seed_dependent():
    """Same seed and name: same draw; another seed, another name, or spec 'seed': different."""
    a = build_reference({"name": "d", **DIRICHLET}, 11)["prob"].to_numpy()
    b = build_reference({"name": "d", **DIRICHLET}, 11)["prob"].to_numpy()
    c = build_reference({"name": "d", **DIRICHLET}, 12)["prob"].to_numpy()
    d = build_reference({"name": "e", **DIRICHLET}, 11)["prob"].to_numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a, d)
    pinned = {"name": "d", "seed": 5, **DIRICHLET}
    np.testing.assert_array_equal(
        build_reference(pinned, 11)["prob"], build_reference(pinned, 99)["prob"]
    )


def test_random_reference_is_valid():
    """random_reference gives a valid (p, r) accepted by the library, sizes 2..max_size."""
    rng = generator(SEED, "random_reference")
    for _ in range(100):
        p, r = random_reference(rng, 12)
        assert 2 <= p.size <= 12 and r.shape == p.shape
        assert np.all(p >= 0) and p.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(r == np.round(r))
        bestofn.kl(p, r, 10.0)  # accepted without error


# --------------------------------------------------------------------------- seeding


def test_generator_same_names_same_stream():
    """Identical seed and names give identical streams."""
    a = generator(3, "bestofn", "zipf", 10).random(20)
    b = generator(3, "bestofn", "zipf", 10).random(20)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "other",
    [
        (4, "bestofn", "zipf", 10),  # another seed
        (3, "bestofn", "zipf", 11),  # another wildcard
        (3, "bestofn", "zipf"),  # fewer names
        (3, "bestofnzipf", 10),  # names are not just concatenated
        (3, "zipf", "bestofn", 10),  # order matters
    ],
)
def test_generator_different_names_differ(other):
    """Any change of seed or names gives another stream."""
    a = generator(3, "bestofn", "zipf", 10).random(20)
    b = generator(*other).random(20)
    assert not np.array_equal(a, b)


def test_seed_sequence_entropy():
    """The seed sequence is the seed followed by eight 32-bit words of the names' hash."""
    entropy = seed_sequence(3, "a", "b").entropy
    assert entropy[0] == 3 and len(entropy) == 9


def test_generator_equal_across_processes():
    """A fresh interpreter (other hash salt) draws the same numbers for the same names."""
    code = (
        "import json; from bonkl.plumbing.seeding import generator; "
        "print(json.dumps(generator(3, 'bestofn', 'zipf', 10).random(8).tolist()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        timeout=120,
    )
    theirs = json.loads(out.stdout)
    ours = generator(3, "bestofn", "zipf", 10).random(8).tolist()
    assert theirs == ours


def test_masses_below_the_floor_leave_the_support():
    """Geometric over 2000 outcomes with ratio 1/2: p_k = 2^-(k+1) (to rounding); those below
    1e-300 are set to 0 (k >= 996; before, subnormal masses made the winrate and claims jobs
    fail), the rest are untouched."""
    table = build_reference({"name": "g", "family": "geometric", "size": 2000, "ratio": 0.5}, 0)
    p = table["prob"].to_numpy()
    expected = 0.5 ** (np.arange(2000) + 1.0)
    keep = expected >= 1e-300
    assert np.count_nonzero(keep) == 996
    np.testing.assert_array_equal(p[~keep], 0.0)
    np.testing.assert_allclose(p[keep], expected[keep], rtol=1e-12)
