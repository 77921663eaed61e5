// cellar's variable store, put in place of evcxr's in every cell crate (see `variable_store`).
// Its interface is evcxr's; its work is done by the store library (`store_library.rs`), built
// once with the seed, so a cell compiles only the generic methods, which box and unbox.

pub const VARIABLE_CHANGED_TYPE: &str = "EVCXR_VARIABLE_CHANGED_TYPE:";
pub const USER_ERROR_OCCURRED: &str = "EVCXR_ERROR_OCCURRED";

type Value = Box<dyn std::any::Any + 'static>;

pub struct VariableStore {
    variables: Vec<(String, Value)>,
}

unsafe extern "Rust" {
    safe fn cellar_store_new() -> *mut VariableStore;
    safe fn cellar_store_get<'a>(store: &'a VariableStore, name: &str) -> Option<&'a Value>;
    safe fn cellar_store_insert(store: &mut VariableStore, name: &str, value: Value);
    safe fn cellar_store_holds(store: &VariableStore, name: &str, type_id: std::any::TypeId) -> bool;
    safe fn cellar_store_take(store: &mut VariableStore, name: &str, type_id: std::any::TypeId) -> *mut u8;
    safe fn cellar_store_merge(store: &mut VariableStore, other: &mut VariableStore);
}

impl VariableStore {
    pub fn new() -> VariableStore {
        VariableStore { variables: Vec::new() }
    }

    pub fn put_variable<T: 'static>(&mut self, name: &str, value: T) {
        cellar_store_insert(self, name, Box::new(value));
    }

    pub fn check_variable<T: 'static>(&mut self, name: &str) -> bool {
        cellar_store_holds(self, name, std::any::TypeId::of::<T>())
    }

    pub fn take_variable<T: 'static>(&mut self, name: &str) -> T {
        let value = cellar_store_take(self, name, std::any::TypeId::of::<T>());
        // The library checked that the value is a `T`, boxed by `put_variable::<T>`.
        unsafe { *Box::from_raw(value.cast::<T>()) }
    }

    pub fn lazy_arc<T: 'static, F: FnOnce() -> T>(
        &mut self,
        name: &str,
        create: F,
    ) -> std::sync::Arc<T> {
        if cellar_store_get(self, name).is_none() {
            cellar_store_insert(self, name, Box::new(std::sync::Arc::new(create())));
        }
        match cellar_store_get(self, name).and_then(|v| v.downcast_ref::<std::sync::Arc<T>>()) {
            Some(value) => std::sync::Arc::clone(value),
            None => panic!("lazy_arc {name} changed type"),
        }
    }

    pub fn merge(&mut self, mut other: VariableStore) {
        cellar_store_merge(self, &mut other);
    }
}

pub fn create_variable_store() -> *mut VariableStore {
    cellar_store_new()
}
