"""The A/B slot state machine, explored exhaustively: every reachable state is consistent and bootable."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import pytest

from kelaile_cli.core.box import slots as sm
from kelaile_cli.core.box.errors import ErrorCode

SIZE = 2  # bytes per test image: enough for "partly written"
IMAGES = {"X": "1.1.0", "Y": "1.2.0"}  # sha256 (stand-in) -> version


def _ops(state: sm.SlotsState):
    """Every operation a host or power cycle can apply, as (label, callable)."""
    for sha, version in IMAGES.items():
        yield f"begin {sha}", lambda s, sha=sha, v=version: sm.begin(s, v, SIZE, sha)[0]
    yield "write", lambda s: sm.write(s, s.slot(s.inactive).written, 1)
    yield "write-gap", lambda s: sm.write(s, s.slot(s.inactive).written + 1, 1)
    yield "finish-good", lambda s: sm.finish(s, s.slot(s.inactive).sha256)
    yield "finish-bad", lambda s: sm.finish(s, "bad")
    yield "activate", sm.activate
    yield "boot", sm.boot
    yield "boot-fail", lambda s: sm.boot(s, fail=True)
    yield "confirm", sm.confirm
    yield "abort", lambda s: sm.invalidate(s, s.inactive)


def _check(state: sm.SlotsState) -> None:
    assert state.problem() is None, state
    assert sm.SlotsState.from_json(state.to_json()) == state
    run = state.running
    assert run.state == "valid"
    if state.trial:  # on trial: the way back is a confirmed image
        assert state.previous is not None and state.slot(state.previous).confirmed and not run.confirmed
    else:
        assert run.confirmed, "outside a trial the box runs a confirmed image"


def test_every_reachable_state_is_consistent():
    start = sm.initial("1.0.0", SIZE, "F")
    seen = {start}
    queue = deque([start])
    transitions = refused = 0
    while queue:
        state = queue.popleft()
        _check(state)
        for _label, op in _ops(state):
            try:
                nxt = op(state)
            except sm.SlotError as exc:
                refused += 1
                if exc.state is not None:  # a failed verify invalidates the slot
                    nxt = exc.state
                else:
                    continue
            transitions += 1
            _check(nxt)
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert len(seen) > 50 and transitions > 500 and refused > 100  # the space was really explored


def _installed(sha: str = "X") -> sm.SlotsState:
    s, off = sm.begin(sm.initial("1.0.0", SIZE, "F"), IMAGES[sha], SIZE, sha)
    assert off == 0
    s = sm.write(sm.write(s, 0, 1), 1, 1)
    return sm.activate(sm.finish(s, sha))


def test_trial_confirmed_stays():
    s = sm.boot(_installed())
    assert (s.active, s.trial, s.last_event) == ("B", True, "trial")
    s = sm.boot(sm.confirm(s))
    assert (s.active, s.trial, s.running.version, s.running.confirmed) == ("B", False, "1.1.0", True)


def test_second_boot_without_confirm_reverts():
    s = sm.boot(sm.boot(_installed()))
    assert (s.active, s.trial, s.last_event, s.running.version) == ("A", False, "reverted", "1.0.0")
    assert s.slot("B").state == "valid"  # kept: a re-run only verifies and activates again
    _s2, offset = sm.begin(s, "1.1.0", SIZE, "X")
    assert offset == SIZE


def test_failed_first_boot_reverts_and_marks_the_slot():
    s = sm.boot(_installed(), fail=True)
    assert (s.active, s.trial, s.slot("B").state, s.last_event) == ("A", False, "failed", "reverted")
    _s, offset = sm.begin(s, "1.1.0", SIZE, "X")
    assert offset == 0  # a failed image is written again, not trusted


def test_begin_invalidates_another_image_and_resumes_the_same():
    s, _ = sm.begin(sm.initial("1.0.0", SIZE, "F"), "1.1.0", SIZE, "X")
    s = sm.write(s, 0, 1)
    resumed, off = sm.begin(s, "1.1.0", SIZE, "X")
    assert off == 1 and resumed.slot("B").written == 1
    other, off = sm.begin(s, "1.2.0", SIZE, "Y")
    assert off == 0 and other.slot("B").sha256 == "Y" and other.slot("B").written == 0


def test_refusals():
    s = sm.boot(_installed())
    with pytest.raises(sm.SlotError, match="runs on trial"):
        sm.begin(s, "1.2.0", SIZE, "Y")  # the inactive slot is the way back
    with pytest.raises(sm.SlotError):
        sm.invalidate(s, "A")
    fresh = sm.initial("1.0.0", SIZE, "F")
    with pytest.raises(sm.SlotError, match="no image runs on trial"):
        sm.confirm(replace(fresh, slots=(replace(fresh.slots[0], confirmed=False), fresh.slots[1])))
    with pytest.raises(sm.SlotError, match="no image runs on trial") as confirmed:
        sm.confirm(fresh)  # the running image is confirmed already: no trial, nothing to confirm
    assert confirmed.value.error is ErrorCode.BAD_STATE
    with pytest.raises(sm.SlotError, match="verify it before activating"):
        sm.activate(fresh)
    with pytest.raises(sm.SlotError) as info:
        sm.finish(sm.write(sm.write(sm.begin(fresh, "1.1.0", SIZE, "X")[0], 0, 1), 1, 1), "bad")
    assert info.value.error is ErrorCode.VERIFY_FAILED and info.value.state is not None
    assert info.value.state.slot("B").state == "empty"
