"""utils.exercises: right answers pass, wrong ones fail with a clear message."""

import numpy as np
import pytest

from utils import exercises


def test_close_passes_and_fails_with_location():
    assert exercises.check_close(np.ones(3), np.ones(3), name="x") == "x: correct"
    with pytest.raises(
        AssertionError, match=r"x: largest difference 1 at index \(1,\)"
    ):
        exercises.check_close([1.0, 2.0, 3.0], [1.0, 3.0, 3.0], name="x")
    with pytest.raises(AssertionError, match=r"shape is \(2,\), expected \(3,\)"):
        exercises.check_close([1.0, 2.0], [1.0, 2.0, 3.0], name="x")


@pytest.mark.parametrize("placeholder", [..., None])
def test_unanswered_is_reported(placeholder):
    with pytest.raises(AssertionError, match="answer: not answered yet"):
        exercises.check_not_answered(placeholder, name="answer")
    for check in (exercises.check_equal, exercises.check_close):
        with pytest.raises(AssertionError, match="not answered yet"):
            check(placeholder, 3, name="answer")
    exercises.check_not_answered(0, name="answer")  # A falsy answer is an answer.


def test_equal_and_shape():
    assert exercises.check_equal(np.array([1, 2]), np.array([1, 2]), name="a")
    with pytest.raises(AssertionError, match="got 4, expected 3. Hint: count again"):
        exercises.check_equal(4, 3, name="n", hint="count again")
    with pytest.raises(AssertionError, match=r"shape is \(2, 2\), expected \(4,\)"):
        exercises.check_shape(np.zeros((2, 2)), (4,), name="v")


def test_between():
    assert "within" in exercises.check_between(0.5, 0.0, 1.0, name="p")
    with pytest.raises(AssertionError, match="outside the expected band"):
        exercises.check_between(1.5, 0.0, 1.0, name="p")
    with pytest.raises(AssertionError, match="expected a number"):
        exercises.check_between("high", 0.0, 1.0, name="p")
    with pytest.raises(ValueError, match="swap them"):
        exercises.check_between(0.5, 1.0, 0.0, name="p")
