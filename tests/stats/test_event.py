"""Which value of a yes/no target is the event (coded 1): one rule, and the user's choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from regression_analyzer.errors import InputError, TargetNotUsableError
from regression_analyzer.stats.event import choose_event


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["yes", "no", "Yes", None], [1.0, 0.0, 1.0, np.nan]),
        (["N", "Y", "y", "n"], [0.0, 1.0, 1.0, 0.0]),
        (["true", "false", "TRUE", "false"], [1.0, 0.0, 1.0, 0.0]),
        ([1, 0, 0, 1], [1.0, 0.0, 0.0, 1.0]),
        ([True, False, True, False], [1.0, 0.0, 1.0, 0.0]),
        ([2, 1, 2, 2], [1.0, 0.0, 1.0, 1.0]),
        # Sorted as text, "10" < "9": the larger number must still be the event.
        ([9, 10, 10, 9], [0.0, 1.0, 1.0, 0.0]),
        ([5, 10, 5, 5], [0.0, 1.0, 0.0, 0.0]),
        (["9", "10", "10"], [0.0, 1.0, 1.0]),  # numbers written as text
        (["churned", "stayed", "stayed"], [1.0, 0.0, 0.0]),  # "stayed" sorts last
        (["stayed", "left", "left"], [0.0, 1.0, 1.0]),  # "stayed" reads as no event
        (["cat", "dog", "dog", "cat"], [0.0, 1.0, 1.0, 0.0]),  # no meaning: last, as R
        (["active", "no", "no"], [1.0, 0.0, 0.0]),  # "no" is the known non-event
        (["Yes ", "yes", "No", " no"], [1.0, 1.0, 0.0, 0.0]),  # one value typed two ways
    ],
)
def test_event_rule(values: list, expected: list) -> None:
    series = pd.Series(values, name="t")
    coded = choose_event(series).code(series)
    np.testing.assert_array_equal(coded.to_numpy(dtype=float), np.array(expected, dtype=float))


def test_event_is_named_with_its_spelling_and_reason() -> None:
    coding = choose_event(pd.Series(["Churned", "stayed", "Churned", "churned"], name="status"))
    assert (coding.event, coding.non_event) == ("Churned", "stayed")
    assert "churned" in coding.reason
    ambiguous = choose_event(pd.Series(["cat", "dog"], name="pet"))
    assert ambiguous.event == "dog" and "--event" in ambiguous.reason
    assert choose_event(pd.Series([9.0, 10.0], name="n")).event == "10"


@pytest.mark.parametrize(
    ("values", "requested", "event"),
    [
        (["churned", "stayed"], "stayed", "stayed"),
        (["churned", "stayed"], " STAYED ", "stayed"),
        ([9, 10], "9", "9"),
        ([0.0, 1.0], "0", "0"),
        ([True, False], "false", "False"),
    ],
)
def test_user_chooses_the_event(values: list, requested: str, event: str) -> None:
    series = pd.Series(values * 2, name="t")
    coding = choose_event(series, requested)
    assert coding.event == event and coding.reason == "chosen by the user"
    assert coding.code(series).sum() == 2


def test_unknown_event_and_three_values_are_refused() -> None:
    with pytest.raises(InputError, match=r"'gone' is not a value of 'status'.*'churned'"):
        choose_event(pd.Series(["churned", "stayed"], name="status"), "gone")
    with pytest.raises(TargetNotUsableError):
        choose_event(pd.Series(["a", "b", "c"], name="t"))
