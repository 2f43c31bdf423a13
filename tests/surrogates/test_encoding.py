"""Encoding round trips, design-space mapping and linear input constraints."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdl.schema.campaign import InputConstraint, Parameter
from surrogates.encoding import Encoder
from surrogates.errors import EncodingError

PARAMS = [
    Parameter(name="temperature_c", low=220, high=300),
    Parameter(name="residence_time_s", low=10, high=600, scale="log"),
    Parameter(name="shell_monolayers", type="integer", low=0, high=8),
    Parameter(name="flow_format", type="categorical", values=["laminar", "segmented"]),
    Parameter(name="metal_conc_mm", low=5, high=50),
]
ENC = Encoder(PARAMS)

conditions = st.fixed_dictionaries({
    "temperature_c": st.floats(220, 300),
    "residence_time_s": st.floats(10, 600),
    "shell_monolayers": st.integers(0, 8),
    "flow_format": st.sampled_from(["laminar", "segmented"]),
    "metal_conc_mm": st.floats(5, 50),
})


def test_dimensions():
    assert ENC.dim == 6  # 4 numeric columns + 2 one-hot columns
    assert ENC.continuous_columns() == [0, 1, 2, 5]


@given(conditions)
def test_decode_encode_round_trip(c):
    z = ENC.encode(c)
    assert z.shape == (ENC.dim,) and np.all((z >= 0) & (z <= 1))
    back = ENC.decode(z)[0]
    assert back["shell_monolayers"] == c["shell_monolayers"]
    assert isinstance(back["shell_monolayers"], int)
    assert back["flow_format"] == c["flow_format"]
    for name in ("temperature_c", "residence_time_s", "metal_conc_mm"):
        assert math.isclose(back[name], c[name], rel_tol=1e-12, abs_tol=1e-12)


@given(st.lists(st.floats(0, 1), min_size=6, max_size=6))
def test_encode_decode_round_trip_on_grid(u):
    z = np.array(u)
    z[2] = round(z[2] * 8) / 8  # integer grid
    z[3:5] = [1.0, 0.0] if z[3] >= z[4] else [0.0, 1.0]  # one-hot
    again = ENC.encode(ENC.decode(z)[0])
    np.testing.assert_allclose(again, z, atol=1e-12)


def test_log_scale_midpoint_is_geometric_mean():
    z = np.array([0.5, 0.5, 0.5, 1, 0, 0.5])
    c = ENC.decode(z)[0]
    assert math.isclose(c["residence_time_s"], math.sqrt(10 * 600), rel_tol=1e-12)
    assert math.isclose(c["temperature_c"], 260.0)


def test_design_space_covers_integer_values_uniformly():
    u = (np.arange(900) + 0.5) / 900
    design = np.tile(u[:, None], (1, 5))
    got = [c["shell_monolayers"] for c in ENC.from_design(design)]
    counts = np.bincount(got, minlength=9)
    assert counts.tolist() == [100] * 9
    cats = [c["flow_format"] for c in ENC.from_design(design)]
    assert cats.count("laminar") == cats.count("segmented") == 450


@pytest.mark.parametrize("bad", [
    {"temperature_c": 301.0},
    {"flow_format": "bubbly"},
    {"temperature_c": "hot"},
    {"temperature_c": float("nan")},
])
def test_encode_rejects_bad_values(bad):
    c = {"temperature_c": 250.0, "residence_time_s": 60.0, "shell_monolayers": 2,
         "flow_format": "laminar", "metal_conc_mm": 10.0}
    c.update(bad)
    with pytest.raises(EncodingError):
        ENC.encode(c)


def test_encode_rejects_missing_parameter():
    with pytest.raises(EncodingError, match="lack parameter"):
        ENC.encode({"temperature_c": 250.0})


LIN_PARAMS = [
    Parameter(name="temperature_c", low=220, high=300),
    Parameter(name="metal_conc_mm", low=5, high=50),
    Parameter(name="shell_monolayers", type="integer", low=0, high=8),
]


@given(
    st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3),
    st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3),
    st.floats(0.05, 0.95),
    st.lists(st.floats(0, 1), min_size=3, max_size=3),
)
@settings(max_examples=60)
def test_encoded_constraint_agrees_with_original_units(a, b, frac, z):
    # rhs placed inside the range of the linear form over the box
    lo = a * (220 if a > 0 else 300) + b * (5 if b > 0 else 50)
    hi = a * (300 if a > 0 else 220) + b * (50 if b > 0 else 5)
    rhs = lo + frac * (hi - lo)
    enc = Encoder(LIN_PARAMS, [InputConstraint(terms={"temperature_c": a, "metal_conc_mm": b}, max=rhs)])
    (idx, coef, r), = enc.linear_constraints_encoded()
    zz = np.array(z)
    zz[2] = 0.0
    c = enc.decode(zz)[0]
    lhs_enc = float(coef @ zz[idx])
    margin = 1e-9 * max(1.0, abs(rhs))
    if abs(a * c["temperature_c"] + b * c["metal_conc_mm"] - rhs) > 10 * margin:
        assert (lhs_enc >= r) == (a * c["temperature_c"] + b * c["metal_conc_mm"] <= rhs)


def test_two_sided_constraint_gives_two_rows():
    enc = Encoder(LIN_PARAMS, [InputConstraint(terms={"temperature_c": 1.0}, min=240, max=280)])
    rows = enc.linear_constraints_encoded()
    assert len(rows) == 2
    # temperature 240 -> z = 0.25, 280 -> z = 0.75
    (i1, c1, r1), (i2, c2, r2) = rows
    assert math.isclose(float(c1[0]) * 0.75, r1) and math.isclose(float(c2[0]) * 0.25, r2)


def test_log_parameter_in_constraint_rejected_for_bo():
    enc = Encoder(PARAMS, [InputConstraint(terms={"residence_time_s": 1.0, "temperature_c": 1.0}, max=500)])
    with pytest.raises(EncodingError, match="log-scaled"):
        enc.linear_constraints_encoded()


def test_infeasible_constraints_rejected():
    enc = Encoder(LIN_PARAMS, [InputConstraint(terms={"temperature_c": 1.0}, max=100)])
    with pytest.raises(EncodingError, match="no feasible region"):
        enc.interior_point()


@given(st.lists(st.floats(0, 1), min_size=3, max_size=3))
@settings(max_examples=60)
def test_repair_returns_feasible_points(z):
    con = InputConstraint(terms={"temperature_c": 1.0, "metal_conc_mm": 2.0, "shell_monolayers": 5.0}, max=300)
    enc = Encoder(LIN_PARAMS, [con])
    c = enc.decode(np.array(z))[0]
    fixed = enc.repair(c)
    assert fixed is not None
    assert fixed["temperature_c"] + 2 * fixed["metal_conc_mm"] + 5 * fixed["shell_monolayers"] <= 300 * (1 + 1e-9)
    assert isinstance(fixed["shell_monolayers"], int)
    if enc.satisfies(c):
        assert fixed == c
