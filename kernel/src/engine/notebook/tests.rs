use super::*;

/// Runs cells through the model as the engine does when every cell compiles.
struct Kernel {
    notebook: Notebook,
}

impl Kernel {
    fn new() -> Kernel {
        Kernel {
            notebook: Notebook::default(),
        }
    }

    fn run(&mut self, code: &str) -> String {
        self.run_cell(code, None, &[])
    }

    fn run_cell(&mut self, code: &str, cell_id: Option<&str>, deleted: &[&str]) -> String {
        let deleted: Vec<String> = deleted.iter().map(|s| s.to_string()).collect();
        let prepared = self
            .notebook
            .prepare(CellSource {
                code,
                cell_id,
                deleted_cells: &deleted,
                display: ResultDisplay::Evcxr,
            })
            .unwrap();
        self.notebook = prepared.notebook;
        prepared.source
    }
}

fn anchors(source: &str) -> Vec<String> {
    source
        .split("const ")
        .skip(1)
        .filter_map(|rest| rest.split(':').next())
        .filter(|name| name.starts_with("__CELLAR_ITEM_"))
        .map(str::to_string)
        .collect()
}

#[test]
fn cells_without_items_are_unchanged() {
    let mut kernel = Kernel::new();
    let cell = ":dep foo = \"1\"\nfn f() -> i32 { 1 }\nlet x = f();\nx";
    assert_eq!(kernel.run(cell), cell);
    assert_eq!(kernel.run("let x = (;"), "let x = (;");
}

#[test]
fn an_impl_is_carried_by_an_anchor_that_a_rerun_reuses() {
    let mut kernel = Kernel::new();
    kernel.run("struct Q { x: i32 }");
    let cell = "impl Q {\n    fn get(&self) -> i32 { self.x }\n}";
    let first = kernel.run(cell);
    let again = kernel.run(cell);
    assert_eq!(first, again, "the same anchor replaces the same block");
    assert_eq!(anchors(&first).len(), 1, "{first}");
    assert!(first.ends_with(cell), "{first}");
    assert_eq!(first.lines().count(), cell.lines().count());
    let edited = kernel
        .run("impl Q {\n    fn get(&self) -> i32 { self.x + 1 }\n    fn set(&mut self) {}\n}");
    assert_eq!(
        anchors(&edited),
        anchors(&first),
        "an edited body replaces the block"
    );
}

#[test]
fn without_a_cell_id_a_trait_impl_replaces_the_same_trait_impl_only() {
    let mut kernel = Kernel::new();
    let display = kernel.run("impl std::fmt::Display for Q { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { write!(f, \"a\") } }");
    let debug = kernel.run("impl std::fmt::Debug for Q { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { write!(f, \"b\") } }");
    let display_again = kernel.run("impl std::fmt::Display for Q { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { write!(f, \"c\") } }");
    assert_ne!(anchors(&display), anchors(&debug));
    assert_eq!(anchors(&display), anchors(&display_again));
}

#[test]
fn with_a_cell_id_a_rerun_removes_what_the_cell_no_longer_defines() {
    let mut kernel = Kernel::new();
    let first = kernel.run_cell(
        "impl Q { fn get(&self) {} }\nfn helper() {}",
        Some("c1"),
        &[],
    );
    let old_anchor = anchors(&first)[0].clone();
    let second = kernel.run_cell("impl Q { fn fetch(&self) {} }", Some("c1"), &[]);
    let found = anchors(&second);
    assert_eq!(found.len(), 2, "{second}");
    assert!(
        second.starts_with(&format!("#[allow(dead_code)] const {old_anchor}: () = ();")),
        "the old block is removed: {second}"
    );
    assert!(second.contains("mod helper {}"), "{second}");
    assert_ne!(found[1], old_anchor);
    let third = kernel.run_cell("impl Q { fn fetch(&self) {} }", Some("c1"), &[]);
    assert_eq!(
        anchors(&third),
        vec![found[1].clone()],
        "nothing left to remove"
    );
}

#[test]
fn deleted_cells_lose_their_items_and_a_moved_impl_does_not_conflict() {
    let mut kernel = Kernel::new();
    kernel.run_cell("struct A;", Some("c1"), &[]);
    let impl_cell = kernel.run_cell(
        "impl A { fn f(&self) {} }\nfn only_here() {}",
        Some("c2"),
        &[],
    );
    let old_anchor = anchors(&impl_cell)[0].clone();
    let moved = kernel.run_cell(
        "impl A { fn f(&self) {} fn g(&self) {} }\nfn only_here() {}",
        Some("c3"),
        &["c2"],
    );
    assert!(
        moved.contains(&format!("const {old_anchor}: () = ();")),
        "{moved}"
    );
    assert!(!moved.contains("mod only_here"), "redefined here: {moved}");
    let later = kernel.run_cell("let x = 1;", Some("c4"), &["c3"]);
    assert!(later.contains("mod only_here {}"), "{later}");
    assert!(!later.contains("mod A"), "c1 was not deleted: {later}");
}

fn cached_calc(body: &str) -> String {
    format!("#[cache_data]\nfn calc(x: u64) -> u64 {{ {body} }}")
}

#[test]
fn a_helper_edit_resends_the_cached_function_with_a_new_key() {
    let mut kernel = Kernel::new();
    kernel.run("fn helper(x: u64) -> u64 { x + 1 }");
    let defined = kernel.run(&cached_calc("helper(x) * 10"));
    assert!(defined.contains("mod __cellar_calc"), "{defined}");
    assert_eq!(kernel.run("let y = calc(1);"), "let y = calc(1);");
    let edited = kernel.run("fn helper(x: u64) -> u64 { x + 2 }");
    assert!(edited.contains("mod __cellar_calc"), "re-sent: {edited}");
    assert_eq!(
        edited.lines().count(),
        1,
        "on the cell's first line: {edited}"
    );
    assert!(edited.ends_with("fn helper(x: u64) -> u64 { x + 2 }"));
    assert_eq!(
        kernel.run("fn unrelated() {}"),
        "fn unrelated() {}",
        "an unrelated edit re-sends nothing"
    );
    assert_eq!(
        kernel.run("fn helper(x: u64) -> u64 { x + 2 }"),
        "fn helper(x: u64) -> u64 { x + 2 }",
        "the same text again changes no key"
    );
}

#[test]
fn consts_methods_types_macros_and_deps_are_reached() {
    let cases = [
        (
            "const LIMIT: u64 = 1;",
            "const LIMIT: u64 = 2;",
            "x + LIMIT",
        ),
        (
            "struct S; impl S { fn scale(&self, x: u64) -> u64 { x } }",
            "struct S; impl S { fn scale(&self, x: u64) -> u64 { x * 3 } }",
            "S.scale(x)",
        ),
        (
            "macro_rules! twice { ($e:expr) => { $e * 2 } }",
            "macro_rules! twice { ($e:expr) => { $e * 3 } }",
            "twice!(x)",
        ),
        (
            "fn inner(x: u64) -> u64 { x } fn outer(x: u64) -> u64 { inner(x) }",
            "fn inner(x: u64) -> u64 { x + 9 } fn outer(x: u64) -> u64 { inner(x) }",
            "println!(\"{}\", outer(x)); x",
        ),
        (
            ":dep rand = \"0.8\"",
            ":dep rand = \"0.9\"",
            "rand::random::<u64>() + x",
        ),
    ];
    for (before, after, body) in cases {
        let mut kernel = Kernel::new();
        kernel.run(before);
        kernel.run(&cached_calc(body));
        let edited = kernel.run(after);
        assert!(
            edited.contains("mod __cellar_calc"),
            "{after} must re-send calc: {edited}"
        );
    }
}

#[test]
fn an_impl_edited_in_its_own_cell_resends_the_functions_using_its_methods() {
    let mut kernel = Kernel::new();
    kernel.run_cell("struct P;", Some("a"), &[]);
    kernel.run_cell("impl P { fn weight(&self) -> u64 { 1 } }", Some("b"), &[]);
    kernel.run_cell(&cached_calc("P.weight() + x"), Some("c"), &[]);
    let edited = kernel.run_cell("impl P { fn weight(&self) -> u64 { 2 } }", Some("b"), &[]);
    assert!(edited.contains("mod __cellar_calc"), "{edited}");
}

#[test]
fn keys_do_not_depend_on_the_order_cells_ran_in() {
    let key_of_calc = |order: &[&str]| {
        let mut kernel = Kernel::new();
        for cell in order {
            kernel.run(cell);
        }
        let source = kernel.run(&cached_calc("P.weight() + x"));
        source[source.find("fn_key").unwrap_or(0)..].to_string()
    };
    let a = "struct P; impl P { fn weight(&self) -> u64 { 1 } }";
    let b = "impl std::fmt::Debug for P { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { Ok(()) } }";
    let c = "impl Clone for P { fn clone(&self) -> P { P } }";
    assert_eq!(key_of_calc(&[a, b, c]), key_of_calc(&[c, a, b]));
}

#[test]
fn a_changed_type_resends_the_functions_that_use_it() {
    let mut kernel = Kernel::new();
    kernel.run("struct Frame { a: i32 }\n#[cache_data]\nfn f() -> Frame { Frame { a: 1 } }");
    assert_eq!(kernel.run("1 + 1"), "1 + 1");
    let changed = kernel.run("struct Frame { a: i64 }\nlet x = 1;");
    assert!(changed.contains("mod __cellar_f"), "{changed}");
    assert_eq!(changed.lines().count(), 2, "line numbers are kept");
    assert!(changed.ends_with("struct Frame { a: i64 }\nlet x = 1;"));
    assert_eq!(kernel.run("2 + 2"), "2 + 2", "sent once");
}

#[test]
fn cached_methods_are_expanded_in_place_and_resent_with_their_anchor() {
    let mut kernel = Kernel::new();
    kernel.run("fn base() -> u32 { 1 }");
    let cell = "struct Db;\nimpl Db {\n    #[cellar::cache_data]\n    fn rows(&self, n: u32) -> Vec<u32> {\n        vec![n + base()]\n    }\n}\nlet r = Db.rows(2);";
    let out = kernel.run(cell);
    assert!(
        out.contains("fn rows (& self , n : u32) -> :: cellar :: Data < Vec < u32 > >"),
        "{out}"
    );
    assert!(!out.contains("#[cellar::cache_data]"), "{out}");
    assert_eq!(out.lines().count(), cell.lines().count(), "{out}");
    assert!(out.ends_with("}\nlet r = Db.rows(2);"), "{out}");
    let anchor = anchors(&out)[0].clone();
    let edited = kernel.run("fn base() -> u32 { 2 }");
    assert!(
        edited.contains(&format!("const {anchor}: () = (); impl Db")),
        "{edited}"
    );
}

#[test]
fn the_source_map_leads_back_to_the_users_text() {
    let cell = "struct Q;\nimpl Q { fn get(&self) -> i32 { \"no\" } }";
    let (source, map) = tests_support::anchored(cell);
    let error_at = source.find("\"no\"").unwrap();
    assert_eq!(map.to_original(error_at), cell.find("\"no\"").unwrap());
}

#[test]
fn coverage_lists_what_each_cached_function_reaches() {
    let mut kernel = Kernel::new();
    kernel.run("const LIMIT: u64 = 1;\nfn helper(x: u64) -> u64 { x + LIMIT }\nfn unrelated() {}");
    kernel.run(&cached_calc("helper(x)"));
    let coverage = kernel.notebook.key_coverage();
    assert_eq!(
        coverage,
        vec![(
            "calc".to_string(),
            vec!["LIMIT".to_string(), "helper".to_string()]
        )]
    );
}

#[test]
fn a_function_that_becomes_cached_frees_its_old_name() {
    let mut kernel = Kernel::new();
    kernel.run("fn calc(x: u64) -> u64 { x }");
    let cached = kernel.run(&cached_calc("x + 1"));
    assert!(
        cached.starts_with("#[allow(unused_macros)] macro_rules! calc"),
        "{cached}"
    );
    let plain = kernel.run("fn calc(x: u64) -> u64 { x }");
    assert!(
        plain.starts_with(
            "#[allow(dead_code, non_snake_case, non_camel_case_types)] mod __cellar_calc {}"
        ),
        "{plain}"
    );
}

fn prepare_with_kernel_display(notebook: &Notebook, code: &str) -> Prepared {
    notebook
        .prepare(CellSource {
            code,
            cell_id: None,
            deleted_cells: &[],
            display: ResultDisplay::Kernel,
        })
        .unwrap()
}

#[test]
fn the_kernel_shows_a_final_expression_unless_the_notebook_has_its_own_display_method() {
    let plain = prepare_with_kernel_display(&Notebook::default(), "let x = 1;\nx + 1");
    assert_eq!(plain.display, ResultDisplay::Kernel);
    assert!(
        plain.source.ends_with("(x + 1).evcxr_display(); };"),
        "{}",
        plain.source
    );

    let statement = prepare_with_kernel_display(&Notebook::default(), "let x = 1;");
    assert_eq!(statement.display, ResultDisplay::Evcxr);
    assert_eq!(statement.source, "let x = 1;");

    let own = prepare_with_kernel_display(
        &Notebook::default(),
        "struct Chart;\nimpl Chart { fn evcxr_display(&self) {} }",
    );
    let after = prepare_with_kernel_display(&own.notebook, "Chart");
    assert_eq!(after.display, ResultDisplay::Evcxr);
    assert_eq!(after.source, "Chart");
}
