// The work of cellar's variable store, compiled once into a shared library in the seed folder
// (see `library.rs`). Each cell crate's store (`compact_store.rs`) calls these functions, so no
// cell compiles them: 30–50 ms of rustc in every cell that takes or puts a variable. Both are
// built by the same rustc, which gives the two definitions of `VariableStore` one layout.

pub const VARIABLE_CHANGED_TYPE: &str = "EVCXR_VARIABLE_CHANGED_TYPE:";

type Value = Box<dyn std::any::Any + 'static>;

pub struct VariableStore {
    variables: Vec<(String, Value)>,
}

#[unsafe(no_mangle)]
pub fn cellar_store_new() -> *mut VariableStore {
    Box::into_raw(Box::new(VariableStore {
        variables: Vec::new(),
    }))
}

#[unsafe(no_mangle)]
pub fn cellar_store_get<'a>(store: &'a VariableStore, name: &str) -> Option<&'a Value> {
    position(store, name).map(|i| &store.variables[i].1)
}

#[unsafe(no_mangle)]
pub fn cellar_store_insert(store: &mut VariableStore, name: &str, value: Value) {
    match position(store, name) {
        Some(i) => store.variables[i].1 = value,
        None => store.variables.push((name.to_owned(), value)),
    }
}

/// Whether the variable `name`, if there is one, is of the type `type_id`; when it is not,
/// says so as evcxr's store does (evcxr reads the line on stdout and forgets the variable).
#[unsafe(no_mangle)]
pub fn cellar_store_holds(store: &VariableStore, name: &str, type_id: std::any::TypeId) -> bool {
    match cellar_store_get(store, name) {
        Some(value) if (**value).type_id() != type_id => {
            eprintln!("The type of the variable {name} was redefined, so was lost.");
            println!("{VARIABLE_CHANGED_TYPE}{name}");
            false
        }
        _ => true,
    }
}

/// Moves the variable `name` out, boxed; the caller unboxes it as the type `type_id` names.
#[unsafe(no_mangle)]
pub fn cellar_store_take(store: &mut VariableStore, name: &str, type_id: std::any::TypeId) -> *mut u8 {
    let taken = position(store, name).map(|i| store.variables.swap_remove(i).1);
    match taken {
        Some(value) if (*value).type_id() == type_id => Box::into_raw(value).cast::<u8>(),
        Some(_) => panic!("Variable changed type"),
        None => panic!("Variable '{name}' has gone missing"),
    }
}

/// Moves every variable of `other` into `store`.
#[unsafe(no_mangle)]
pub fn cellar_store_merge(store: &mut VariableStore, other: &mut VariableStore) {
    for (name, value) in other.variables.drain(..) {
        cellar_store_insert(store, &name, value);
    }
}

fn position(store: &VariableStore, name: &str) -> Option<usize> {
    store.variables.iter().position(|(n, _)| n == name)
}
