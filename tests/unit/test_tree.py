"""The tree's pure rules: lanes, branches and siblings (the stores' reading, tested as data)."""

from __future__ import annotations

from app.core.conversations import Message
from app.core.tree import branch_from, lane_for, siblings_on, thread


def msg(mid: str, at: int, parent: str | None, lane: str) -> Message:
    return Message(mid, "c", "user", mid, at, parent_id=parent, lane=lane)


def test_a_message_continues_its_parents_lane_until_the_parent_has_a_child() -> None:
    parent = msg("p", 1, None, "p")
    assert lane_for("x", parent, parent_has_child=False) == "p"
    assert lane_for("y", parent, parent_has_child=True) == "y"
    assert lane_for("z", None, parent_has_child=False) == "z"


def test_a_line_stored_before_branches_becomes_one_lane() -> None:
    line = thread([Message(f"m{i}", "c", "user", "t", i) for i in range(3)])
    assert [(m.parent_id, m.lane) for m in line] == [(None, "m0"), ("m0", "m0"), ("m1", "m0")]


def test_siblings_are_the_parents_own_lane_then_the_lanes_started_under_it() -> None:
    tree = [msg("q", 1, None, "q"), msg("r1", 2, "q", "q"), msg("r2", 3, "q", "r2")]
    branch = branch_from(tree, "r2")
    assert [m.id for m in branch.messages] == ["q", "r2"]
    assert branch.siblings["r2"].lanes == ("q", "r2")
    assert siblings_on(branch.messages, [tree[0], tree[2]])["r2"].previous == "q"


def test_a_loop_of_parents_from_another_hand_ends_the_walk_instead_of_spinning() -> None:
    looped = [msg("a", 1, "b", "a"), msg("b", 2, "a", "a")]
    branch = branch_from(looped, "a")
    assert sorted(m.id for m in branch.messages) == ["a", "b"]
