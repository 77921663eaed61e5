"""What keeps cells quick, through the real kernel: one build for a final expression, kernel
commands that compile nothing, and build folders that a later kernel reuses."""
import contextlib
import fcntl
import glob
import json
import os
import pathlib
import queue
import re
import shutil
import subprocess
import time
import uuid

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

from conftest import CELL_TIMEOUT, KERNEL_NAME, STARTUP_TIMEOUT, result_text, run_cell, stream_text

COUNTER = pathlib.Path(__file__).resolve().parent / "fixtures" / "counter"


# The parts the kernel splits evcxr's "Final compile" phase into (from the rustc wrapper's reports).
BUILD_PARTS = ["Analysis (evcxr's rust-analyzer)", "Cargo", "rustc (or a kept build)"]


def test_a_final_expression_is_built_once(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "1 + 1")
    assert result_text(outputs) == "2"
    assert all(part in reply["cellar_phases"] for part in BUILD_PARTS), reply
    assert "Fallback" not in reply["cellar_phases"], "evcxr's second build was not needed"
    reply, outputs = run_cell(kc, 'let words = vec!["a", "b"];\nwords')
    assert result_text(outputs) == '["a", "b"]'
    assert "Fallback" not in reply["cellar_phases"], reply


def test_evcxrs_start_builds_its_first_crate_once(tmp_path):
    # evcxr starts by building `42`, first as a call of `.evcxr_display()` (a method no type has
    # then), then, when that fails, again through its fallback. The kernel leaves the attempt
    # out of the first build: it passes, and the crate evcxr wrote last is still that attempt.
    with _new_kernel(tmp_path) as kc:
        source = (_last_build_folder(kc) / "src" / "lib.rs").read_text()
        assert ".evcxr_display();" in source or "\n42\n);" in source, source
        assert "evcxr_send_text_plain" not in source, source
        # The kernel then builds and shows cells as before.
        assert _result_of(kc, "1 + 1") == "2"
        _run_all_ok(kc, ["let n = 40;"])
        assert _result_of(kc, "n + 2") == "42"


def test_a_type_of_its_own_display_or_none_is_shown_as_evcxr_shows_it(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "struct Opaque;\nOpaque")
    assert reply["status"] == "error"
    assert "Debug" in reply["evalue"], reply
    code = ("struct Badge;\nimpl Badge {\n    fn evcxr_display(&self) {\n"
            '        println!("EVCXR_BEGIN_CONTENT text/html\\n<b>badge</b>\\nEVCXR_END_CONTENT");\n'
            "    }\n}\nBadge")
    reply, outputs = run_cell(kc, code)
    assert reply["status"] == "ok", reply
    html = [c["data"].get("text/html") for kind, c in outputs if kind == "execute_result"]
    assert html == ["<b>badge</b>"], outputs


def test_cellar_commands_compile_nothing(kernel):
    _, kc = kernel
    run_cell(kc, "#[cellar::cache_data]\nfn twice(x: u64) -> u64 { x * 2 }")
    reply, outputs = run_cell(kc, "twice(21)")
    assert result_text(outputs) == "42"
    reply, outputs = run_cell(kc, ":cellar")
    assert reply["status"] == "ok", reply
    assert "cellar_phases" not in reply, "no build, no run through evcxr"
    tables = [c["data"]["text/plain"] for kind, c in outputs if kind == "display_data"]
    assert len(tables) == 1 and "twice" in tables[0], outputs
    reply, outputs = run_cell(kc, ":cellar clear")
    assert "cellar_phases" not in reply
    assert stream_text(outputs) == "Every cache is empty.\n"
    reply, outputs = run_cell(kc, ":cellar")
    tables = [c["data"]["text/plain"] for kind, c in outputs if kind == "display_data"]
    row = next(line.split() for line in tables[0].splitlines() if line.startswith("twice"))
    assert row[3] == "0", f"no entries left: {tables[0]}"


def _complete(kc, code):
    msg_id = kc.complete(code, len(code))
    reply = kc.get_shell_msg(timeout=CELL_TIMEOUT)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=CELL_TIMEOUT)
    return reply["content"]["matches"]


def test_an_idle_kernels_rust_analyzer_warm_up_sends_nothing_and_changes_nothing(kernel):
    _, kc = kernel
    reply, _ = run_cell(kc, "let idle_count: u8 = 41;")
    count = reply["execution_count"]
    # Idle: the engine asks rust-analyzer for a completion of its own, which no client asked for.
    time.sleep(4)
    with contextlib.suppress(queue.Empty):
        stray = kc.get_iopub_msg(timeout=1)
        raise AssertionError(f"an idle kernel sent {stray['msg_type']}: {stray['content']}")
    assert any(match.startswith("checked_add") for match in _complete(kc, "idle_count.")), "u8's methods"
    reply, outputs = run_cell(kc, "idle_count + 1")
    assert reply["execution_count"] == count + 1
    assert result_text(outputs) == "42"


def _dep_libraries():
    """The counter crate's libraries in the build folders kept beside the kernel's seed."""
    seed = KernelSpecManager().get_kernel_spec(KERNEL_NAME).env["CELLAR_SEED_DIR"]
    pattern = os.path.join(seed, "kernels", "*", "build", "target", "**", "libcounter-*.so")
    return {path: os.stat(path).st_mtime_ns for path in glob.glob(pattern, recursive=True)}


def test_a_dep_crate_one_kernel_built_is_not_built_again_by_the_next(tmp_path):
    cell = f':dep counter = {{ path = "{COUNTER}" }}\ncounter::bump()'
    with _new_kernel(tmp_path) as kc:
        reply, outputs = run_cell(kc, cell)
        assert result_text(outputs) == "1", reply
    built = _dep_libraries()
    assert built, "the first kernel built the crate in a kept folder"
    with _new_kernel(tmp_path) as kc:
        reply, outputs = run_cell(kc, cell)
        assert result_text(outputs) == "1", "a new process: the crate's static starts again"
    after = _dep_libraries()
    assert {path: after.get(path) for path in built} == built, "reused as built, not rebuilt"


def _remove_free_build_folders(seed):
    """Removes the kept build folders no running kernel holds (the module's kernel may hold one)."""
    for slot in (seed / "kernels").glob("*"):
        with contextlib.suppress(FileNotFoundError), open(slot / "lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(slot)


def test_a_new_build_folder_links_the_seeds_libraries_and_copies_what_cargo_rewrites(tmp_path):
    seed = pathlib.Path(KernelSpecManager().get_kernel_spec(KERNEL_NAME).env["CELLAR_SEED_DIR"])
    # No free kept folder, so the kernel makes its own from the seed's build.
    _remove_free_build_folders(seed)
    with _new_kernel(tmp_path) as kc:
        reply, outputs = run_cell(kc, 'use cellar::cache_data;\nenv!("CARGO_MANIFEST_DIR")')
        assert reply["status"] == "ok", outputs
        # Adding the runtime compiled no crate: the seed's build, linked, is up to date.
        assert "Compiling" not in stream_text(outputs, "stderr"), stream_text(outputs, "stderr")
        build = pathlib.Path(result_text(outputs).strip('"'))
        assert build.parent.parent == seed / "kernels", build
        # The runtime's libraries, not the placeholders cargo's build of its stand-ins leaves.
        libraries = [p for p in build.glob("target/*/debug/deps/libcellar-*") if p.suffix in (".so", ".rlib")
                     and not p.read_bytes().startswith(b"cellar stand-in")]
        fingerprints = [p for p in build.glob("target/*/debug/.fingerprint/cellar-*/*")
                        if p.is_file() and "stand-in" not in p.parent.name]
        assert libraries and fingerprints, sorted(build.glob("target/*/debug/*"))
        for library in libraries:
            in_seed = seed / "build" / library.relative_to(build)
            assert library.stat().st_ino == in_seed.stat().st_ino, f"{library} is a link to the seed's"
        for fingerprint in fingerprints:
            in_seed = seed / "build" / fingerprint.relative_to(build)
            assert fingerprint.stat().st_ino != in_seed.stat().st_ino, f"{fingerprint} is a copy"
            assert fingerprint.read_bytes() == in_seed.read_bytes()
            assert fingerprint.stat().st_mtime_ns == in_seed.stat().st_mtime_ns, "cargo sees it fresh"
        reply, outputs = run_cell(kc, "#[cache_data]\nfn twice(n: u32) -> u32 { n * 2 }\ntwice(21)")
        assert result_text(outputs) == "42", outputs


def test_the_first_cell_that_names_the_runtime_shows_its_outputs(tmp_path):
    # The runtime joins the cells just before this cell: its outputs still reach the notebook.
    with _new_kernel(tmp_path) as kc:
        # Before any cached call, `:cellar` reports from the kernel itself.
        reply, outputs = run_cell(kc, ":cellar")
        assert reply["status"] == "ok" and "cellar_phases" not in reply, reply
        tables = [c["data"]["text/plain"] for kind, c in outputs if kind == "display_data"]
        assert tables and tables[0].startswith("no caches yet"), outputs
        reply, outputs = run_cell(kc, 'cellar::display::html("<i>first</i>");\nprintln!("printed");')
        assert reply["status"] == "ok", reply
        assert [c["data"]["text/html"] for kind, c in outputs if kind == "display_data"] == ["<i>first</i>"]
        assert stream_text(outputs) == "printed\n"
        # Adding the runtime is this cell's own phase, and only this cell's.
        assert "Adding the runtime" in reply["cellar_phases"], reply
        reply, _ = run_cell(kc, 'cellar::display::html("<i>second</i>");')
        assert "Adding the runtime" not in reply["cellar_phases"], reply


def test_a_cells_compile_time_is_split_where_the_rustc_wrapper_saw_cargo_and_rustc(tmp_path):
    with _new_kernel(tmp_path) as kc:
        for code in ["let first = 5;\nfirst", "let second = first * 2;\nsecond"]:
            began = time.perf_counter()
            reply, outputs = run_cell(kc, code)
            waited = time.perf_counter() - began
            assert reply["status"] == "ok", reply
            phases = reply["cellar_phases"]
            assert "Final compile" not in phases, f"split into its parts: {phases}"
            parts = [phases[part] for part in BUILD_PARTS]
            assert all(part >= 0 for part in parts), phases
            # The parts come from clocks of three processes: together they are still a part of
            # what the client waited for.
            assert 0 < sum(parts) <= waited, (phases, waited)
        assert result_text(outputs) == "10"


def test_a_dep_build_names_each_crate_it_compiles(kernel, tmp_path):
    # A crate no build folder has seen: its compile is shown under the cell.
    name = f"probe_{uuid.uuid4().hex[:8]}"
    crate = tmp_path / name
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n')
    (crate / "src" / "lib.rs").write_text("pub fn answer() -> u32 { 42 }\n")
    _, kc = kernel
    reply, outputs = run_cell(kc, f':dep {name} = {{ path = "{crate}" }}\n{name}::answer()')
    assert result_text(outputs) == "42", reply
    progress = stream_text(outputs, "stderr")
    assert re.search(rf"^Compiling {name} \(\d+ of \d+\)$", progress, re.M), progress


def _compiled_cells_folder():
    """Where the cell builds are kept, beside the kernel's seed."""
    seed = KernelSpecManager().get_kernel_spec(KERNEL_NAME).env["CELLAR_SEED_DIR"]
    return pathlib.Path(seed) / "compiled-cells"


def _compiled_cells():
    """The cell builds kept beside the kernel's seed: key → when last used."""
    folder = _compiled_cells_folder()
    return {e.name: e.stat().st_mtime for e in folder.iterdir() if not e.name.startswith("writing-")}


@contextlib.contextmanager
def _new_kernel(tmp_path, env=None, unset=()):
    """A new kernel working in `tmp_path` (with `env` added to this process's environment and
    the variables in `unset` taken out): its blocking client, until it is shut down."""
    kernel_env = {key: value for key, value in {**os.environ, **(env or {})}.items() if key not in unset}
    km, kc = start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=STARTUP_TIMEOUT, cwd=str(tmp_path),
                              env=kernel_env)
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def _run_in_new_kernel(tmp_path, cells):
    """Runs the cells in a new kernel; each cell's reply status and text outputs."""
    with _new_kernel(tmp_path) as kc:
        ran = []
        for cell in cells:
            reply, outputs = run_cell(kc, cell)
            ran.append((reply["status"], stream_text(outputs), result_text(outputs)))
        return ran


def test_a_new_kernel_takes_the_cells_an_earlier_one_compiled(tmp_path):
    # Names of this run's own, so no earlier run of the suite compiled these cells.
    tag = uuid.uuid4().hex[:8]
    cells = [
        f"use std::collections::HashMap;\nstruct Point{tag} {{ x: i64, y: i64 }}",
        f"fn norm{tag}(p: &Point{tag}) -> i64 {{ p.x.abs() + p.y.abs() }}",
        f"let mut seen: HashMap<&str, i64> = HashMap::new();\nlet p = Point{tag} {{ x: 3, y: -4 }};",
        f'seen.insert("p", norm{tag}(&p));\nprintln!("{{:?}}", seen);',
        f"#[cellar::cache_data]\nfn squares{tag}(n: u64) -> Vec<u64> {{ (0..n).map(|i| i * i).collect() }}",
        f"let s = squares{tag}(5);\nprintln!(\"{{:?}}\", *s);\nseen.len() + s.len()",
    ]
    before = set(_compiled_cells())
    first = _run_in_new_kernel(tmp_path, cells)
    assert all(status == "ok" for status, _, _ in first), first
    assert first[3][1] == '{"p": 7}\n' and first[5][1:] == ("[0, 1, 4, 9, 16]\n", "6"), first
    kept = set(_compiled_cells()) - before
    assert len(kept) >= len(cells), "every cell's build was kept"

    # A new kernel (evcxr orders the items and variables of its crate differently in every
    # process): the same cells, the same results, every build taken from the kept ones.
    second_began = time.time()
    second = _run_in_new_kernel(tmp_path, cells)
    assert second == first
    after = _compiled_cells()
    assert set(after) - before == kept, "nothing new was compiled"
    assert all(after[key] >= second_began - 1 for key in kept), "each kept build was used"

    # An edited cell is compiled anew, and what it prints is the edit's.
    edited = cells[:5] + [cells[5].replace(f"squares{tag}(5)", f"squares{tag}(3)")]
    third = _run_in_new_kernel(tmp_path, edited)
    assert third[5][1:] == ("[0, 1, 4]\n", "4"), third
    assert len(set(_compiled_cells()) - before - kept) >= 1, "the edited cell was compiled"


def _cargo_offline_after(tmp_path, cells):
    """Runs the cells in a new kernel, then says whether cargo's next build ran offline (the
    `[net]` setting evcxr writes into the cell crate's build folder)."""
    ran = _run_in_new_kernel(tmp_path, cells + ['env!("CARGO_MANIFEST_DIR")'])
    assert all(status == "ok" for status, _, _ in ran), ran
    build_folder = pathlib.Path(ran[-1][2].strip('"'))
    config = (build_folder / ".cargo" / "config.toml").read_text()
    return re.search(r"offline\s*=\s*(\w+)", config)[1] == "true"


def test_the_runtime_is_added_offline_and_the_users_cargo_setting_is_kept(tmp_path):
    # The kernel adds the runtime with cargo offline (its crates are cached since the seed was
    # built), then hands cargo back as the user left it.
    assert not _cargo_offline_after(tmp_path, ["use cellar::cache_data;"])
    assert _cargo_offline_after(tmp_path, [":offline 1", "use cellar::cache_data;"])


# cargo with no way to the registry: every request it makes goes to a closed local port, once.
NO_REGISTRY = {"CARGO_HTTP_PROXY": "http://127.0.0.1:9", "CARGO_NET_RETRY": "0"}


def test_a_dep_cargo_already_has_is_added_without_the_registry(tmp_path):
    # `itoa` is in cargo's cache since the seed was built (the runtime's JSON writer uses it).
    # evcxr alone asks the registry for the newest index first, and fails without it.
    with _new_kernel(tmp_path, NO_REGISTRY) as kc:
        reply, outputs = run_cell(kc, ':dep itoa = "1"\nitoa::Buffer::new().format(42).len()')
        assert reply["status"] == "ok", (reply, outputs)
        assert result_text(outputs) == "2"
        # A crate cargo lacks is asked for online, as evcxr does: here that fails, clearly, and
        # the kernel goes on with what it had.
        reply, _ = run_cell(kc, ':dep cellar_test_no_such_crate = "1"')
        assert reply["status"] == "error", reply
        assert "cellar_test_no_such_crate" in reply["evalue"], reply
        reply, outputs = run_cell(kc, "itoa::Buffer::new().format(7).to_string()")
        assert result_text(outputs) == '"7"', (reply, outputs)
        # `:offline 0` is the user's word: every `:dep` then asks the registry first.
        reply, _ = run_cell(kc, ':offline 0\n:dep base64 = "0.22"')
        assert reply["status"] == "error" and "base64" in reply["evalue"], reply


def _arguments_of_new_builds(tmp_path, cells):
    """Runs the cells in a new kernel; for each, the rustc arguments of the cell builds it added
    to the kept ones (their records say how rustc was called)."""
    with _new_kernel(tmp_path) as kc:
        arguments = []
        for cell in cells:
            before = set(_compiled_cells())
            reply, outputs = run_cell(kc, cell)
            assert reply["status"] == "ok", outputs
            records = [_compiled_cells_folder() / key / "entry.json" for key in set(_compiled_cells()) - before]
            arguments.append([a for record in records for a in json.loads(record.read_text())["arguments"]])
        return arguments


def test_cells_of_items_are_checked_and_cells_that_run_built_at_1_until_the_user_sets_opt(tmp_path):
    tag = uuid.uuid4().hex[:8]
    arguments = _arguments_of_new_builds(tmp_path, [
        f"#[derive(Debug)]\nstruct Grid{tag} {{ cells: Vec<u8> }}\nimpl Grid{tag} {{ fn sum(&self) -> u64 {{ self.cells.iter().map(|&c| c as u64).sum() }} }}",
        f"let g{tag} = Grid{tag} {{ cells: vec![1, 2, 3] }};\nprintln!(\"{{}}\", g{tag}.sum());",
        f"fn twice{tag}(x: u64) -> u64 {{ x * 2 }}",
        f":opt 2\nfn thrice{tag}(x: u64) -> u64 {{ x * 3 }}",
        f"println!(\"{{}}\", thrice{tag}(twice{tag}(1)));",
    ])
    levels = [sorted({a.removeprefix("opt-level=") for a in args if a.startswith("opt-level=")}) for args in arguments]
    emits = [sorted({a for a in args if a.startswith("--emit=")}) for args in arguments]
    # Items only: nothing of them runs, so rustc only checks them (at level 0, for what it is
    # worth) and the cell loads the library made for such cells. Statements: built at level 1.
    # Once the user chose a level with `:opt`, evcxr builds every cell, at its level.
    assert levels == [["0"], ["1"], ["0"], ["2"], ["2"]], levels
    check, build = "--emit=dep-info,metadata", "--emit=dep-info,link"
    assert emits == [[check], [build], [check], [build], [build]], emits


def test_a_cell_of_items_reports_its_errors_and_the_next_cell_uses_its_items(kernel):
    _, kc = kernel
    tag = uuid.uuid4().hex[:8]
    reply, _ = run_cell(kc, f'fn wrong{tag}() -> i32 {{ "text" }}')
    assert reply["status"] == "error" and "mismatched types" in reply["evalue"], reply
    run_cell(kc, f"struct Point{tag} {{ x: i32 }}")
    reply, _ = run_cell(kc, f"impl Point{tag} {{ fn next(&self) -> i32 {{ self.x + 1 }} }}")
    assert reply["status"] == "ok", reply
    _, outputs = run_cell(kc, f"Point{tag} {{ x: 41 }}.next()")
    assert result_text(outputs) == "42"


def _run_all_ok(kc, cells):
    for cell in cells:
        reply, _ = run_cell(kc, cell)
        assert reply["status"] == "ok", reply


def _result_of(kc, code):
    """The result a cell that must pass shows."""
    reply, outputs = run_cell(kc, code)
    assert reply["status"] == "ok", outputs
    return result_text(outputs)


def _last_build_folder(kc):
    """The folder evcxr built the last cell crate in (`:last_compile_dir`)."""
    _, outputs = run_cell(kc, ":last_compile_dir")
    return pathlib.Path(result_text(outputs).strip())


def test_the_check_of_a_cell_of_items_leaves_out_only_bodies_the_cell_cannot_break(kernel):
    _, kc = kernel
    tag = uuid.uuid4().hex[:8]
    _run_all_ok(kc, [
        f"#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]\nstruct Rec{tag} {{ n: u32 }}",
        f"fn read{tag}(r: &Rec{tag}) -> u32 {{\n    r.n + 1\n}}",
        f"fn other{tag}() -> u32 {{\n    7\n}}",
    ])
    # A new item: the earlier bodies and serde impls are left out of its check, on their lines.
    reply, _ = run_cell(kc, f"fn third{tag}() -> u32 {{ other{tag}() + 1 }}")
    assert reply["status"] == "ok", reply
    source = (_last_build_folder(kc) / "src" / "lib.rs").read_text()
    assert f"fn read{tag}(r: &Rec{tag}) -> u32 {{ loop {{}}\n\n}}" in source, source
    assert f"fn third{tag}() -> u32 {{ other{tag}() + 1 }}" in source, source
    assert f"impl serde :: Serialize for Rec{tag} {{" in source, source
    # A cell that redefines the struct breaks the body reading its old field: checked in full,
    # the error is the cell's.
    reply, _ = run_cell(kc, f"struct Rec{tag} {{ m: u32 }}")
    assert reply["status"] == "error" and "no field `n`" in reply["evalue"], reply
    # Every cell that runs compiles all of them in full.
    _, outputs = run_cell(kc, f"read{tag}(&Rec{tag} {{ n: 1 }}) + third{tag}()")
    assert result_text(outputs) == "10"


def test_a_cell_that_runs_leaves_out_the_variables_and_serde_impls_its_code_cannot_reach(kernel):
    _, kc = kernel
    tag = uuid.uuid4().hex[:8]
    derive = "#[derive(Clone, Debug, cellar::CacheHash, serde::Serialize, serde::Deserialize)]"
    _run_all_ok(kc, [
        f"{derive}\nstruct Far{tag} {{ x: u32 }}\n{derive}\nstruct Near{tag} {{ y: u32 }}",
        f"let far{tag} = Far{tag} {{ x: 1 }};\nlet near{tag} = Near{tag} {{ y: 2 }};",
        f"#[cellar::cache_data]\nfn twice{tag}(n: u32) -> Near{tag} {{ Near{tag} {{ y: n * 2 }} }}",
    ])
    _, outputs = run_cell(kc, f"near{tag}.y + twice{tag}(3).y")
    assert result_text(outputs) == "8"
    source = (_last_build_folder(kc) / "src" / "lib.rs").read_text()
    # The cell names `near` and calls `twice`, which returns a `Near`: `far` stays in the store
    # (only its type is checked), and `Far`'s serde impls are left out of the build.
    assert f"take_variable::<Near{tag}>(stringify!(near{tag}))" in source, source
    assert f"take_variable::<Far{tag}>" not in source, source
    assert f"check_variable::<Far{tag}>(stringify!(far{tag}))" in source, source
    assert f"cellar left the `Serialize` impl of `Far{tag}` out of this cell's build" in source
    assert f"impl of `Near{tag}`" not in source, source
    # The variable left in the store is whole; a cell that names it serializes it into a cache.
    reply, _ = run_cell(kc, f"#[cellar::cache_data]\nfn echo{tag}(f: Far{tag}) -> Far{tag} {{ f }}")
    assert reply["status"] == "ok", reply
    for _ in range(2):
        reply, outputs = run_cell(kc, f"echo{tag}(far{tag}.clone()).x + twice{tag}(3).y")
        assert reply["status"] == "ok", reply
        assert result_text(outputs) == "7"


def test_cells_keep_their_variables_in_the_kernels_compact_store(kernel):
    _, kc = kernel
    tag = uuid.uuid4().hex[:8]
    run_cell(kc, f"let a{tag} = 1;")
    run_cell(kc, f"let mut v{tag} = vec![1, 2];")
    _, outputs = run_cell(kc, f"v{tag}.push(a{tag});\nv{tag}.len()")
    assert result_text(outputs) == "3"
    # A variable given another type replaces the old one in the store.
    run_cell(kc, f'let a{tag} = "x";')
    _, outputs = run_cell(kc, f"(a{tag}, v{tag}.len())")
    assert result_text(outputs) == '("x", 3)'
    # The cell crate evcxr built last holds the kernel's store in place of evcxr's hash map.
    folder = _last_build_folder(kc)
    source = (folder / "src" / "lib.rs").read_text()
    module = source.split("mod evcxr_internal_runtime {\n", 1)[1].split("\n#[unsafe(no_mangle)]", 1)[0]
    assert "variables: Vec<(String, Value)>," in module, module
    assert "HashMap" not in module, module
    # Its work is in the store library built with the seed, which the cell's library links.
    library = next(folder.glob("target/*/debug/libctx.so"))
    needed = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True, check=True).stdout
    seed = KernelSpecManager().get_kernel_spec(KERNEL_NAME).env["CELLAR_SEED_DIR"]
    assert re.search(rf"NEEDED.*\[{re.escape(seed)}/variable-store-[0-9a-f]{{16}}\.so\]", needed), needed


def test_rust_analyzer_reads_the_seeds_copy_of_the_standard_library_and_finds_its_types(tmp_path):
    seed = pathlib.Path(KernelSpecManager().get_kernel_spec(KERNEL_NAME).env["CELLAR_SEED_DIR"])
    with _new_kernel(tmp_path) as kc:
        _, outputs = run_cell(kc, 'std::env::var("RUST_SRC_PATH").unwrap()')
        copy = pathlib.Path(json.loads(result_text(outputs)))
        # The standard crates one by one, without the workspace std is built from; core::arch's
        # intrinsics left out.
        assert copy.parent == seed and copy.name.startswith("std-source-"), copy
        assert (copy / "core/src/lib.rs").is_file() and (copy / "std/src/lib.rs").is_file()
        assert not (copy / "Cargo.toml").exists()
        assert "_mm_" not in (copy / "stdarch/crates/core_arch/src/mod.rs").read_text()
        # core, alloc and std are rustc's expansion of them, one file each.
        for crate in ("core", "alloc", "std"):
            assert [p.name for p in (copy / crate / "src").iterdir()] == ["lib.rs"], crate
        # Without their functions' bodies, but for those rust-analyzer may evaluate (const fns).
        core = (copy / "core/src/lib.rs").read_text()
        assert core.count("{ loop {} }") > 1000
        assert re.search(r"\bconst fn \w+[^;{]*\{ (?!loop \{\} \})", core)
        assert not re.search(r"\bconst fn \w+[^;{]*\{ loop \{\} \}", core)
        # Variables whose types rust-analyzer finds there: from core, alloc, std and std_detect,
        # among them methods and types std writes with macros (integers', atomics').
        reply, outputs = run_cell(kc, "\n".join([
            "let det = is_x86_feature_detected!(\"sse2\");",
            "let doubled: Vec<_> = (0..3).map(|x: i32| x * 2).collect();",
            "let names = std::collections::HashMap::<u8, String>::new();",
            "let began = std::time::Instant::now();",
            "let text = std::fs::read_to_string(\"/nonexistent\");",
            "let squared = 5u32.pow(2);",
            "let sum = 7i64.checked_add(1);",
            "let parsed = \"12\".parse::<i32>();",
            "let count = std::sync::atomic::AtomicUsize::new(0);",
            "let shared = std::sync::Arc::new(std::sync::Mutex::new(0u8));",
            "let worker = std::thread::spawn(|| 1u16);",
            "let sized = [0u8; std::mem::size_of::<u64>()];",
        ]))
        assert reply["status"] == "ok", outputs
        _, outputs = run_cell(kc, ":vars")
        listed = set(result_text(outputs).splitlines())
        assert {
            "det: bool",
            "doubled: Vec<i32>",
            "names: std::collections::HashMap<u8, String>",
            "began: std::time::Instant",
            "text: Result<String, std::io::Error>",
            "squared: u32",
            "sum: Option<i64>",
            "parsed: Result<i32, std::num::ParseIntError>",
            "count: std::sync::atomic::AtomicUsize",
            "shared: std::sync::Arc<std::sync::Mutex<u8>>",
            "worker: std::thread::JoinHandle<u16>",
            "sized: [u8; 8]",
        } <= listed, listed


def test_a_copy_of_the_standard_library_no_kernel_started_with_for_two_weeks_leaves_the_seed(tmp_path):
    seed = pathlib.Path(KernelSpecManager().get_kernel_spec(KERNEL_NAME).env["CELLAR_SEED_DIR"])
    unused = seed / "std-source-0000000000000000"
    (unused / "core" / "src").mkdir(parents=True, exist_ok=True)
    weeks_ago = time.time() - 15 * 24 * 60 * 60
    os.utime(unused, (weeks_ago, weeks_ago))
    with _new_kernel(tmp_path) as kc:
        _, outputs = run_cell(kc, 'std::env::var("RUST_SRC_PATH").unwrap()')
        in_use = pathlib.Path(json.loads(result_text(outputs)))
    assert not unused.exists()
    # The copy the kernel read is marked as used at its start.
    assert in_use.is_dir() and time.time() - in_use.stat().st_mtime < 600


def test_a_rust_src_path_the_user_set_is_what_rust_analyzer_reads(tmp_path):
    library = tmp_path / "library"
    (library / "core").mkdir(parents=True)
    with _new_kernel(tmp_path, env={"RUST_SRC_PATH": str(library)}) as kc:
        _, outputs = run_cell(kc, 'std::env::var("RUST_SRC_PATH").unwrap()')
        assert json.loads(result_text(outputs)) == str(library)


def test_cargo_and_rust_analyzer_run_the_toolchains_own_rustc_unless_the_user_named_one(tmp_path):
    # rustup's proxy on PATH would choose the toolchain again before every one of the rustc
    # commands a workspace load runs; the kernel names the toolchain's rustc, beside its sysroot.
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], cwd=tmp_path, capture_output=True, text=True,
                             check=True).stdout.strip()
    with _new_kernel(tmp_path) as kc:
        _, outputs = run_cell(kc, 'std::env::var("RUSTC").unwrap()')
        assert json.loads(result_text(outputs)) == str(pathlib.Path(sysroot) / "bin" / "rustc")
    user_rustc = shutil.which("rustc")
    with _new_kernel(tmp_path, env={"RUSTC": user_rustc}) as kc:
        reply, outputs = run_cell(kc, 'let named = std::env::var("RUSTC").unwrap();\nnamed')
        assert reply["status"] == "ok", outputs
        assert json.loads(result_text(outputs)) == user_rustc


def _host_target():
    version = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return next(line.split(": ", 1)[1] for line in version.splitlines() if line.startswith("host: "))


def _crates_reached(crate, rustflags):
    """The crates `crate` reaches on this machine's platform, as cargo lists them for
    rust-analyzer (`cargo metadata --filter-platform`) with `rustflags` in RUSTFLAGS."""
    env = {**os.environ, "RUSTFLAGS": rustflags}
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--filter-platform", _host_target()],
                         cwd=crate, env=env, capture_output=True, text=True, check=True).stdout
    metadata = json.loads(out)
    names = {package["id"]: package["name"] for package in metadata["packages"]}
    deps = {node["id"]: [dep["pkg"] for dep in node["deps"]] for node in metadata["resolve"]["nodes"]}
    reached, todo = set(), [metadata["resolve"]["root"]]
    while todo:
        package = todo.pop()
        if package not in reached:
            reached.add(package)
            todo.extend(deps[package])
    return {names[package] for package in reached}


def test_rust_analyzer_is_shown_the_runtime_without_the_crates_it_is_built_from(tmp_path):
    # The kernel sets `--cfg cellar_analysis` in the RUSTFLAGS its rust-analyzer's cargo sees;
    # the runtime's build dependencies are left out under it, the cells' build keeps them.
    runtime = pathlib.Path(__file__).resolve().parent.parent / "runtime"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("")
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "cell"\nversion = "0.1.0"\nedition = "2024"\n\n'
        f'[dependencies]\ncellar = {{ path = {json.dumps(str(runtime))} }}\n'
        f'serde = {{ package = "cellar-serde", path = {json.dumps(str(runtime / "serde"))} }}\n')
    built = _crates_reached(tmp_path, "")
    seen = _crates_reached(tmp_path, "--cfg cellar_analysis")
    only_built = {"blake3", "postcard", "serde_json", "lru", "cellar-macros", "serde", "serde_derive"}
    assert only_built <= built, built
    assert {"cell", "cellar", "cellar-serde"} <= seen and seen.isdisjoint(only_built), seen


def test_cells_build_against_stand_ins_of_the_runtime_until_they_add_crates_of_their_own(tmp_path):
    # cargo sees two packages without dependencies standing in for the runtime; rustc links the
    # seed's libraries. A notebook's first `:dep` brings the whole runtime back, so that cargo
    # builds one serde for it and the user's crates, and the cells keep one runtime.
    stamp = ("#[cellar::cache_data]\nfn stamp(x: u32) -> u128 {\n"
             "    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() + x as u128\n}")
    with _new_kernel(tmp_path) as kc:
        _run_all_ok(kc, [stamp, "let before = stamp(2);"])
        manifest = (_last_build_folder(kc) / "Cargo.toml").read_text()
        assert 'package = "cellar-stand-in"' in manifest and 'package = "cellar-serde-stand-in"' in manifest, manifest
        _run_all_ok(kc, [':dep serde_json = "1"'])
        manifest = (_last_build_folder(kc) / "Cargo.toml").read_text()
        assert "stand-in" not in manifest and 'package = "cellar-serde"' in manifest, manifest
        # The entry cached before is a hit: the cells before and after link one runtime.
        assert _result_of(kc, "stamp(2) == before") == "true"
        # The runtime keeps a value of the user's serde_json: one serde for both.
        parsed = _result_of(kc, '#[cellar::cache_data(persist = "disk")]\n'
                                "fn parsed(text: String) -> serde_json::Value { serde_json::from_str(&text).unwrap() }\n"
                                'parsed(r#"{"a": [1, 2]}"#.to_string())["a"][1].as_u64()')
        assert parsed == "Some(2)"
    # A `:dep` before the runtime: it is added whole when a cell first names it.
    with _new_kernel(tmp_path) as kc:
        _run_all_ok(kc, [':dep serde_json = "1"', stamp, "let first = stamp(3);"])
        manifest = (_last_build_folder(kc) / "Cargo.toml").read_text()
        assert "stand-in" not in manifest and "serde_json" in manifest, manifest
        assert _result_of(kc, "stamp(3) == first") == "true"


def test_cells_name_serde_through_the_runtimes_re_export_and_may_add_serde_themselves(tmp_path):
    # `serde` in a cell is the runtime's cellar-serde, a re-export of serde: derives, their
    # attributes, traits as bounds, and the runtime keeping what they derive for all work.
    with _new_kernel(tmp_path) as kc:
        _run_all_ok(kc, ["use serde::{Deserialize, Serialize};\n"
                         "#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]\n"
                         "struct Point { #[serde(rename = \"east\")] x: i32, y: i32 }"])
        moved = _result_of(kc, "#[cellar::cache_data]\nfn shifted(x: i32, y: i32) -> Point { Point { x: x + 1, y } }\n"
                                "let moved = shifted(1, 2);\n"
                                "let again = shifted(1, 2);\n"
                                "format!(\"{:?} {}\", *moved, *moved == *again)")
        assert json.loads(moved) == "Point { x: 2, y: 2 } true"
        # A bound on serde's traits, and serde's own deserializer for a borrowed string.
        named = _result_of(kc, "fn named<T: serde::Serialize>(_: &T) -> &'static str { std::any::type_name::<T>() }\n"
                               "let word: String = serde::Deserialize::deserialize(\n"
                               "    serde::de::value::StrDeserializer::<serde::de::value::Error>::new(\"hi\")).unwrap();\n"
                               "format!(\"{} {}\", named(&*moved).rsplit(\"::\").next().unwrap(), word)")
        assert json.loads(named) == "Point hi"
        # What is lost: rust-analyzer does not see serde, so a variable of one of serde's own
        # types needs its type written out, as evcxr says.
        reply, outputs = run_cell(kc, "let ignored = serde::de::IgnoredAny;")
        assert reply["status"] == "error" and "give it an explicit type" in reply["evalue"], outputs
        written = _result_of(kc, "let ignored: serde::de::IgnoredAny = serde::de::IgnoredAny;\nformat!(\"{ignored:?}\")")
        assert json.loads(written) == "IgnoredAny"
        # A cell that adds serde itself gets the real crate, and the cells after it still build.
        _run_all_ok(kc, [':dep serde = { version = "1", features = ["derive"] }'])
        assert _result_of(kc, "#[derive(serde::Serialize)]\nstruct Later(u8);\nshifted(5, 0).x") == "6"


def test_cells_see_the_users_rustflags_not_the_cfg_the_kernel_adds(tmp_path):
    with _new_kernel(tmp_path, env={"RUSTFLAGS": "--cfg from_the_user"}) as kc:
        _, outputs = run_cell(kc, 'std::env::var("RUSTFLAGS").unwrap()')
        assert json.loads(result_text(outputs)) == "--cfg from_the_user"
        reply, _ = run_cell(kc, "#[cellar::cache_data]\nfn evens(n: u32) -> Vec<u32> { (0..n).filter(|x| x % 2 == 0).collect() }")
        assert reply["status"] == "ok", reply
        # rust-analyzer types the variable through the runtime as it was shown it.
        assert _result_of(kc, "let some = evens(7);\nsome.len()") == "4"
    with _new_kernel(tmp_path, unset={"RUSTFLAGS"}) as kc:
        _, outputs = run_cell(kc, 'std::env::var("RUSTFLAGS").is_err()')
        assert result_text(outputs) == "true"
