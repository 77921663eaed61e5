"""Re-running and editing cells through the real kernel (SPEC: "Re-running and editing cells").

Every item kind is defined, run again, edited and run again, once as JupyterLab sends cells (with
`metadata.cellId`) and once as nbclient and the console do (no cell id). Then: an impl moved to
another cell with `deletedCells`, the error headline, and keys that follow the code a cached
function reaches, counted by a body-run counter that lives outside the cell process (a file).
"""
import json
import pathlib

import pytest

from conftest import result_text, run_cell, stream_text

# (name, setup cells, definition, check, value, edited definition, check after, value after)
CASES = [
    ("struct", [], "struct P{s} {{ a: i32 }}", "P{s} {{ a: 1 }}.a", "1",
     "struct P{s} {{ a: i32, b: i32 }}", "P{s} {{ a: 1, b: 2 }}.b", "2"),
    ("enum", [], "enum E{s} {{ A, B }}", "E{s}::B as i32", "1",
     "enum E{s} {{ A, B, C }}", "E{s}::C as i32", "2"),
    ("inherent impl alone", ["struct Q{s} {{ x: i32 }}"],
     "impl Q{s} {{\n    fn get(&self) -> i32 {{ self.x }}\n}}", "Q{s} {{ x: 5 }}.get()", "5",
     "impl Q{s} {{\n    fn get(&self) -> i32 {{ self.x * 2 }}\n    fn other(&self) -> i32 {{ 0 }}\n}}",
     "Q{s} {{ x: 5 }}.get()", "10"),
    ("two impl cells for one type", ["struct T{s};", "impl T{s} {{ fn one(&self) -> i32 {{ 1 }} }}"],
     "impl T{s} {{ fn two(&self) -> i32 {{ 2 }} }}", "T{s}.one() + T{s}.two()", "3",
     "impl T{s} {{ fn two(&self) -> i32 {{ 20 }} }}", "T{s}.one() + T{s}.two()", "21"),
    ("trait and impl", ["trait Area{s} {{ fn area(&self) -> f64; }}\nstruct Sq{s}(f64);"],
     "impl Area{s} for Sq{s} {{ fn area(&self) -> f64 {{ self.0 * self.0 }} }}",
     "Sq{s}(3.0).area()", "9.0",
     "impl Area{s} for Sq{s} {{ fn area(&self) -> f64 {{ 4.0 * self.0 }} }}", "Sq{s}(3.0).area()", "12.0"),
    ("impl Display", ["struct D{s};"],
     'impl std::fmt::Display for D{s} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {{ write!(f, "one") }}\n}}',
     "D{s}.to_string()", '"one"',
     'impl std::fmt::Display for D{s} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {{ write!(f, "two") }}\n}}',
     "D{s}.to_string()", '"two"'),
    ("generic impl", ["struct W{s}<T>(T);"],
     "impl<T: Clone> W{s}<T> {{ fn twice(&self) -> (T, T) {{ (self.0.clone(), self.0.clone()) }} }}",
     "W{s}(7).twice().1", "7",
     "impl<T: Clone> W{s}<T> {{ fn twice(&self) -> Vec<T> {{ vec![self.0.clone(); 3] }} }}",
     "W{s}(7).twice().len()", "3"),
    ("fn", [], "fn f{s}() -> i32 {{ 1 }}", "f{s}()", "1", "fn f{s}() -> i32 {{ 2 }}", "f{s}()", "2"),
    ("const and static", [], "const C{s}: i32 = 1;\nstatic ST{s}: i32 = 10;", "C{s} + ST{s}", "11",
     "const C{s}: i32 = 2;\nstatic ST{s}: i32 = 20;", "C{s} + ST{s}", "22"),
    ("use", [], "use std::collections::BTreeMap as M{s};",
     'std::any::type_name::<M{s}<u8, u8>>().contains("BTree")', "true",
     "use std::collections::HashMap as M{s};",
     'std::any::type_name::<M{s}<u8, u8>>().contains("BTree")', "false"),
    ("macro_rules", [], "macro_rules! sq{s} {{ ($x:expr) => {{ $x * $x }} }}", "sq{s}!(3)", "9",
     "macro_rules! sq{s} {{ ($x:expr) => {{ $x * $x * $x }} }}", "sq{s}!(3)", "27"),
    ("mod", [], "mod m{s} {{ pub fn v() -> i32 {{ 1 }} }}", "m{s}::v()", "1",
     "mod m{s} {{ pub fn v() -> i32 {{ 2 }} }}", "m{s}::v()", "2"),
    ("cached fn", [], "#[cellar::cache_data]\nfn cf{s}(x: i32) -> i32 {{ x + 1 }}", "*cf{s}(1)", "2",
     "#[cellar::cache_data]\nfn cf{s}(x: i32) -> i32 {{ x + 2 }}", "*cf{s}(1)", "3"),
    ("cached method", ["struct Db{s};"],
     "impl Db{s} {{\n    #[cellar::cache_data]\n    fn rows(&self, n: u32) -> u32 {{ n + 1 }}\n}}",
     "*Db{s}.rows(1)", "2",
     "impl Db{s} {{\n    #[cellar::cache_data]\n    fn rows(&self, n: u32) -> u32 {{ n + 2 }}\n}}",
     "*Db{s}.rows(1)", "3"),
    ("items mixed with statements", [],
     'struct Mx{s} {{ v: i32 }}\nimpl Mx{s} {{ fn v(&self) -> i32 {{ self.v }} }}\nlet mx{s} = Mx{s} {{ v: 4 }};\nprintln!("made");',
     "mx{s}.v()", "4",
     'struct Mx{s} {{ v: i32 }}\nimpl Mx{s} {{ fn v(&self) -> i32 {{ self.v + 1 }} }}\nlet mx{s} = Mx{s} {{ v: 4 }};\nprintln!("made");',
     "mx{s}.v()", "5"),
]

MODES = ["with cell ids", "without cell ids"]


def ok(kc, code, cell_id=None, **kwargs):
    reply, outputs = run_cell(kc, code, cell_id=cell_id, **kwargs)
    assert reply["status"] == "ok", (code, reply.get("ename"), reply.get("evalue"), reply.get("traceback"))
    return outputs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_item_kind_can_be_run_again_and_edited(kernel, case, mode):
    _, kc = kernel
    name, setup, define, check, value, edited, check_after, value_after = case
    suffix = f"{CASES.index(case)}{MODES.index(mode)}"
    ids = mode == MODES[0]
    cell = (lambda label: f"{name}-{label}-{suffix}") if ids else (lambda label: None)

    def fill(text):
        return text.format(s=suffix)

    for index, code in enumerate(setup):
        ok(kc, fill(code), cell_id=cell(f"setup{index}"))
    ok(kc, fill(define), cell_id=cell("define"))
    assert result_text(ok(kc, fill(check), cell_id=cell("check"))) == value
    ok(kc, fill(define), cell_id=cell("define"))
    assert result_text(ok(kc, fill(check), cell_id=cell("check"))) == value
    ok(kc, fill(edited), cell_id=cell("define"))
    assert result_text(ok(kc, fill(check_after), cell_id=cell("check"))) == value_after
    ok(kc, fill(edited), cell_id=cell("define"))
    assert result_text(ok(kc, fill(check_after), cell_id=cell("check"))) == value_after


def test_methods_removed_from_a_cell_are_gone(kernel):
    _, kc = kernel
    ok(kc, "struct Rm;", cell_id="rm-type")
    ok(kc, "impl Rm { fn old(&self) -> i32 { 1 } }", cell_id="rm-impl")
    ok(kc, "impl Rm { fn new_name(&self) -> i32 { 2 } }", cell_id="rm-impl")
    assert result_text(ok(kc, "Rm.new_name()")) == "2"
    reply, _ = run_cell(kc, "Rm.old()")
    assert reply["status"] == "error"
    assert "old" in reply["evalue"], reply


def test_an_impl_moved_to_another_cell_does_not_conflict(kernel):
    _, kc = kernel
    ok(kc, "struct Mv;", cell_id="mv-a")
    ok(kc, "impl Mv { fn f(&self) -> i32 { 1 } }", cell_id="mv-b")
    # Cut from cell b, pasted into cell c: JupyterLab reports b among the deleted cells.
    ok(kc, "impl Mv { fn f(&self) -> i32 { 2 } }", cell_id="mv-c", deleted_cells=["mv-b"])
    assert result_text(ok(kc, "Mv.f()", cell_id="mv-d")) == "2"


def test_the_headline_is_the_first_error_not_a_warning(kernel):
    _, kc = kernel
    ok(kc, "macro_rules! never_used { () => {} }")
    reply, outputs = run_cell(kc, 'let wrong: i32 = "text";')
    assert reply["status"] == "error"
    assert reply["ename"] == "error[E0308]", reply
    assert "mismatched types" in reply["evalue"]


def test_errors_are_drawn_against_the_users_own_text(kernel):
    _, kc = kernel
    ok(kc, "struct Drawn;")
    reply, _ = run_cell(kc, 'impl Drawn {\n    fn bad(&self) -> i32 { "no" }\n}')
    assert reply["status"] == "error"
    trace = "\n".join(reply["traceback"])
    assert "__CELLAR" not in trace, trace
    assert "mismatched types" in trace
    assert '"no"' in trace


def test_a_failed_cell_changes_nothing(kernel):
    _, kc = kernel
    ok(kc, "struct Fc;", cell_id="fc-a")
    ok(kc, "impl Fc { fn v(&self) -> i32 { 1 } }", cell_id="fc-b")
    reply, _ = run_cell(kc, "impl Fc { fn v(&self) -> i32 { oops } }", cell_id="fc-b")
    assert reply["status"] == "error"
    assert result_text(ok(kc, "Fc.v()")) == "1"
    ok(kc, "impl Fc { fn v(&self) -> i32 { 3 } }", cell_id="fc-b")
    assert result_text(ok(kc, "Fc.v()")) == "3"


@pytest.fixture
def runs(tmp_path):
    """A file the cached body appends a line to each time it runs."""
    path = tmp_path / "runs.txt"
    path.write_text("")
    return path


def count(path: pathlib.Path) -> int:
    return len(path.read_text().splitlines())


@pytest.mark.parametrize("mode", MODES)
def test_a_cached_functions_key_follows_the_code_it_reaches(kernel, runs, mode):
    _, kc = kernel
    s = "ids" if mode == MODES[0] else "plain"
    cell = (lambda label: f"key-{label}-{s}") if mode == MODES[0] else (lambda label: None)
    ok(kc, f"fn helper_{s}(x: u64) -> u64 {{ x + 1 }}", cell_id=cell("helper"))
    ok(kc, f"const SCALE_{s}: u64 = 10;", cell_id=cell("const"))
    ok(kc, f"struct Unit_{s};", cell_id=cell("unit"))
    ok(kc, f"#[derive(Default)]\nstruct Cfg_{s} {{ bias: u64 }}", cell_id=cell("type"))
    ok(kc, f"impl Unit_{s} {{ fn offset(&self) -> u64 {{ 0 }} }}", cell_id=cell("impl"))
    ok(kc, f"fn unrelated_{s}() -> u64 {{ 1 }}", cell_id=cell("unrelated"))
    ok(kc, f'''fn note_run_{s}() {{
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open({json.dumps(str(runs))}).unwrap();
    writeln!(f, "ran").unwrap();
}}
#[cellar::cache_data]
fn calc_{s}(x: u64) -> u64 {{
    note_run_{s}();
    helper_{s}(x) * SCALE_{s} + Unit_{s}.offset() + Cfg_{s}::default().bias
}}''', cell_id=cell("calc"))
    call = f"*calc_{s}(1)"

    def value():
        return result_text(ok(kc, call, cell_id=cell("call")))

    assert value() == "20" and count(runs) == 1
    assert value() == "20" and count(runs) == 1, "a re-run hits"
    ok(kc, f"fn helper_{s}(x: u64) -> u64 {{ x + 2 }}", cell_id=cell("helper"))
    assert value() == "30" and count(runs) == 2, "a helper edit misses"
    ok(kc, f"fn unrelated_{s}() -> u64 {{ 2 }}", cell_id=cell("unrelated"))
    assert value() == "30" and count(runs) == 2, "an unrelated edit hits"
    ok(kc, f"const SCALE_{s}: u64 = 100;", cell_id=cell("const"))
    assert value() == "300" and count(runs) == 3, "a const edit misses"
    ok(kc, f"impl Unit_{s} {{ fn offset(&self) -> u64 {{ 5 }} }}", cell_id=cell("impl"))
    assert value() == "305" and count(runs) == 4, "a method edit misses"
    ok(kc, f"#[derive(Default)]\nstruct Cfg_{s} {{ bias: u64, extra: u8 }}", cell_id=cell("type"))
    assert value() == "305" and count(runs) == 5, "a type edit misses"
    assert value() == "305" and count(runs) == 5, "and then hits again"


def test_cellar_lists_what_each_key_covers(kernel):
    _, kc = kernel
    ok(kc, "fn cov_helper() -> u8 { 1 }\nconst COV_LIMIT: u8 = 2;")
    ok(kc, "#[cellar::cache_data]\nfn cov_calc() -> u8 { cov_helper() + COV_LIMIT }")
    text = stream_text(ok(kc, ":cellar"))
    line = next(l for l in text.splitlines() if l.strip().startswith("cov_calc:"))
    assert "cov_helper" in line and "COV_LIMIT" in line, text


def test_a_plain_function_can_become_cached_and_back(kernel):
    _, kc = kernel
    ok(kc, "fn pc(x: i32) -> i32 { x }")
    assert result_text(ok(kc, "pc(1)")) == "1"
    ok(kc, "#[cellar::cache_data]\nfn pc(x: i32) -> i32 { x + 1 }")
    assert result_text(ok(kc, "*pc(1)")) == "2"
    assert result_text(ok(kc, "pc::clear_all()")) == "1"
    ok(kc, "fn pc(x: i32) -> i32 { x + 5 }")
    assert result_text(ok(kc, "pc(1)")) == "6"
