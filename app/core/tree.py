"""A conversation as a tree of messages, read one branch at a time.

Each message names its parent (`parent_id`; None for a first message). Editing a message or
regenerating a reply adds a sibling instead of replacing anything, so every answer ever given
is kept and the user steps between siblings (`branch-prev`, `branch-next`).

To keep appending O(1) and opening a long chat cheap, the store also files every message in a
*lane*: a run of messages that each continue the one before. A message continues its parent's
lane when the parent has no child yet; otherwise (an edit, a regenerate) it starts a lane of
its own, whose id is the message's own id. So:

- the first child of a message is always in that message's lane, and every other child starts
  a lane (a "lane start"); a first message always starts a lane;
- the newest message of a lane is a leaf, and a branch on screen is "the lane's newest message
  and its ancestors": one range read per lane on the way back to the root, however long the
  chat, and never the other branches;
- the siblings of a message are its parent's own lane (the first child) and the lane starts
  under that parent, which are few and read in one go.

A conversation remembers the lane last shown, so it reopens on that branch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from .conversations import Message


@dataclass(frozen=True)
class Siblings:
    """The alternatives at one point of a branch: each is named by the lane to show for it."""

    lanes: tuple[str, ...]
    index: int

    @property
    def position(self) -> str:
        """As `branch-position` reads: "2/3"."""
        return f"{self.index + 1}/{len(self.lanes)}"

    @property
    def previous(self) -> str | None:
        return self.lanes[self.index - 1] if self.index > 0 else None

    @property
    def next(self) -> str | None:
        return self.lanes[self.index + 1] if self.index + 1 < len(self.lanes) else None


@dataclass(frozen=True)
class Branch:
    """The messages on screen (first to last) and, for those with siblings, the siblings.

    A long branch is read a page at a time (its newest messages first, older pages as the
    reader scrolls up): `has_older` says that messages older than the first one are on it."""

    messages: list[Message]
    siblings: dict[str, Siblings] = field(default_factory=dict)
    has_older: bool = False

    @property
    def lane(self) -> str | None:
        return self.messages[-1].lane if self.messages else None

    def tail(self, newest: int, through: str | None = None) -> Branch:
        """Its last `newest` messages, or more: back to `through` where that message is on it."""
        keep = newest
        for i, m in enumerate(self.messages):
            if m.id == through:
                keep = max(keep, len(self.messages) - i)
        if keep >= len(self.messages):
            return self
        kept = self.messages[-keep:] if keep > 0 else []
        return Branch(kept, self._siblings_of(kept), has_older=True)

    def before(self, message_id: str, count: int) -> Branch:
        """The (at most) `count` messages before `message_id` on it: the next older page."""
        index = next((i for i, m in enumerate(self.messages) if m.id == message_id), None)
        if index is None:
            return Branch([])
        older = self.messages[:index]
        return Branch(older, self._siblings_of(older), self.has_older).tail(count)

    def _siblings_of(self, messages: Sequence[Message]) -> dict[str, Siblings]:
        ids = {m.id for m in messages}
        return {k: v for k, v in self.siblings.items() if k in ids}


def starts_lane(message: Message) -> bool:
    return message.lane == message.id


def lane_for(message_id: str, parent: Message | None, parent_has_child: bool) -> str:
    """The lane a new message goes in: its parent's while the parent has no child yet."""
    if parent is None or parent_has_child:
        return message_id
    return parent.lane


def siblings_on(branch: Sequence[Message], lane_starts: Iterable[Message]) -> dict[str, Siblings]:
    """Which messages of `branch` have siblings, given every lane start of the conversation."""
    starts_under: dict[str | None, list[Message]] = {}
    for start in lane_starts:
        starts_under.setdefault(start.parent_id, []).append(start)
    by_id = {m.id: m for m in branch}
    found: dict[str, Siblings] = {}
    for message in branch:
        starts = sorted(starts_under.get(message.parent_id, ()), key=lambda m: m.created_at)
        parent = by_id.get(message.parent_id) if message.parent_id else None
        lanes = [s.lane for s in starts]
        if parent is not None and starts:
            lanes.insert(0, parent.lane)  # the first child, in the parent's own lane
        if len(lanes) > 1 and message.lane in lanes:
            found[message.id] = Siblings(tuple(lanes), lanes.index(message.lane))
    return found


def branch_from(messages: Iterable[Message], lane: str | None) -> Branch:
    """The branch ending at the newest message of `lane` (None, or a lane that is not there:
    the newest message's lane), from a conversation's whole tree. The memory store's reading;
    IndexedDB reads the same lanes without the rest of the tree."""
    every = list(messages)
    if not every:
        return Branch([])
    lanes: dict[str, list[Message]] = {}
    for m in every:
        lanes.setdefault(m.lane, []).append(m)
    if lane is None or lane not in lanes:
        lane = max(every, key=lambda m: m.created_at).lane
    by_id = {m.id: m for m in every}
    path: list[Message] = []
    tip: Message | None = max(lanes[lane], key=lambda m: m.created_at)
    seen: set[str] = set()  # a loop of parents (records from another hand) ends the walk
    while tip is not None:
        segment = []
        for m in sorted(
            (m for m in lanes[tip.lane] if m.created_at <= tip.created_at),
            key=lambda m: m.created_at,
        ):
            if m.id in seen:
                break
            seen.add(m.id)
            segment.append(m)
        if not segment:
            break
        path[:0] = segment
        first = segment[0]
        parent = first.parent_id
        tip = by_id.get(parent) if parent and parent not in seen else None
    return Branch(path, siblings_on(path, (m for m in every if starts_lane(m))))


def thread(messages: Sequence[Message]) -> list[Message]:
    """Messages stored before branches (one line, in time order) as a tree: each follows the
    one before, all in the first message's lane."""
    threaded: list[Message] = []
    for m in messages:
        parent = threaded[-1] if threaded else None
        lane = threaded[0].lane if threaded else m.id
        threaded.append(replace(m, parent_id=parent.id if parent else None, lane=lane))
    return threaded


def placed(messages: Sequence[Message]) -> list[Message]:
    """A conversation's messages from outside the store (an import), each in the lane the store
    would have given it had they been appended one by one in time order (`lane_for`): a
    parent's earliest child continues the parent's lane, every later child and every first
    message starts its own. Every parent must be among `messages` and earlier than its
    children. Same order as given."""
    order = sorted(range(len(messages)), key=lambda i: (messages[i].created_at, i))
    lanes: dict[str, str] = {}
    with_child: set[str] = set()
    for i in order:
        message = messages[i]
        parent = message.parent_id
        if parent is None or parent in with_child:
            lanes[message.id] = message.id
        else:
            lanes[message.id] = lanes[parent]
        if parent is not None:
            with_child.add(parent)
    return [replace(m, lane=lanes[m.id]) for m in messages]
