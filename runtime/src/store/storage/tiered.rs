//! [`Tiered`]: storages in order, nearest first, as one.
//!
//! A read asks each tier in turn; bytes a tier has are offered to the caller, who accepts them
//! (checked, signed, not expired) or says why not; an accepted entry from a far tier is copied
//! into the nearer ones (backfill), so the next read stays on this machine. A write goes to
//! every tier, nearest first. A tier that fails is skipped for that call: the call goes on
//! with the others, and the notebook gets one warning until the tier works again.

use super::entry::Rejected;
use super::{Reach, Storage, StorageError};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a tier belongs to this machine or is shared with others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locality {
    ThisMachine,
    /// Other machines read it: only a deletion that reaches every tier touches it, and a
    /// rejected or expired entry there is left for its owner to replace.
    Shared,
}

/// One tier of a [`Tiered`].
pub struct Tier {
    storage: Box<dyn Storage>,
    locality: Locality,
    /// Set once a failure was reported, cleared when the tier works again.
    failing: AtomicBool,
}

impl Tier {
    pub fn new(storage: impl Storage + 'static, locality: Locality) -> Tier {
        Tier {
            storage: Box::new(storage),
            locality,
            failing: AtomicBool::new(false),
        }
    }

    /// Reports the first failure of a run of them, and the recovery after one.
    fn outcome<T>(&self, result: Result<T, StorageError>) -> Option<T> {
        match result {
            Ok(value) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    eprintln!("cellar: {} works again", self.storage.describe());
                }
                Some(value)
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "cellar: {} failed: {error}; cached values are kept without it until it \
                         works again (no further warnings until then)",
                        self.storage.describe()
                    );
                }
                None
            }
        }
    }

    fn reaches(&self, reach: Reach) -> bool {
        reach == Reach::EveryTier || self.locality == Locality::ThisMachine
    }
}

/// What the caller makes of the bytes a tier had.
pub enum Verdict<T> {
    Take(T),
    /// Past its ttl: a miss, not a warning.
    Expired,
    Reject(Rejected),
}

/// Tiers in order, nearest first.
pub struct Tiered {
    tiers: Vec<Tier>,
}

impl Tiered {
    pub fn new(tiers: Vec<Tier>) -> Tiered {
        Tiered { tiers }
    }

    /// The first entry under `name` that `accept` takes, backfilled into the nearer tiers.
    /// `label` names the entry in warnings (the function and the entry). An entry this machine
    /// holds that is expired or rejected is removed.
    pub fn get<T>(
        &self,
        name: &str,
        label: &str,
        mut accept: impl FnMut(&[u8]) -> Verdict<T>,
    ) -> Option<T> {
        for (depth, tier) in self.tiers.iter().enumerate() {
            let Some(Some(bytes)) = tier.outcome(tier.storage.get(name)) else {
                continue;
            };
            match accept(&bytes) {
                Verdict::Take(value) => {
                    for nearer in &self.tiers[..depth] {
                        nearer.outcome(nearer.storage.put(name, &bytes));
                    }
                    return Some(value);
                }
                Verdict::Expired => {}
                Verdict::Reject(why) => eprintln!(
                    "cellar: the stored entry of {label} in {} was rejected: {why}; it is \
                     computed again",
                    tier.storage.describe()
                ),
            }
            if tier.locality == Locality::ThisMachine {
                tier.outcome(tier.storage.delete(&[name.to_string()]));
            }
        }
        None
    }

    /// Writes `bytes` under `name` to every tier.
    pub fn put(&self, name: &str, bytes: &[u8]) {
        for tier in &self.tiers {
            tier.outcome(tier.storage.put(name, bytes));
        }
    }

    pub fn delete(&self, names: &[String], reach: Reach) {
        for tier in self.tiers.iter().filter(|tier| tier.reaches(reach)) {
            tier.outcome(tier.storage.delete(names));
        }
    }

    pub fn delete_folders(&self, folders: &[String], reach: Reach) {
        for tier in self.tiers.iter().filter(|tier| tier.reaches(reach)) {
            tier.outcome(tier.storage.delete_folders(folders));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::folder::{Folder, Sync};
    use super::*;
    use std::path::PathBuf;

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("cellar-tiered-{name}-{}", std::process::id()))
    }

    /// A folder of this machine in front of a shared one, `far` under `root`.
    fn near_and_far(root: &std::path::Path, near: &str) -> Tiered {
        Tiered::new(vec![
            Tier::new(
                Folder::new(root.join(near), "the near folder", Sync::No),
                Locality::ThisMachine,
            ),
            Tier::new(
                Folder::new(root.join("far"), "the shared folder", Sync::No),
                Locality::Shared,
            ),
        ])
    }

    fn two_folders(name: &str) -> (PathBuf, Tiered) {
        let root = scratch(name);
        let tiered = near_and_far(&root, "near");
        (root, tiered)
    }

    fn take(bytes: &[u8]) -> Verdict<Vec<u8>> {
        if bytes == b"bad" {
            Verdict::Reject(Rejected::WrongSignature)
        } else {
            Verdict::Take(bytes.to_vec())
        }
    }

    #[test]
    fn a_far_hit_is_backfilled_and_writes_reach_every_tier() {
        let (root, tiered) = two_folders("backfill");
        std::fs::create_dir_all(root.join("far/f")).unwrap();
        std::fs::write(root.join("far/f/a.entry"), b"shared").unwrap();
        assert_eq!(
            tiered.get("f/a.entry", "`f`", take),
            Some(b"shared".to_vec())
        );
        assert_eq!(
            std::fs::read(root.join("near/f/a.entry")).unwrap(),
            b"shared"
        );

        tiered.put("f/b.entry", b"mine");
        assert!(root.join("near/f/b.entry").exists() && root.join("far/f/b.entry").exists());

        tiered.delete(&["f/b.entry".into()], Reach::ThisMachine);
        assert!(
            !root.join("near/f/b.entry").exists(),
            "this machine's copy goes"
        );
        assert!(root.join("far/f/b.entry").exists(), "the shared copy stays");
        tiered.delete_folders(&["f".into()], Reach::EveryTier);
        assert!(!root.join("far/f").exists());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_rejected_entry_is_a_miss_removed_only_from_this_machine() {
        let (root, tiered) = two_folders("rejected");
        for tier in ["near", "far"] {
            std::fs::create_dir_all(root.join(tier).join("f")).unwrap();
            std::fs::write(root.join(tier).join("f/a.entry"), b"bad").unwrap();
        }
        assert_eq!(tiered.get("f/a.entry", "`f`", take), None);
        assert!(!root.join("near/f/a.entry").exists());
        assert!(root.join("far/f/a.entry").exists());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_failing_tier_is_skipped() {
        let root = scratch("failing");
        std::fs::create_dir_all(&root).unwrap();
        // A file where the near folder should be: every near read and write fails.
        std::fs::write(root.join("file"), b"").unwrap();
        let tiered = near_and_far(&root, "file");
        tiered.put("f/a.entry", b"kept");
        assert!(tiered.tiers[0].failing.load(Ordering::Relaxed));
        assert_eq!(tiered.get("f/a.entry", "`f`", take), Some(b"kept".to_vec()));
        std::fs::remove_dir_all(root).unwrap();
    }
}
