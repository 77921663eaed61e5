//! The options of `#[cache_data(…)]` / `#[cache_resource(…)]`, parsed and checked.
//!
//! Everything that can be checked without types is checked here, so a typo is a compile error
//! that names the valid spellings rather than a runtime surprise.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Token};

/// The options a cache attribute accepts, for error messages.
pub const VALID: &str =
    "ttl, max_entries, show_spinner, show_time, persist, scope, validate, on_release, hash(arg = hasher)";

#[derive(Default)]
pub struct CacheOptions {
    pub ttl: Option<Expr>,
    pub max_entries: Option<Expr>,
    pub spinner: Spinner,
    pub show_time: bool,
    pub persist_disk: bool,
    pub session_scope: bool,
    pub validate: Option<Expr>,
    pub on_release: Option<Expr>,
    /// `hash(name = hasher, …)`: the argument name (or `self`) and its hasher.
    pub hashers: Vec<(Ident, Expr)>,
}

#[derive(Default, Clone)]
pub enum Spinner {
    #[default]
    Default,
    Off,
    Text(LitStr),
}

impl CacheOptions {
    pub fn parse(attr: TokenStream) -> syn::Result<CacheOptions> {
        let mut options = CacheOptions::default();
        let mut seen: Vec<String> = Vec::new();
        let parser = |input: ParseStream| {
            while !input.is_empty() {
                let name = input.call(Ident::parse_any)?;
                let key = name.to_string();
                if seen.contains(&key) {
                    return Err(syn::Error::new(
                        name.span(),
                        format!("`{key}` is given twice"),
                    ));
                }
                seen.push(key.clone());
                if key == "hash" {
                    options.parse_hashers(&name, input)?;
                } else {
                    if !input.peek(Token![=]) {
                        return Err(unknown_or_misused(&name));
                    }
                    input.parse::<Token![=]>()?;
                    let value: Expr = input.parse()?;
                    options.set(&name, value)?;
                }
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
            }
            Ok(())
        };
        parser.parse2(attr)?;
        Ok(options)
    }

    fn set(&mut self, name: &Ident, value: Expr) -> syn::Result<()> {
        match name.to_string().as_str() {
            "ttl" => self.ttl = Some(value),
            "max_entries" => {
                if let Some(Lit::Int(n)) = literal(&value) {
                    if n.base10_parse::<u64>().is_ok_and(|n| n == 0) {
                        return Err(syn::Error::new_spanned(
                            &value,
                            "max_entries must be at least 1",
                        ));
                    }
                }
                self.max_entries = Some(value);
            }
            "show_spinner" => {
                self.spinner =
                    match literal(&value) {
                        Some(Lit::Bool(b)) if b.value => Spinner::Default,
                        Some(Lit::Bool(_)) => Spinner::Off,
                        Some(Lit::Str(text)) => Spinner::Text(text.clone()),
                        _ => return Err(syn::Error::new_spanned(
                            &value,
                            "show_spinner takes true, false or the text to show, e.g. \"Loading…\"",
                        )),
                    }
            }
            "show_time" => {
                self.show_time = match literal(&value) {
                    Some(Lit::Bool(b)) => b.value,
                    _ => {
                        return Err(syn::Error::new_spanned(
                            &value,
                            "show_time takes true or false",
                        ))
                    }
                }
            }
            "persist" => match literal(&value) {
                Some(Lit::Str(s)) if s.value() == "disk" => self.persist_disk = true,
                _ => {
                    return Err(syn::Error::new_spanned(
                        &value,
                        "persist takes \"disk\" (the only store so far)",
                    ))
                }
            },
            "scope" => match literal(&value) {
                Some(Lit::Str(s)) if s.value() == "session" => self.session_scope = true,
                Some(Lit::Str(s)) if s.value() == "global" => self.session_scope = false,
                _ => {
                    return Err(syn::Error::new_spanned(
                        &value,
                        "scope takes \"global\" (the default) or \"session\"",
                    ))
                }
            },
            "validate" => self.validate = Some(value),
            "on_release" => self.on_release = Some(value),
            _ => return Err(unknown_or_misused(name)),
        }
        Ok(())
    }

    fn parse_hashers(&mut self, name: &Ident, input: ParseStream) -> syn::Result<()> {
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                name.span(),
                "write the hashers in parentheses: hash(arg = |v: &T| …)",
            ));
        }
        let content;
        syn::parenthesized!(content in input);
        while !content.is_empty() {
            let arg = content.call(Ident::parse_any)?;
            if self.hashers.iter().any(|(seen, _)| seen == &arg) {
                return Err(syn::Error::new(
                    arg.span(),
                    format!("`{arg}` has two hashers"),
                ));
            }
            content.parse::<Token![=]>()?;
            let hasher: Expr = content.parse()?;
            self.hashers.push((arg, hasher));
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
        Ok(())
    }

    /// The hasher given for an argument, if any.
    pub fn hasher(&self, arg: &str) -> Option<&Expr> {
        self.hashers
            .iter()
            .find(|(name, _)| name == arg)
            .map(|(_, hasher)| hasher)
    }
}

fn literal(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

fn unknown_or_misused(name: &Ident) -> syn::Error {
    let message = if VALID
        .split(", ")
        .any(|valid| valid.starts_with(&name.to_string()))
    {
        format!("write `{name} = …`")
    } else {
        format!("unknown option `{name}`; the options are: {VALID}")
    };
    syn::Error::new(name.span(), message)
}
