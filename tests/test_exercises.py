"""minconvbert.exercises: a notebook exercise's check says correct, not done yet or what is wrong,
never raises, and hands the rest of the notebook a correct value."""

import numpy as np
import pytest

from minconvbert import exercises
from minconvbert.exercises import check, exercise, passed, summary


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch):
    monkeypatch.setattr(exercises, "_results", {})


def not_written(x):
    raise NotImplementedError("not_written: write this part")


def test_a_correct_answer_is_returned_and_counted(capsys):
    assert exercise("1.1", "double", lambda: 2 * np.arange(3), expected=np.array([0, 2, 4])).tolist() == [0, 2, 4]
    assert capsys.readouterr().out == "exercise 1.1 (double): correct\n"
    assert passed("1.1") and not passed("1.2")


def test_an_exercise_not_done_yet_says_so_and_the_expected_value_goes_on(capsys):
    expected = np.ones(3)
    assert exercise("2.1", "not_written", lambda: not_written(1), expected=expected) is expected
    out = capsys.readouterr().out
    assert out.startswith("exercise 2.1 (not_written): not done yet (not_written: write this part). Complete the cell")
    assert "the cells below go on with the expected answer" in out and not passed("2.1")


def test_a_wrong_answer_says_what_is_wrong_and_names_a_known_mistake(capsys):
    expected = np.arange(1.0, 5.0)
    exercise("3.1", "mean", lambda: 4 * expected, expected=expected)
    assert "exercise 3.1 (mean): wrong: 4 of 4 elements differ: yours ≈ 4 × the expected value" in capsys.readouterr().out
    exercise("3.2", "mean", lambda: expected[::-1], expected=expected, mistakes={
        "the order is reversed": lambda: expected[::-1], "never built": lambda: not_written(0)})
    assert "wrong: the order is reversed (4 of 4 elements differ" in capsys.readouterr().out


def test_an_exception_in_the_attempt_is_reported_with_its_line(capsys):
    def broken(x):
        return x @ np.ones((5, 5))

    assert exercise("4.1", "broken", lambda: broken(np.ones((2, 3))), expected=np.zeros((2, 5))).shape == (2, 5)
    out = capsys.readouterr().out
    assert "exercise 4.1 (broken): wrong: it raises ValueError: " in out
    assert "(in broken, line" in out and "return x @ np.ones((5, 5))" in out


def test_a_test_function_judges_by_properties_and_summary_counts(capsys):
    positive = lambda result: None if (np.asarray(result) > 0).all() else "some values are not positive"
    assert exercise("5.1", "positive", lambda: np.ones(2), test=positive).tolist() == [1.0, 1.0]
    assert exercise("5.2", "positive", lambda: -np.ones(2), test=positive) is None
    exercise("5.3", "later", lambda: not_written(0), test=positive)
    capsys.readouterr()
    assert summary() == {"correct": ["exercise 5.1 (positive)"], "wrong": ["exercise 5.2 (positive)"],
                         "not done yet": ["exercise 5.3 (later)"]}
    assert capsys.readouterr().out.startswith("exercises: 1 correct, 1 wrong, 1 not done yet (of 3)")
    with pytest.raises(TypeError, match="exactly one of expected= and test="):
        exercise("5.4", "neither", lambda: 1)


def test_check_passes_true_claims_and_stops_on_false_ones(capsys):
    check(np.array([True, True]), "both hold")
    assert capsys.readouterr().out == "checked: both hold\n"
    with pytest.raises(AssertionError, match="this no longer holds: the loss fell"):
        check(False, "the loss fell")
