"""The notebooks in notebooks/, executed headless by `jupyter nbconvert --execute`, as in CI.

Each check finds a cell by its tag and looks at the outputs nbconvert stored for it.
"""
import pathlib
import shutil
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
JUPYTER = pathlib.Path(sys.executable).parent / "jupyter"


def execute(name, tmp_path):
    """Runs notebooks/NAME with nbconvert in a scratch copy of the folder; returns the result."""
    work = tmp_path / "notebooks"
    # Not the entries or run logs a local run left beside the notebooks: each run starts cold.
    shutil.copytree(NOTEBOOKS, work, ignore=shutil.ignore_patterns(".cellar-cache", "*.log"))
    subprocess.run(
        [str(JUPYTER), "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
         "--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.startup_timeout=300",
         "--output", "executed.ipynb", str(work / name)],
        check=True, cwd=work,
    )
    return nbformat.read(work / "executed.ipynb", as_version=4)


def cell(nb, tag):
    found = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(found) == 1, f"one cell tagged {tag}"
    return found[0]


def outputs_of(nb, tag, output_type=None):
    return [o for o in cell(nb, tag).outputs if output_type is None or o.output_type == output_type]


def text(nb, tag, name="stdout"):
    return "".join(o.text for o in outputs_of(nb, tag, "stream") if o.name == name)


def result(nb, tag, mime="text/plain"):
    results = outputs_of(nb, tag, "execute_result")
    assert len(results) == 1, f"{tag} has one result"
    return results[0].data[mime]


def test_every_notebook_runs_without_unexpected_errors(tmp_path):
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = execute(path.name, tmp_path / path.stem)
        for c in nb.cells:
            if c.cell_type != "code":
                continue
            errors = [o for o in c.outputs if o.output_type == "error"]
            expected = "raises-exception" in c.metadata.get("tags", [])
            assert bool(errors) == expected, f"{path.name}: {c.source[:60]!r} -> {errors}"


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    return execute("tour.ipynb", tmp_path_factory.mktemp("tour"))


def test_tour_prints_streams(tour):
    assert text(tour, "tour-print") == "Hello from Rust!\n"
    assert text(tour, "tour-print", "stderr") == "(this line went to stderr)\n"


def test_tour_values_and_variables(tour):
    assert result(tour, "tour-value") == "[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]"
    assert result(tour, "tour-variable") == "15"
    assert result(tour, "tour-after-errors") == '"Hello from Rust, still here"'


def test_tour_struct_has_a_rich_html_display(tour):
    html = result(tour, "tour-struct", "text/html")
    assert "background:#b7410e" in html and "rust" in html


def test_tour_displays_arrive_in_order_with_their_mime_types(tour):
    displays = outputs_of(tour, "tour-display", "display_data")
    kinds = [next(m for m in ("text/html", "text/markdown", "image/svg+xml") if m in d.data) for d in displays]
    assert kinds == ["text/html", "text/markdown", "image/svg+xml"]
    assert "HTML from a cell" in displays[0].data["text/html"]


def test_tour_errors_are_one_readable_error_each(tour):
    compile_errors = outputs_of(tour, "tour-compile-error", "error")
    assert len(compile_errors) == 1
    assert compile_errors[0].ename == "error[E0308]"
    assert "mismatched types" in compile_errors[0].evalue
    assert any("three" in line for line in compile_errors[0].traceback)
    panics = outputs_of(tour, "tour-panic", "error")
    assert len(panics) == 1 and panics[0].ename == "panic"
    assert "index out of bounds" in panics[0].evalue


@pytest.fixture(scope="module")
def caching(tmp_path_factory):
    return execute("caching.ipynb", tmp_path_factory.mktemp("caching"))


def test_caching_hits_across_cells_and_replays_outputs(caching):
    assert text(caching, "data-miss") == "loading 5 days of Oslo…\n5 temperatures, runs of load: 1\n"
    # A hit runs nothing, and shows again what the body printed.
    assert text(caching, "data-hit") == "loading 5 days of Oslo…\n5 temperatures, runs of load: 1\n"
    assert text(caching, "data-rerun").endswith("runs of load: 1\n")


def test_caching_an_edited_body_computes_again(caching):
    assert text(caching, "data-edit") == "loading 5 days of Oslo (v2)…\nruns of load: 2\n"


def test_caching_data_is_copy_on_write(caching):
    assert text(caching, "data-copy").endswith("mine: 0, cache: 5\n")


def test_caching_a_changed_notebook_type_is_a_miss(caching):
    assert text(caching, "type-define") == "value 7, runs 1\n"
    assert text(caching, "type-rerun") == "value 7, runs 1\n"
    assert text(caching, "type-after") == "value 7, runs 2\n"


def test_caching_a_helper_edit_is_a_miss_and_an_unrelated_edit_a_hit(caching):
    assert text(caching, "helper-define") == "adjusted 20, runs 1\n"
    assert text(caching, "helper-after") == "adjusted 30, runs 2\n"
    assert text(caching, "helper-unrelated") == "adjusted 30, runs 2\n"


def test_caching_policies(caching):
    assert text(caching, "ttl") == "runs of stamp: 2\n"
    assert text(caching, "lru") == "runs of square: 4\n"
    assert text(caching, "underscore") == "runs of scaled: 1\n"


def test_caching_resources_validate_release_and_clear(caching):
    assert text(caching, "resource") == "same instance: true, runs of pool: 1\n"
    assert text(caching, "validate") == "rebuilt: true, runs of pool: 2, released: 1\n"
    assert text(caching, "clear").endswith("load ran again: 3, pool released: 2\n")


def test_caching_concurrent_callers_run_the_body_once(caching):
    assert text(caching, "concurrent") == "results [2, 2, 2, 2, 2, 2, 2, 2], runs of slow: 1\n"


def test_caching_quick_misses_leave_no_spinner(caching):
    for tag in ("data-miss", "lru", "resource"):
        assert outputs_of(caching, tag, "display_data") == []


def test_caching_report_lists_the_caches(caching):
    [report] = outputs_of(caching, "report", "display_data")
    html = report.data["text/html"]
    for name in ("load", "pool", "square", "slow"):
        assert f"<td>{name}</td>" in html
    assert "load" in report.data["text/plain"]


def test_caching_a_slow_miss_shows_a_spinner_that_vanishes(caching):
    [spinner] = outputs_of(caching, "spinner", "display_data")
    # nbclient applied the spinner's updates: its last state is empty.
    assert spinner.data["text/plain"] == ""
    assert text(caching, "spinner") == "crunched 1..=1000\n"
    assert result(caching, "spinner") == "500500"


@pytest.fixture(scope="module")
def plot(tmp_path_factory):
    return execute("cached-plot.ipynb", tmp_path_factory.mktemp("plot"))


def test_a_cached_chart_reappears_on_a_rerun_without_being_drawn(plot):
    def charts(tag):
        return [o.data["image/svg+xml"] for o in outputs_of(plot, tag, "display_data") if "image/svg+xml" in o.data]

    (first,) = charts("first")
    assert first.startswith("<svg") and "Bergen, 7 days" in first
    assert text(plot, "first").startswith("drawn 1 time(s)")
    assert charts("again") == [first], "the chart is replayed byte for byte"
    assert text(plot, "again").startswith("drawn 1 time(s)"), "a hit: nothing drawn"
    (other,) = charts("other")
    assert "Tromsø, 7 days" in other
    assert text(plot, "other") == "drawn 2 time(s)\n"
