//! Which cell owns which item, and the text that replaces or removes items in evcxr.
//!
//! evcxr has no call to remove an item; it replaces an item when a cell defines its name again,
//! and attaches each impl block to the named item before it in the same cell. So the kernel
//! puts a named *anchor* before every impl block it sends (`const __CELLAR_ITEM_7: () = ();`):
//! the block then lives under that name, and sending the anchor again, alone, removes it.
//! A named item is removed by defining its name as an empty module (a *tombstone*), which
//! leaves nothing callable under it.
//!
//! With JupyterLab's cell ids an item belongs to the cell that last defined it: re-running
//! the cell replaces all it defined before and removes what it no longer defines, and
//! `deletedCells` removes the items of deleted or cut cells. Without a cell id (nbclient,
//! console), a block replaces the earlier one with the same identity (`BlockIdentity`).

/// A JupyterLab cell id.
pub type CellId = String;

/// The anchor that carries one impl block: a unit const named after a kernel-wide counter.
pub fn anchor_name(number: u64) -> String {
    format!("__CELLAR_ITEM_{number}")
}

/// The text that declares an anchor (with nothing after it, it removes its block).
pub fn anchor(name: &str) -> String {
    format!("#[allow(dead_code)] const {name}: () = ();")
}

/// The text that removes the named item `name` from what evcxr sends to every later cell.
pub fn tombstone(name: &str) -> String {
    format!("#[allow(dead_code, non_snake_case, non_camel_case_types)] mod {name} {{}}")
}

/// The text that frees `name` when its item moves under another name in evcxr (a function
/// that became cached lives in `mod __cellar_NAME`, and the old `fn NAME` would shadow it): a
/// macro of that name, which takes no namespace that code calling the function uses.
pub fn free_name(name: &str) -> String {
    format!("#[allow(unused_macros)] macro_rules! {name} {{ () => {{}} }}")
}

/// Who defined an item: a cell with an id, or a client that sends none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Cell(CellId),
    Unknown,
}

impl Owner {
    pub fn from_cell(cell_id: Option<&str>) -> Owner {
        match cell_id {
            Some(id) if !id.is_empty() => Owner::Cell(id.to_string()),
            _ => Owner::Unknown,
        }
    }

    pub fn is_cell(&self, id: &str) -> bool {
        matches!(self, Owner::Cell(own) if own == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_and_tombstones_are_items_evcxr_keeps_by_name() {
        let anchor: syn::Item = syn::parse_str(&anchor(&anchor_name(3))).unwrap();
        assert!(matches!(anchor, syn::Item::Const(c) if c.ident == "__CELLAR_ITEM_3"));
        let tomb: syn::Item = syn::parse_str(&tombstone("helper")).unwrap();
        assert!(matches!(tomb, syn::Item::Mod(m) if m.ident == "helper"));
        let freed: syn::Item = syn::parse_str(&free_name("load")).unwrap();
        assert!(
            matches!(freed, syn::Item::Macro(m) if m.ident.as_ref().is_some_and(|i| i == "load"))
        );
    }

    #[test]
    fn an_empty_cell_id_is_no_cell_id() {
        assert_eq!(Owner::from_cell(Some("")), Owner::Unknown);
        assert!(Owner::from_cell(Some("a")).is_cell("a"));
        assert!(!Owner::from_cell(None).is_cell("a"));
    }
}
