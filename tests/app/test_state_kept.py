"""Every value widget on every page keeps what the user set while a background job runs and the user
switches through all the other pages and back (issue 14, "state that never resets")."""

import time

import pytest
from streamlit.testing.v1 import AppTest

from embedlab.jobs import Job
from tests.app.views import open_view
from ui import jobs
from ui.shell import PAGES

pytestmark = pytest.mark.slow

VALUE_WIDGETS = ("selectbox", "multiselect", "radio", "text_input", "text_area", "number_input", "slider",
                 "select_slider", "toggle", "checkbox")
# Choices whose change starts loading another (large) model or hides the rest of the page: their kept
# value is still checked, they are only not changed here.
NOT_CHANGED = {"ft_model", "models_measure_name", "models_distill_parent", "ret_li_model", "exp_source",
               "ret_source", "ft_source", "sim_source", "sim_models", "exp_models", "ret_models", "bench_models",
               "sim_prompt_typed", "ret_prompt_typed", "bench_prompt_typed"}
# Kept on purpose for this page only: a deletion's "I am sure" must be ticked again after a page switch.
NOT_KEPT = {"ft_delete_sure"}


def widgets(at: AppTest) -> dict:
    found = {}
    for kind in VALUE_WIDGETS:
        for widget in at.get(kind):
            if widget.key and not widget.key.startswith("$$"):
                found[widget.key] = widget
    return found


def change(widget) -> None:
    """Set ``widget`` to a value other than its current one (valid for the widget)."""
    kind = type(widget).__name__
    if kind in ("Selectbox", "Radio", "SelectSlider") and len(widget.options) > 1:
        now = widget.options.index(str(widget.format_func(widget.value)))
        raw = raw_option(widget, (now + 1) % len(widget.options))
        if raw is not None:
            widget.set_value(raw)
    elif kind == "Multiselect" and len(widget.value) >= 2:
        widget.set_value(widget.value[:-1])
    elif kind in ("TextInput", "TextArea"):
        widget.input(f"{widget.value or ''} kept")
    elif kind in ("NumberInput", "Slider") and not isinstance(widget.value, (tuple, list)):
        step = widget.step or 1
        up = widget.value + step
        widget.set_value(up if widget.max is None or up <= widget.max else widget.value - step)
    elif kind in ("Toggle", "Checkbox"):
        widget.set_value(not widget.value)


def raw_option(widget, index: int):
    """The option value whose label is ``widget.options[index]``, when the label shows it as it is
    (a number or a plain string); None for options shown through a label mapping."""
    shown = widget.options[index]
    for candidate in (shown, *_numbers(shown)):
        if str(widget.format_func(candidate)) == shown:
            return candidate
    return None


def _numbers(text: str) -> list:
    out = []
    for cast in (int, float):
        try:
            out.append(cast(text))
        except ValueError:
            pass
    return out


def values(at: AppTest) -> dict:
    return {key: w.value for key, w in widgets(at).items()}


def test_every_page_keeps_every_value_through_a_background_job_and_page_switches():
    at = open_view("home")
    pages = [path for path, _title, _icon in PAGES]
    set_values, changed = {}, set()
    for path in pages:
        at.switch_page(path).run()
        assert not at.exception, at.exception
        before = values(at)
        for key in list(widgets(at)):
            if key in NOT_CHANGED:
                continue
            widget = widgets(at).get(key)
            if widget is None:  # an earlier change hid it
                continue
            change(widget)
            at.run()
            assert not at.exception, (path, key, at.exception)
        set_values[path] = values(at)
        changed |= {key for key, value in set_values[path].items() if key in before and before[key] != value}
    assert len(changed) >= 30, sorted(changed)  # the check below covers a real spread of widgets
    job = jobs.submit(Job("test-wait", "A background job", lambda ctx: time.sleep(2)))
    for path in [*pages, *reversed(pages)]:  # every page visited while the job runs and after
        at.switch_page(path).run()
        assert not at.exception, at.exception
    job.wait(30)
    for path in pages:
        at.switch_page(path).run()
        kept = {k: v for k, v in values(at).items() if k not in NOT_KEPT}
        assert kept == {k: v for k, v in set_values[path].items() if k not in NOT_KEPT}, path
