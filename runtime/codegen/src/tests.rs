use super::*;
use quote::{quote, ToTokens};

fn item(tokens: TokenStream) -> syn::ItemFn {
    syn::parse2(tokens).unwrap()
}

fn expand_ok(kind: CacheKind, attr: TokenStream, function: TokenStream) -> syn::File {
    let expanded = expand(kind, attr, item(function), None, Layout::Crate).unwrap();
    syn::parse2(expanded).expect("the expansion parses as Rust items")
}

fn error(kind: CacheKind, attr: TokenStream, function: TokenStream) -> String {
    match expand(kind, attr, item(function), None, Layout::Crate) {
        Ok(tokens) => panic!("expected an error, got {tokens}"),
        Err(error) => error.to_string(),
    }
}

fn the_fn(file: &syn::File) -> &syn::ItemFn {
    file.items
        .iter()
        .find_map(|item| {
            if let syn::Item::Fn(f) = item {
                Some(f)
            } else {
                None
            }
        })
        .unwrap()
}

/// The `[u8; 32]` literal after `key :` in the expansion's text.
fn key_of(tokens: &TokenStream) -> String {
    let text = tokens.to_string();
    let start = text.find(" key : [").expect("a key");
    text[start..start + text[start..].find(']').unwrap()].to_string()
}

fn load() -> TokenStream {
    quote! {
        fn load(url: &str, rows: usize) -> Frame {
            Frame::read(url, rows)
        }
    }
}

#[test]
fn data_returns_a_handle_with_the_true_signature() {
    let file = expand_ok(CacheKind::Data, quote!(ttl = "1h"), load());
    let f = the_fn(&file);
    assert_eq!(f.sig.ident, "load");
    assert_eq!(
        f.sig.output.to_token_stream().to_string(),
        "-> :: cellar :: Data < Frame >"
    );
    assert_eq!(
        f.sig.inputs.to_token_stream().to_string(),
        "url : & str , rows : usize"
    );
    let text = file.to_token_stream().to_string();
    assert!(text.contains(":: cellar :: __private :: item !"), "{text}");
    assert!(text.contains("struct load { }"), "{text}");
    assert!(text.contains("impl load"));
    assert!(
        text.contains("pub fn clear (url : & str , rows : usize) -> bool"),
        "{text}"
    );
    assert!(text.contains("pub fn clear_all ()"));
    assert!(text.contains("hash_arg (__cellar_h , \"url\" , & url)"));
    assert!(text.contains("hash_arg (__cellar_h , \"rows\" , & rows)"));
    assert!(
        text.contains("-> Frame { Frame :: read (url , rows) }"),
        "{text}"
    );
    assert!(text.contains(":: cellar :: __private :: ttl (\"load\" , & (\"1h\"))"));
}

#[test]
fn the_body_tokens_appear_verbatim_in_the_expansion() {
    // The kernel puts the user's own body text back by finding the body's tokens in the output.
    let function = item(quote! {
        fn f(n: u64) -> Vec<u64> {
            let v: Vec<u64> = (0..n).map(|i| i * 2).collect();
            if v.is_empty() { return vec![]; }
            v
        }
    });
    let body = function.block.to_token_stream().to_string();
    let expanded = expand(
        CacheKind::Data,
        quote!(ttl = 3),
        function,
        Some("salt"),
        Layout::Crate,
    )
    .unwrap()
    .to_string();
    assert_eq!(expanded.matches(&body).count(), 1, "{expanded}");
}

#[test]
fn resource_returns_an_arc_and_needs_a_return_type() {
    let file = expand_ok(
        CacheKind::Resource,
        quote!(),
        quote!(
            pub fn connect(url: &str) -> Conn {
                Conn::open(url)
            }
        ),
    );
    let f = the_fn(&file);
    assert_eq!(
        f.sig.output.to_token_stream().to_string(),
        "-> :: std :: sync :: Arc < Conn >"
    );
    assert!(file
        .to_token_stream()
        .to_string()
        .contains("pub struct connect"));
    let message = error(
        CacheKind::Resource,
        quote!(),
        quote!(
            fn setup() {
                run()
            }
        ),
    );
    assert!(message.contains("needs a return type"), "{message}");
}

#[test]
fn underscore_arguments_are_left_out_of_the_key() {
    let file = expand_ok(
        CacheKind::Data,
        quote!(),
        quote!(
            fn f(_pool: &Pool, _: u8, x: u32) -> u32 {
                x
            }
        ),
    );
    let text = file.to_token_stream().to_string();
    assert!(!text.contains("\"_pool\""));
    assert!(text.contains("\"x\""));
    assert!(
        text.contains("pub fn clear (_ : & Pool , _ : u8 , x : u32)"),
        "{text}"
    );
}

#[test]
fn the_function_key_follows_the_source() {
    let key = |function: TokenStream, salt: Option<&str>| {
        key_of(
            &expand(
                CacheKind::Data,
                quote!(),
                item(function),
                salt,
                Layout::Crate,
            )
            .unwrap(),
        )
    };
    let same = key(load(), None);
    assert_eq!(same, key(load(), None), "same source, same key");
    let edited = key(
        quote!(
            fn load(url: &str, rows: usize) -> Frame {
                Frame::read(url, rows + 1)
            }
        ),
        None,
    );
    assert_ne!(same, edited, "an edited body is a new function");
    assert_ne!(
        same,
        key(load(), Some("struct Frame { a: i64 }")),
        "the type salt is part of the key"
    );
    assert_ne!(key(load(), Some("a")), key(load(), Some("b")));
    let options_only = key_of(
        &expand(
            CacheKind::Data,
            quote!(ttl = 5),
            item(load()),
            None,
            Layout::Crate,
        )
        .unwrap(),
    );
    assert_eq!(same, options_only, "options do not change the function key");
}

#[test]
fn options_are_checked() {
    let message = error(CacheKind::Data, quote!(tll = "1h"), load());
    assert!(
        message.contains("unknown option `tll`") && message.contains("ttl, max_entries"),
        "{message}"
    );
    assert!(
        error(CacheKind::Data, quote!(persist = "s3"), load()).contains("persist takes \"disk\"")
    );
    assert!(error(CacheKind::Data, quote!(scope = "tab"), load()).contains("scope takes"));
    assert!(error(CacheKind::Data, quote!(show_spinner = 3), load()).contains("show_spinner takes"));
    assert!(error(CacheKind::Data, quote!(max_entries = 0), load()).contains("at least 1"));
    assert!(error(CacheKind::Data, quote!(ttl = 1, ttl = 2), load()).contains("twice"));
    assert!(error(CacheKind::Data, quote!(ttl), load()).contains("write `ttl = …`"));
    assert!(
        error(CacheKind::Data, quote!(hash(nope = |v: &u8| *v)), load())
            .contains("no argument `nope`")
    );
    let all = quote!(
        ttl = "1h",
        max_entries = 100,
        show_spinner = "Loading…",
        show_time = true,
        persist = "disk",
        scope = "session",
        validate = |f: &Frame| f.ok(),
        on_release = Frame::close,
        hash(url = |u: &&str| u.len())
    );
    let text = expand_ok(CacheKind::Data, all, load())
        .to_token_stream()
        .to_string();
    assert!(text.contains("Spinner :: Text (\"Loading…\")"));
    assert!(text.contains("Scope :: Session"));
    assert!(text.contains("Persist :: Disk"));
    assert!(
        text.contains("& (| u : & & str | u . len ()) (& url)"),
        "{text}"
    );
}

#[test]
fn unsupported_functions_get_clear_errors() {
    assert!(error(
        CacheKind::Data,
        quote!(),
        quote!(
            fn f<T>(x: T) -> T {
                x
            }
        )
    )
    .contains("generic fn"));
    assert!(error(
        CacheKind::Data,
        quote!(),
        quote!(
            async fn f() -> u8 {
                1
            }
        )
    )
    .contains("async fn"));
    assert!(error(
        CacheKind::Data,
        quote!(),
        quote!(
            fn f() -> impl Clone {
                1
            }
        )
    )
    .contains("impl Trait"));
    assert!(error(
        CacheKind::Data,
        quote!(),
        quote!(
            fn f(x: impl Clone) -> u8 {
                1
            }
        )
    )
    .contains("impl Trait"));
    assert!(error(
        CacheKind::Data,
        quote!(),
        quote!(
            const fn f() -> u8 {
                1
            }
        )
    )
    .contains("const fn"));
    // Lifetimes are fine.
    expand_ok(
        CacheKind::Data,
        quote!(),
        quote!(
            fn f<'a>(x: &'a str) -> usize {
                x.len()
            }
        ),
    );
}

#[test]
fn methods_keep_the_spec_inside_and_hash_the_self_type() {
    let method = quote!(
        pub fn area(&self, scale: f64) -> f64 {
            self.w * self.h * scale
        }
    );
    let expanded = expand(CacheKind::Data, quote!(), item(method), None, Layout::Crate).unwrap();
    let f: syn::ImplItemFn = syn::parse2(expanded.clone()).expect("one method, no module");
    let text = expanded.to_string();
    assert!(text.contains("static __CELLAR_SPEC"));
    assert!(text.contains("type_name :: < Self > ()"));
    assert!(
        !text.contains("\"self\""),
        "the receiver is not hashed without a hasher"
    );
    assert_eq!(
        f.sig.output.to_token_stream().to_string(),
        "-> :: cellar :: Data < f64 >"
    );
    let hashed = expand(
        CacheKind::Data,
        quote!(hash(self = |s: &Self| s.id)),
        item(quote!(
            fn f(&self) -> u8 {
                1
            }
        )),
        None,
        Layout::Crate,
    )
    .unwrap();
    assert!(hashed.to_string().contains("\"self\""));
    assert!(error(
        CacheKind::Data,
        quote!(),
        quote!(
            fn f(&self) -> Self {
                self.clone()
            }
        )
    )
    .contains("`Self`"));
    assert!(error(
        CacheKind::Data,
        quote!(hash(self = |s: &u8| *s)),
        quote!(
            fn f() -> u8 {
                1
            }
        )
    )
    .contains("for methods"));
}

#[test]
fn destructuring_patterns_are_bound_inside_the_body() {
    let file = expand_ok(
        CacheKind::Data,
        quote!(),
        quote!(
            fn f((a, b): (u8, u8), mut c: u8) -> u8 {
                c += 1;
                a + b + c
            }
        ),
    );
    let f = the_fn(&file);
    assert_eq!(
        f.sig.inputs.to_token_stream().to_string(),
        "__cellar_arg0 : (u8 , u8) , mut c : u8"
    );
    let text = file.to_token_stream().to_string();
    assert!(text.contains("let (a , b) = __cellar_arg0 ;"), "{text}");
    assert!(text.contains("\"(a , b)\""));
}

#[test]
fn derive_covers_structs_and_enums() {
    let derived = derive_cache_hash(syn::parse_quote! {
        enum Shape<T> { Dot, Circle { r: T }, Pair(T, #[cache_hash(skip)] u8) }
    })
    .to_string();
    assert!(
        derived
            .contains("impl < T : :: cellar :: CacheHash > :: cellar :: CacheHash for Shape < T >"),
        "{derived}"
    );
    assert!(derived.contains("write_u32 (2u32)"));
    assert_eq!(
        derived.matches("CacheHash :: cache_hash (").count(),
        2,
        "{derived}"
    );
    let unit = derive_cache_hash(syn::parse_quote!(
        struct Unit;
    ))
    .to_string();
    assert!(unit.contains("let Self = self"));
    let union = derive_cache_hash(syn::parse_quote!(union U { a: u8 })).to_string();
    assert!(union.contains("compile_error"));
}

#[test]
fn notebook_layout_puts_function_and_controls_in_one_module_glob_imported() {
    let function = quote!(
        fn load(url: &str) -> Vec<u8> {
            url.as_bytes().to_vec()
        }
    );
    let expanded = expand(
        CacheKind::Data,
        quote!(),
        item(function),
        None,
        Layout::Notebook,
    )
    .unwrap();
    let file: syn::File = syn::parse2(expanded).unwrap();
    let names: Vec<String> = file
        .items
        .iter()
        .map(|item| match item {
            syn::Item::Mod(m) => format!("mod {}", m.ident),
            syn::Item::Use(u) => format!("use {}", u.tree.to_token_stream()),
            other => format!("{}", other.to_token_stream()),
        })
        .collect();
    assert_eq!(names, vec!["mod __cellar_load", "use __cellar_load :: *"]);
    let syn::Item::Mod(module) = &file.items[0] else {
        unreachable!()
    };
    let inner: Vec<String> = module
        .content
        .as_ref()
        .unwrap()
        .1
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(f) => Some(format!("fn {}", f.sig.ident)),
            syn::Item::Struct(s) => Some(format!("struct {}", s.ident)),
            _ => None,
        })
        .collect();
    assert_eq!(inner, vec!["fn load", "struct load"]);
}
