"""The one way a page shows a background job: a progress bar in plain view, elapsed time, an ETA and
a Stop button while it runs; how it ended once it has. The live part is a fragment that redraws every
second on its own, so the rest of the page (and every other page) stays usable meanwhile."""

from __future__ import annotations

import streamlit as st

from embedlab.durations import format_seconds
from embedlab.jobs import Job, JobSnapshot
from ui import jobs, state


def status_line(snap: JobSnapshot) -> str:
    eta = f" · about {format_seconds(snap.eta)} left" if snap.eta is not None else ""
    return f"{format_seconds(snap.elapsed)} elapsed{eta}" + (" · stopping after the current step…"
                                                              if snap.status == "stopping" else "")


def panel(kind: str) -> Job | None:
    """Draw the latest job of ``kind``, if any, and return it."""
    job = jobs.latest(kind)
    if job is None:
        return None
    if job.running:
        _live(kind)
    else:
        _ended(job)
    return job


@st.fragment(run_every=1.0)
def _live(kind: str) -> None:
    state.keep_in_fragment()  # this fragment may tick after the user left the page: keep every page's settings
    job = jobs.latest(kind)
    snap = job.snapshot()
    if not snap.running:  # it just ended: redraw the whole page once, so its result appears
        st.rerun()
    st.progress(min(snap.fraction, 1.0), text=f"**{job.title}** · {snap.text}")
    left, right = st.columns([4, 1])
    left.caption(status_line(snap))
    if right.button("Stop", key=f"job_stop_{kind}", disabled=snap.status == "stopping",
                    help="Stops at the next progress report; what finished before is kept."):
        job.stop()
        st.rerun(scope="fragment")


def _ended(job: Job) -> None:
    snap = job.snapshot()
    took = format_seconds(snap.elapsed)
    if snap.status == "failed":
        st.error(f"{job.title} failed after {took}: {job.error}")
    elif snap.status == "stopped":
        st.warning(f"{job.title} was stopped after {took}.")
    else:
        st.success(f"{job.title} finished in {took}.")
    notes = [line for line in snap.log if line]
    if notes:
        with st.expander("What ran"):
            st.text("\n".join(notes))


def fresh_result(job: Job | None, marker: str):
    """``job.result`` the first time this session sees ``job`` finished with one, else None: a page
    adopts a result once, so a later failed or stopped run never replaces it with nothing."""
    if job is None or job.running or job.result is None:
        return None
    seen = st.session_state.setdefault(marker, None)
    if seen == id(job):
        return None
    st.session_state[marker] = id(job)
    return job.result


def cost_lines(lines: list[str], kind: str) -> None:
    """Say before a start what the work will cost, and what else is using the cores."""
    for line in lines:
        st.caption(line)
    others = jobs.busy_elsewhere(kind)
    if others:
        st.caption(f"Also running now on this machine's cores: {', '.join(others)}; expect it to take longer.")


def follow(job, draw) -> None:
    """``draw(job)`` once for a job that has ended; while it runs, redrawn every second in a fragment
    (the rest of the page stays still), and the whole page once more when it ends, for the results."""
    if not job.running:
        draw(job)
        return

    @st.fragment(run_every=1.0)
    def live_fragment() -> None:
        state.keep_in_fragment()  # it may tick after the user left the page: keep every page's settings
        draw(job)
        if not job.running:
            st.rerun()

    live_fragment()
