"""The solution markers of the notebook sources: what the student edition keeps, and bad markers refused."""

import pytest

from instructor.markers import MarkerError, solution_blocks, strip_solutions


def test_strip_solutions_keeps_everything_outside_the_markers():
    text = ('class A:\n    def f(self, x):\n        """Doc."""\n        y = 1  # given\n        # BEGIN SOLUTION\n'
            '        return x + y\n        # END SOLUTION\n\n\ndef g():\n    # BEGIN SOLUTION\n    return 2\n'
            '    # END SOLUTION\n')
    out = strip_solutions(text)
    assert out == ('class A:\n    def f(self, x):\n        """Doc."""\n        y = 1  # given\n'
                   '        raise NotImplementedError("A.f: write this part")\n\n\ndef g():\n'
                   '    raise NotImplementedError("g: write this part")\n')
    assert [b[3] for b in solution_blocks(text)] == ["A.f", "g"]
    assert strip_solutions(text, keep=lambda name: name == "g").endswith("def g():\n    return 2\n")


@pytest.mark.parametrize("text, message", [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without a"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", "inside the block"),
    ("def f():\n    return 1  # BEGIN SOLUTION\n", "stand alone"),
    ("def f():\n    return 1\n", "no # BEGIN SOLUTION"),
    ("def f(:\n    pass\n", "not valid Python"),
    ("x = [\n    # BEGIN SOLUTION\n    1,\n    # END SOLUTION\n]\n", "student version is not valid"),
])
def test_bad_markers_are_refused(text, message):
    with pytest.raises(MarkerError, match=message):
        strip_solutions(text)
