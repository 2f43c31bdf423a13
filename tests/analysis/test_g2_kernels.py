"""The coincidence kernel against the all-pairs numpy reference: counts must be identical."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdl.analysis.g2_kernels import cross_correlation_counts, is_uniform, linear_edges, log_edges

from .naive_photons import naive_cross_correlation_counts


def _streams(rng, n1, n2, span):
    return np.sort(rng.integers(0, span, n1)), np.sort(rng.integers(0, span, n2))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("parallel", [False, True])
def test_linear_bins_match_reference(seed, parallel):
    rng = np.random.default_rng(seed)
    t1, t2 = _streams(rng, 400, 500, 200_000)
    edges = linear_edges(int(rng.integers(100, 50_000)), int(rng.integers(1, 2_000)))
    got = cross_correlation_counts(t1, t2, edges, parallel=parallel, nchunks=7)
    np.testing.assert_array_equal(got, naive_cross_correlation_counts(t1, t2, edges))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("parallel", [False, True])
def test_log_bins_both_signs_match_reference(seed, parallel):
    rng = np.random.default_rng(100 + seed)
    # dense streams so the outer log bins take the pointer-per-edge path
    t1, t2 = _streams(rng, 600, 3000, 100_000)
    edges = log_edges(3, 80_000, 6)
    assert edges[0] < 0 < edges[-1] and not is_uniform(edges)
    got = cross_correlation_counts(t1, t2, edges, parallel=parallel, nchunks=5)
    np.testing.assert_array_equal(got, naive_cross_correlation_counts(t1, t2, edges))


def test_ties_and_duplicate_timestamps_left_inclusive_bins():
    t1 = np.array([0, 0, 10, 10, 10], dtype=np.int64)
    t2 = np.array([0, 5, 10, 10, 20], dtype=np.int64)
    for edges in (np.array([-10, 0, 5, 10, 11]), np.array([-10, -5, 0, 5, 10])):
        np.testing.assert_array_equal(
            cross_correlation_counts(t1, t2, edges), naive_cross_correlation_counts(t1, t2, edges)
        )
    # delay exactly 0 falls in [0, 5), delay exactly 10 is excluded from [5, 10)
    assert cross_correlation_counts(t1, t2, np.array([0, 5]))[0] == 2 * 1 + 3 * 2


def test_counts_every_pair_not_only_next_photon():
    # start-stop would count 1 pair; all pairs within 100 ps are 1 x 5
    t1 = np.array([0], dtype=np.int64)
    t2 = np.arange(1, 6, dtype=np.int64) * 10
    assert cross_correlation_counts(t1, t2, linear_edges(100, 100, 0)).tolist() == [5]


def test_long_window_no_lookback_limit():
    # every pair of 2 x 300 photons is inside the window: 90000 pairs
    rng = np.random.default_rng(3)
    t1, t2 = _streams(rng, 300, 300, 1_000)
    assert cross_correlation_counts(t1, t2, np.array([-10_000, 10_000])).sum() == 90_000


@settings(max_examples=60, deadline=None)
@given(
    t1=st.lists(st.integers(-(10**6), 10**6), max_size=60),
    t2=st.lists(st.integers(-(10**6), 10**6), max_size=60),
    edges=st.lists(st.integers(-(2 * 10**6), 2 * 10**6), min_size=2, max_size=25, unique=True),
    parallel=st.booleans(),
)
def test_property_random_streams_random_bins(t1, t2, edges, parallel):
    a = np.sort(np.array(t1, dtype=np.int64))
    b = np.sort(np.array(t2, dtype=np.int64))
    e = np.sort(np.array(edges, dtype=np.int64))
    got = cross_correlation_counts(a, b, e, parallel=parallel, nchunks=3)
    np.testing.assert_array_equal(got, naive_cross_correlation_counts(a, b, e))


@settings(max_examples=40, deadline=None)
@given(
    t1=st.lists(st.integers(0, 10**5), max_size=80),
    t2=st.lists(st.integers(0, 10**5), max_size=80),
    start=st.integers(-(10**5), 10**5),
    width=st.integers(1, 10**4),
    nbins=st.integers(1, 40),
)
def test_property_uniform_bins(t1, t2, start, width, nbins):
    a = np.sort(np.array(t1, dtype=np.int64))
    b = np.sort(np.array(t2, dtype=np.int64))
    e = start + width * np.arange(nbins + 1, dtype=np.int64)
    np.testing.assert_array_equal(
        cross_correlation_counts(a, b, e), naive_cross_correlation_counts(a, b, e)
    )


@pytest.mark.parametrize(
    "t1, edges, match",
    [
        (np.array([0.0, 1.0]), np.array([0, 1]), "int64"),
        (np.array([5, 1], dtype=np.int64), np.array([0, 1]), "non-decreasing"),
        (np.array([0, 1], dtype=np.int64), np.array([0, 0, 1]), "strictly increasing"),
        (np.array([0, 1], dtype=np.int64), np.array([0]), "at least 2"),
        (np.array([0, 1], dtype=np.int64), np.array([0.5, 1.0]), "integer"),
        (np.zeros((2, 2), dtype=np.int64), np.array([0, 1]), "1-D"),
    ],
)
def test_validation_errors(t1, edges, match):
    with pytest.raises(ValueError, match=match):
        cross_correlation_counts(t1, np.array([0, 1], dtype=np.int64), edges)


def test_empty_streams_give_zero_counts():
    e = linear_edges(10, 1)
    assert cross_correlation_counts(np.array([], np.int64), np.array([1], np.int64), e).sum() == 0


def test_coarse_lookup_table_when_range_is_huge():
    # 1 ps bins next to 1 s bins: the table is capped, cells span many edges
    rng = np.random.default_rng(9)
    t1, t2 = _streams(rng, 300, 300, 10**6)
    edges = np.array([-(10**12), -5, -1, 0, 1, 2, 3, 7, 10**5, 10**12], dtype=np.int64)
    np.testing.assert_array_equal(
        cross_correlation_counts(t1, t2, edges), naive_cross_correlation_counts(t1, t2, edges)
    )


@pytest.mark.parametrize("parallel", [False, True])
def test_dense_uniform_bins_near_stream_ends(parallel):
    # windows reaching past the last photons exercise the bounds-checked tail loop
    rng = np.random.default_rng(10)
    t1, t2 = _streams(rng, 2000, 2000, 50_000)
    edges = linear_edges(3_000, 7, min_delay_ps=-1_000)
    got = cross_correlation_counts(t1, t2, edges, parallel=parallel, nchunks=9)
    np.testing.assert_array_equal(got, naive_cross_correlation_counts(t1, t2, edges))


@settings(max_examples=200, deadline=None)
@given(v=st.one_of(st.integers(0, 64), st.integers(0, 2**62)))
def test_log_cell_kernel_matches_reference(v):
    from sdl.analysis.g2_kernels import _LOG_BITS, _log_cell

    from .naive_photons import naive_log_cell

    assert _log_cell(np.int64(v)) == naive_log_cell(v, _LOG_BITS)
