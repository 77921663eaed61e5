// cellar's variable store, put in place of evcxr's in every cell crate (see `variable_store`).
// Its interface is evcxr's; its map is a vector, so a cell compiles no hash table code, and its
// generic methods only box and unbox: a cell compiles little per variable.

pub const VARIABLE_CHANGED_TYPE: &str = "EVCXR_VARIABLE_CHANGED_TYPE:";
pub const USER_ERROR_OCCURRED: &str = "EVCXR_ERROR_OCCURRED";

type Value = Box<dyn std::any::Any + 'static>;

pub struct VariableStore {
    variables: Vec<(String, Value)>,
}

impl VariableStore {
    pub fn new() -> VariableStore {
        VariableStore { variables: Vec::new() }
    }

    pub fn put_variable<T: 'static>(&mut self, name: &str, value: T) {
        self.insert(name, Box::new(value));
    }

    pub fn check_variable<T: 'static>(&mut self, name: &str) -> bool {
        self.holds(name, std::any::TypeId::of::<T>())
    }

    pub fn take_variable<T: 'static>(&mut self, name: &str) -> T {
        let value = self.take(name, std::any::TypeId::of::<T>());
        // `take` checked that the value is a `T`, boxed by `put_variable::<T>`.
        unsafe { *Box::from_raw(value.cast::<T>()) }
    }

    pub fn lazy_arc<T: 'static, F: FnOnce() -> T>(
        &mut self,
        name: &str,
        create: F,
    ) -> std::sync::Arc<T> {
        if self.get(name).is_none() {
            self.insert(name, Box::new(std::sync::Arc::new(create())));
        }
        match self.get(name).and_then(|v| v.downcast_ref::<std::sync::Arc<T>>()) {
            Some(value) => std::sync::Arc::clone(value),
            None => panic!("lazy_arc {name} changed type"),
        }
    }

    pub fn merge(&mut self, mut other: VariableStore) {
        for (name, value) in other.variables.drain(..) {
            self.insert(&name, value);
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.variables.iter().position(|(n, _)| n == name)
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).map(|i| &self.variables[i].1)
    }

    fn insert(&mut self, name: &str, value: Value) {
        match self.position(name) {
            Some(i) => self.variables[i].1 = value,
            None => self.variables.push((name.to_owned(), value)),
        }
    }

    fn remove(&mut self, name: &str) -> Option<Value> {
        self.position(name).map(|i| self.variables.swap_remove(i).1)
    }

    fn holds(&self, name: &str, type_id: std::any::TypeId) -> bool {
        match self.get(name) {
            Some(value) if type_of(value) != type_id => changed_type(name),
            _ => true,
        }
    }

    fn take(&mut self, name: &str, type_id: std::any::TypeId) -> *mut u8 {
        match self.remove(name) {
            Some(value) if type_of(&value) == type_id => Box::into_raw(value).cast::<u8>(),
            Some(_) => panic!("Variable changed type"),
            None => panic!("Variable '{name}' has gone missing"),
        }
    }
}

fn type_of(value: &Value) -> std::any::TypeId {
    (**value).type_id()
}

fn changed_type(name: &str) -> bool {
    eprintln!("The type of the variable {name} was redefined, so was lost.");
    println!("{VARIABLE_CHANGED_TYPE}{name}");
    false
}

pub fn create_variable_store() -> *mut VariableStore {
    Box::into_raw(Box::new(VariableStore::new()))
}
