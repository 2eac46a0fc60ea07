//! The one set difference every walker uses: match the entries of two keyed collections
//! (operations by method and path, parameters by name and location, responses by status,
//! properties and extension keys by name, enum values by themselves).

/// Whose order the matched entries come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lead {
    /// The old version's entries in order, gone or kept, then the new version's additions.
    Old,
    /// The old version's removals first, then the new version's entries in order, added or kept.
    New,
}

/// One entry of either version, matched by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pair<V> {
    /// Only in the old version.
    Removed(V),
    /// Only in the new version.
    Added(V),
    /// In both: old, new.
    Both(V, V),
}

impl<V: Copy> Pair<V> {
    /// The old and the new side, each absent where the entry is.
    pub fn sides(self) -> (Option<V>, Option<V>) {
        match self {
            Pair::Removed(old) => (Some(old), None),
            Pair::Added(new) => (None, Some(new)),
            Pair::Both(old, new) => (Some(old), Some(new)),
        }
    }
}

/// Matches `old` and `new` `(key, value)` entries by key, in the order `lead` says. An entry
/// whose key is on both sides is matched with the first entry of that key on the other side.
pub fn keyed_diff<K: PartialEq + Copy, V: Copy>(
    old: impl IntoIterator<Item = (K, V)>,
    new: impl IntoIterator<Item = (K, V)>,
    lead: Lead,
) -> Vec<(K, Pair<V>)> {
    let old: Vec<(K, V)> = old.into_iter().collect();
    let new: Vec<(K, V)> = new.into_iter().collect();
    let find = |list: &[(K, V)], key: K| list.iter().find(|(k, _)| *k == key).map(|&(_, v)| v);
    let removed = || {
        old.iter()
            .filter(|&&(k, _)| find(&new, k).is_none())
            .map(|&(k, v)| (k, Pair::Removed(v)))
    };
    let added = || {
        new.iter()
            .filter(|&&(k, _)| find(&old, k).is_none())
            .map(|&(k, v)| (k, Pair::Added(v)))
    };
    match lead {
        Lead::Old => old
            .iter()
            .map(|&(k, v)| match find(&new, k) {
                Some(w) => (k, Pair::Both(v, w)),
                None => (k, Pair::Removed(v)),
            })
            .chain(added())
            .collect(),
        Lead::New => removed()
            .chain(new.iter().map(|&(k, w)| match find(&old, k) {
                Some(v) => (k, Pair::Both(v, w)),
                None => (k, Pair::Added(w)),
            }))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lead_keeps_its_order() {
        let old = [("a", 1), ("b", 2), ("c", 3)];
        let new = [("d", 4), ("c", 30), ("a", 10)];
        assert_eq!(
            keyed_diff(old, new, Lead::Old),
            vec![
                ("a", Pair::Both(1, 10)),
                ("b", Pair::Removed(2)),
                ("c", Pair::Both(3, 30)),
                ("d", Pair::Added(4)),
            ]
        );
        assert_eq!(
            keyed_diff(old, new, Lead::New),
            vec![
                ("b", Pair::Removed(2)),
                ("d", Pair::Added(4)),
                ("c", Pair::Both(3, 30)),
                ("a", Pair::Both(1, 10)),
            ]
        );
    }
}
