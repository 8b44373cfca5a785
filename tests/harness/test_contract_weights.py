"""``validate_weights`` against a plain reference, on random answers and policies."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from alphaloop.contract import Decision, WeightError, WeightPolicy, validate_weights

TICKERS = ("SPY", "TLT", "GLD", "BTC")

_weight = st.one_of(
    st.floats(min_value=-0.6, max_value=0.6),
    st.sampled_from([0, 1, math.nan, math.inf, -math.inf, -1e-12, True]),
    st.floats(allow_nan=True, allow_infinity=True),
)
_answers = st.one_of(
    st.dictionaries(st.sampled_from((*TICKERS, "XYZ")), _weight, max_size=5),
    st.fixed_dictionaries({t: _weight for t in TICKERS}),  # every ticker, in order
)
_policies = st.builds(WeightPolicy, allow_short=st.booleans(),
                      max_gross=st.sampled_from([0.5, 1.0, 1.5]),
                      tolerance=st.sampled_from([0.0, 1e-9]))


def reference(answer: dict, policy: WeightPolicy) -> np.ndarray | None:
    """The rules of the contract, one weight at a time; ``None`` means "refused"."""
    out = [0.0] * len(TICKERS)
    for ticker, raw in answer.items():
        if ticker not in TICKERS:
            return None
        value = float(raw)
        if math.isnan(value) or math.isinf(value):
            return None
        if value < -policy.tolerance and not policy.allow_short:
            return None
        out[TICKERS.index(ticker)] = value
    if sum(abs(v) for v in out) > policy.max_gross + policy.tolerance:
        return None
    if not policy.allow_short:
        out = [max(v, 0.0) for v in out]
    return np.array(out)


@settings(max_examples=400, deadline=None)
@given(answer=_answers, policy=_policies)
@example(answer={"SPY": 0.0, "TLT": 0.0, "GLD": 8.988465674311579e307,
                 "BTC": 8.98846567431158e307},
         policy=WeightPolicy(allow_short=False, max_gross=0.5, tolerance=0.0))
def test_validation_agrees_with_the_reference(answer: dict, policy: WeightPolicy) -> None:
    expected = reference(answer, policy)
    for given_answer in (answer, Decision.model_construct(weights=answer, record={})):
        try:
            got = validate_weights(given_answer, TICKERS, policy=policy)
        except WeightError:
            assert expected is None, (answer, policy)
        else:
            assert expected is not None, (answer, policy)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0.0)


def test_an_answer_in_another_order_lands_in_the_right_columns() -> None:
    got = validate_weights({"BTC": 0.1, "SPY": 0.4, "GLD": 0.2}, TICKERS)
    assert got.tolist() == [0.4, 0.0, 0.2, 0.1]


def test_the_result_is_a_fresh_array_each_time() -> None:
    answer = {"SPY": 0.5, "TLT": 0.5}
    first = validate_weights(answer, TICKERS)
    first[0] = 9.0
    assert validate_weights(answer, TICKERS)[0] == 0.5
