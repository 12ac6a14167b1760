"""Glued words follow the numbers."""
from mlecourse.teaching import wording


def test_change_names_the_direction_and_ignores_a_difference_under_the_tolerance():
    assert wording.change(0.149, 0.151) == "widens"
    assert wording.change(0.071, 0.062) == "narrows"
    assert wording.change(0.071, 0.0712) == "leaves unchanged"
    assert wording.change(269.0, 278.0, lower="lowers", higher="raises") == "raises"


def test_every_says_when_the_changes_disagree():
    assert wording.every([0.07, 0.07], [0.02, 0.05]) == "narrows"
    assert wording.every([0.149, 0.149], [0.07, 0.151]) == "does not always narrow"
