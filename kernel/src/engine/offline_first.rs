//! cargo offline first: crates this machine already has are added without asking the registry.
//!
//! evcxr checks every new dependency with `cargo metadata` on a manifest of its own, with no
//! lock file, so cargo asks the registry for the newest index before anything else: about
//! 0.55 s of a `:dep` cell here, in every kernel, for a crate an earlier kernel built. Offline,
//! cargo resolves to the newest version it has downloaded, which is what earlier kernels built,
//! and takes 0.1 s; a crate it lacks fails at once, and is then added online as before. The
//! runtime's crates are always in cargo's cache (the seed built them). A user who sets
//! `:offline` decides for every cell that follows, as in evcxr.

/// cargo's network use, as the user set it with evcxr's `:offline` (evcxr starts online).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CargoNetwork {
    /// Not set: the kernel adds crates offline first, and online when that fails.
    OfflineFirst,
    Online,
    Offline,
}

impl CargoNetwork {
    /// The setting after `cell`, which may set it (its last `:offline` counts).
    pub fn after(self, cell: &str) -> CargoNetwork {
        super::commands::command_lines(cell, ":offline")
            .last()
            .map_or(self, |argument| match argument == "1" {
                true => CargoNetwork::Offline,
                false => CargoNetwork::Online,
            })
    }

    /// The `:offline` command that gives evcxr this setting back after an offline attempt.
    pub fn restoring_command(self) -> &'static str {
        match self {
            CargoNetwork::Offline => ":offline 1",
            CargoNetwork::OfflineFirst | CargoNetwork::Online => ":offline 0",
        }
    }
}

/// The `:dep` lines of `cell`, to be added before it runs, joined; `None` without any.
pub fn dependency_lines(cell: &str) -> Option<String> {
    let lines: Vec<&str> = cell
        .lines()
        .filter(|line| super::commands::has_command_line(line, &[":dep"]))
        .map(str::trim)
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_offline_command_of_a_cell_counts() {
        let unset = CargoNetwork::OfflineFirst;
        assert_eq!(unset.after(":offline 1"), CargoNetwork::Offline);
        assert_eq!(
            unset.after(":offline 1\nlet a = 1;\n:offline 0"),
            CargoNetwork::Online
        );
        // evcxr reads anything but `1` as off.
        assert_eq!(unset.after(":offline"), CargoNetwork::Online);
        assert_eq!(unset.after(":offlinex 1\n1 + 1"), unset);
        assert_eq!(CargoNetwork::Online.after("1 + 1"), CargoNetwork::Online);
    }

    #[test]
    fn an_offline_attempt_gives_back_the_users_setting() {
        assert_eq!(CargoNetwork::Offline.restoring_command(), ":offline 1");
        assert_eq!(CargoNetwork::Online.restoring_command(), ":offline 0");
        assert_eq!(CargoNetwork::OfflineFirst.restoring_command(), ":offline 0");
    }

    #[test]
    fn only_dep_lines_are_added_before_the_cell() {
        assert_eq!(
            dependency_lines(":dep rand = \"0.8\"\nuse rand::Rng;\n  :dep itoa\nlet x = 1;"),
            Some(":dep rand = \"0.8\"\n:dep itoa".to_string())
        );
        assert_eq!(dependency_lines("let dep = 1;\n:depx a"), None);
        assert_eq!(dependency_lines(":opt 1"), None);
    }
}
