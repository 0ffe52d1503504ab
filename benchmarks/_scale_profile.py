"""Run ``openviking-mcp`` under cProfile, every Python thread included, for ``scale.py --profile``.

    python benchmarks/_scale_profile.py OUT.prof cpu|wall serve --config ov.conf --port 8000

cProfile follows one thread only, so a ``threading.setprofile`` hook starts one profiler in
each thread the server starts (worker pools, ``asyncio.to_thread``); when the server exits
(after uvicorn's clean shutdown on SIGTERM) all of them are merged into ``OUT.prof``
(pstats format).

Clock ``cpu`` charges each call its own thread's CPU time (``time.thread_time``), so other
processes on a loaded machine do not inflate it; CPU burnt in native threads (LanceDB's,
onnxruntime's) is then missing, the Python call that waits for them looks cheap. Clock
``wall`` (cProfile's default) shows that waiting, and everything else's load with it.
"""

from __future__ import annotations

import cProfile
import pstats
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

_PROFILES: list[cProfile.Profile] = []
_LOCK = threading.Lock()
_CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}
_clock = _CLOCKS["cpu"]


def _start_thread_profile(frame: FrameType, event: str, arg: Any) -> None:
    """The first profile event of a new thread: replace this hook by a profiler of its own."""
    profile = cProfile.Profile(_clock)
    with _LOCK:
        _PROFILES.append(profile)
    profile.enable()


def _completed_calls(profile: cProfile.Profile) -> pstats.Stats:
    """A profile's completed calls, without stopping it.

    ``cProfile.Profile.create_stats`` would first close the calls still open in that thread
    (an idle worker blocked in ``queue.get``) with the clock of the thread that dumps, which
    makes no sense for a per-thread CPU clock; those open calls are left out instead."""
    profile.snapshot_stats()
    stats = pstats.Stats()
    stats.stats = profile.stats  # type: ignore[attr-defined]  # not in the stubs
    stats.get_top_level_stats()
    return stats


def _dump(out: Path, main_profile: cProfile.Profile) -> None:
    main_profile.disable()
    with _LOCK:
        profiles = list(_PROFILES)
    stats = pstats.Stats()
    for profile in profiles:
        stats.add(_completed_calls(profile))
    stats.dump_stats(out)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> None:
    global _clock
    out, _clock, argv = Path(sys.argv[1]), _CLOCKS[sys.argv[2]], sys.argv[3:]
    sys.argv = ["openviking-mcp", *argv]
    # uvicorn shuts down on SIGTERM, then raises it again with the handler found at start:
    # this one, so the profiles are written instead of the process being killed.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    threading.setprofile(_start_thread_profile)
    main_profile = cProfile.Profile(_clock)
    _PROFILES.append(main_profile)
    main_profile.enable()
    try:
        from openviking_mcp.cli import main as cli_main

        cli_main(argv)
    except SystemExit:
        pass
    finally:
        _dump(out, main_profile)


if __name__ == "__main__":
    main()
