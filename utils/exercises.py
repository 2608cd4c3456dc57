"""Self-checks for exercises: clear feedback instead of a bare ``assert``.

Each check raises ``AssertionError`` with what was expected, what was received and a
hint, or returns a short confirmation that the notebook displays. nbgrader counts a
test cell as failed when it raises, so the same checks grade the exercises.

Example:
    >>> check_close(0.3000001, 0.3, name="probability")
    'probability: correct'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _fail(name: str, problem: str, hint: str | None) -> None:
    message = f"{name}: {problem}"
    if hint:
        message += f" Hint: {hint}"
    raise AssertionError(message)


def check_not_answered(value: Any, *, name: str) -> None:
    """Fail when an exercise still holds its placeholder (``...`` or ``None``).

    Args:
        value: The learner's answer.
        name: What the answer is called in the exercise.

    Raises:
        AssertionError: If ``value`` is ``...`` or ``None``.

    Example:
        >>> check_not_answered(3, name="answer")
    """
    if value is ... or value is None:
        _fail(name, "not answered yet (still `...` or None).", "write your answer.")


def check_shape(
    array: Any, expected_shape: Sequence[int], *, name: str, hint: str | None = None
) -> str:
    """Check that an array has the expected shape.

    Args:
        array: The learner's array (anything ``np.shape`` accepts).
        expected_shape: The shape it should have.
        name: What the array is called in the exercise.
        hint: A nudge shown when the check fails.

    Returns:
        A confirmation message.

    Raises:
        AssertionError: If the shapes differ.

    Example:
        >>> check_shape(np.zeros((2, 3)), (2, 3), name="output")
        'output: correct shape (2, 3)'
    """
    check_not_answered(array, name=name)
    actual = tuple(np.shape(array))
    if actual != tuple(expected_shape):
        _fail(name, f"shape is {actual}, expected {tuple(expected_shape)}.", hint)
    return f"{name}: correct shape {actual}"


def check_close(
    actual: Any,
    expected: Any,
    *,
    name: str,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    hint: str | None = None,
) -> str:
    """Check that a number or array matches the expected value within tolerance.

    Args:
        actual: The learner's value.
        expected: The reference value.
        name: What the value is called in the exercise.
        rtol: Relative tolerance.
        atol: Absolute tolerance.
        hint: A nudge shown when the check fails.

    Returns:
        A confirmation message.

    Raises:
        AssertionError: If shapes differ or any element is off.

    Example:
        >>> check_close([1.0, 2.0], [1.0, 2.0], name="kernel")
        'kernel: correct'
    """
    check_not_answered(actual, name=name)
    actual_array = np.asarray(actual, dtype=float)
    expected_array = np.asarray(expected, dtype=float)
    if actual_array.shape != expected_array.shape:
        _fail(
            name,
            f"shape is {actual_array.shape}, expected {expected_array.shape}.",
            hint,
        )
    if not np.allclose(actual_array, expected_array, rtol=rtol, atol=atol):
        error = np.abs(actual_array - expected_array)
        where = (
            tuple(int(i) for i in np.unravel_index(np.argmax(error), error.shape))
            if error.ndim
            else ()
        )
        _fail(
            name,
            f"largest difference {error.max():.3g} at index {where}: got "
            f"{actual_array[where]:.6g}, expected {expected_array[where]:.6g}.",
            hint,
        )
    return f"{name}: correct"


def check_equal(
    actual: Any, expected: Any, *, name: str, hint: str | None = None
) -> str:
    """Check exact equality (integers, strings, tuples, integer arrays).

    Args:
        actual: The learner's value.
        expected: The reference value.
        name: What the value is called in the exercise.
        hint: A nudge shown when the check fails.

    Returns:
        A confirmation message.

    Raises:
        AssertionError: If the values differ.

    Example:
        >>> check_equal((13, 13), (13, 13), name="output size")
        'output size: correct'
    """
    check_not_answered(actual, name=name)
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        same = np.array_equal(np.asarray(actual), np.asarray(expected))
    else:
        same = actual == expected
    if not same:
        _fail(name, f"got {actual!r}, expected {expected!r}.", hint)
    return f"{name}: correct"


def check_between(
    actual: Any, low: float, high: float, *, name: str, hint: str | None = None
) -> str:
    """Check that a measured number falls inside a band ``[low, high]``.

    Args:
        actual: The learner's number (e.g. an accuracy).
        low: Lowest accepted value.
        high: Highest accepted value.
        name: What the number is called in the exercise.
        hint: A nudge shown when the check fails.

    Returns:
        A confirmation message.

    Raises:
        ValueError: If ``low > high``.
        AssertionError: If ``actual`` is outside the band or not a number.

    Example:
        >>> check_between(0.97, 0.9, 1.0, name="accuracy")
        'accuracy: 0.97 is within [0.9, 1]'
    """
    if low > high:
        raise ValueError(f"low ({low}) is above high ({high}); swap them.")
    check_not_answered(actual, name=name)
    try:
        value = float(actual)
    except (TypeError, ValueError):
        _fail(name, f"expected a number, got {type(actual).__name__}.", hint)
    if not low <= value <= high:
        _fail(name, f"{value:.4g} is outside the expected band [{low}, {high}].", hint)
    return f"{name}: {value:.4g} is within [{low:g}, {high:g}]"
