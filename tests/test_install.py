"""Installing without a checkout, as a user would: `cargo install --path kernel` from a clone,
delete the clone, install the kernelspec, run a notebook with a cached function through it.
And two clones side by side: each one's kernelspec names its own runtime.

Everything runs as real processes, with HOME and XDG_DATA_HOME in scratch folders (the user's
own are never touched) and the shared CARGO_TARGET_DIR, so cargo reuses the kernel's build.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
JUPYTER = pathlib.Path(sys.executable).parent / "jupyter"
HOME = pathlib.Path.home()
TARGET = os.environ.get("CARGO_TARGET_DIR", str(HOME / ".cache" / "cellar" / "target"))

CACHED = r'''
#[cellar::cache_data]
fn square(n: u64) -> u64 {
    use std::io::Write;
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open("runs.log").unwrap();
    writeln!(log, "ran").unwrap();
    n * n
}
'''
CELLS = [
    CACHED,
    'println!("first {}", *square(12));',
    'println!("again {}", *square(12));',
    'println!("runs {}", std::fs::read_to_string("runs.log").unwrap().lines().count());',
    'println!("{}", std::env::current_exe().unwrap().display());',
]


def scratch_env(tmp):
    """The environment of a user whose home is `tmp/home`, with the toolchain and target dir
    of this machine (cargo and rustup keep their own folders, not the scratch home's)."""
    env = {
        **os.environ,
        "CARGO_HOME": os.environ.get("CARGO_HOME", str(HOME / ".cargo")),
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(HOME / ".rustup")),
        "CARGO_TARGET_DIR": TARGET,
        "HOME": str(tmp / "home"),
        "XDG_DATA_HOME": str(tmp / "data"),
    }
    for name in ("JUPYTER_PATH", "VIRTUAL_ENV", "CELLAR_RUNTIME_DIR", "CELLAR_SEED_DIR"):
        env.pop(name, None)
    return env


def run(args, env, **kwargs):
    """Runs a command, failing with its output; returns its stdout."""
    done = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clone(dest):
    """A fresh clone of this repository's current commit."""
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest)], check=True)
    return dest


def kernel_json(prefix):
    return json.loads((prefix / "share" / "jupyter" / "kernels" / "cellar" / "kernel.json").read_text())


def execute_notebook(work, env):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nbformat.write(nb, work / "cached.ipynb")
    run([JUPYTER, "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=cellar",
         "--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.startup_timeout=300",
         "--output", "executed.ipynb", work / "cached.ipynb"], env, cwd=work)
    executed = nbformat.read(work / "executed.ipynb", as_version=4)
    return ["".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            for cell in executed.cells]


def test_installed_kernel_runs_a_cached_notebook_with_the_clone_deleted(tmp_path):
    env = scratch_env(tmp_path)
    source = clone(tmp_path / "clone")
    started = time.monotonic()
    run(["cargo", "install", "--quiet", "--locked", "--path", source / "kernel", "--root", tmp_path / "root"], env)
    print(f"cargo install took {time.monotonic() - started:.0f} s")
    shutil.rmtree(source)
    kernel = tmp_path / "root" / "bin" / "cellar-kernel"
    prefix = tmp_path / "prefix"
    data = tmp_path / "data" / "cellar"
    # What an older version left behind goes when this one installs.
    stale = data / "runtime-0.0.1-000000000000"
    stale.mkdir(parents=True)

    out = run([kernel, "install", "--prefix", prefix], env)
    print(out)
    assert "Installed the kernelspec `cellar`" in out
    seed = re.search(r"Built the seed (\S+) in (\d+) s", out)
    assert seed, out
    assert pathlib.Path(seed.group(1)).parent == data
    assert re.fullmatch(r"seed-\d+\.\d+\.\d+-[0-9a-f]{12}", pathlib.Path(seed.group(1)).name)
    assert f"Removed the runtime folder of another version: {stale}" in out
    assert not stale.exists()
    runtimes = sorted(p.name for p in data.glob("runtime-*"))
    assert len(runtimes) == 1 and runtimes[0][len("runtime-"):] == pathlib.Path(seed.group(1)).name[len("seed-"):]
    assert (data / runtimes[0] / "cellar" / "Cargo.toml").is_file()
    spec = kernel_json(prefix)
    assert spec["argv"][0] == str(kernel)
    assert spec["env"] == {}, "the carried runtime needs no paths in the kernelspec"

    env["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    doctor = run([kernel, "doctor"], env)
    assert "BROKEN" not in doctor and "OK      seed" in doctor, doctor

    work = tmp_path / "work"
    work.mkdir()
    outputs = execute_notebook(work, env)
    assert outputs[1:4] == ["first 144\n", "again 144\n", "runs 1\n"], outputs
    assert outputs[4] == f"{kernel}\n", "cells ran in the installed kernel"

    out = run([kernel, "uninstall", "--prefix", prefix], env)
    assert not (prefix / "share" / "jupyter" / "kernels" / "cellar").exists(), out
    assert not list(data.glob("runtime-*")) and not list(data.glob("seed-*")), out
    broken = subprocess.run([kernel, "doctor"], env=env, capture_output=True, text=True)
    assert broken.returncode == 1, broken.stdout
    assert "BROKEN  kernelspec" in broken.stdout and "fix: cellar-kernel install" in broken.stdout


def test_two_clones_side_by_side_each_name_their_own_runtime(tmp_path):
    env = scratch_env(tmp_path)
    clones = [clone(tmp_path / name) for name in ("first", "second")]
    specs = []
    for source in clones:
        prefix = tmp_path / f"{source.name}-prefix"
        run(["bash", source / "install" / "kernelspec.sh", "--prefix", prefix, "--no-build"], env)
        specs.append(kernel_json(prefix))
    for source, spec in zip(clones, specs):
        # Its own copy of the binary: a later build from another clone into the shared target
        # dir does not change which kernel this kernelspec starts.
        assert spec["argv"][0] == str((source / ".venv" / "bin" / "cellar-kernel").resolve()), spec
        assert spec["env"]["CELLAR_RUNTIME_DIR"] == str((source / "runtime").resolve()), spec
    specs = [spec["env"] for spec in specs]
    assert specs[0]["CELLAR_SEED_DIR"] != specs[1]["CELLAR_SEED_DIR"], specs
    # The doctor reads the kernelspec as the kernel would, and names that clone's runtime.
    for source in clones:
        doctor_env = {**env, "JUPYTER_PATH": str(tmp_path / f"{source.name}-prefix" / "share" / "jupyter")}
        report = subprocess.run([pathlib.Path(TARGET) / "release" / "cellar-kernel", "doctor"],
                                env=doctor_env, capture_output=True, text=True).stdout
        assert f"OK      runtime     cellar from the checkout {(source / 'runtime').resolve()}" in report, report
        assert "BROKEN  seed" in report, "no seed was built (--no-build)"
