//! The runtime crates the kernel carries inside its binary, named once: `build.rs` packs them,
//! and the kernel unpacks them and names them in the cells' dependencies.

/// A runtime crate: its package, and its folder inside the workspace's `runtime/`.
pub struct RuntimeCrate {
    pub package: &'static str,
    pub folder: &'static str,
}

/// The runtime, which cells name as `cellar`.
pub const CELLAR: RuntimeCrate = RuntimeCrate {
    package: "cellar",
    folder: "",
};

/// The runtime's re-export of serde, which cells name as `serde`.
pub const SERDE: RuntimeCrate = RuntimeCrate {
    package: "cellar-serde",
    folder: "serde",
};

/// Every crate that travels inside the kernel: the two above, the attribute macros and what
/// they expand to. (The kernel itself reads the list only in the tests of its manifests.)
#[cfg_attr(not(test), allow(dead_code))]
pub const RUNTIME_CRATES: [RuntimeCrate; 4] = [
    CELLAR,
    RuntimeCrate {
        package: "cellar-macros",
        folder: "macros",
    },
    RuntimeCrate {
        package: "cellar-codegen",
        folder: "codegen",
    },
    SERDE,
];
