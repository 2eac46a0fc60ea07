//! Small edits of a spec document: set or remove the value at a JSON pointer.

use serde_json::Value;

/// One edit of a document.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Put the value at the pointer: insert into an object, replace an array item, or append to
    /// an array when the last segment is `-`.
    Set(&'static str, Value),
    /// Remove the object key or array item at the pointer.
    Remove(&'static str),
}

/// Sets `pointer` to `value`.
pub fn set(pointer: &'static str, value: Value) -> Edit {
    Edit::Set(pointer, value)
}

/// Removes what is at `pointer`.
pub fn remove(pointer: &'static str) -> Edit {
    Edit::Remove(pointer)
}

impl Edit {
    /// Applies the edit; panics naming the pointer when its parent is missing.
    pub fn apply(&self, document: &mut Value) {
        let pointer = match self {
            Edit::Set(pointer, _) | Edit::Remove(pointer) => *pointer,
        };
        let (parent, last) = pointer.rsplit_once('/').expect("a pointer starts with /");
        let last = last.replace("~1", "/").replace("~0", "~");
        let parent = document
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("{pointer}: no parent in the document"));
        match (self, parent) {
            (Edit::Set(_, value), Value::Object(map)) => {
                map.insert(last, value.clone());
            }
            (Edit::Set(_, value), Value::Array(list)) if last == "-" => list.push(value.clone()),
            (Edit::Set(_, value), Value::Array(list)) => {
                list[index(pointer, &last)] = value.clone()
            }
            (Edit::Remove(_), Value::Object(map)) => {
                map.remove(&last)
                    .unwrap_or_else(|| panic!("{pointer}: nothing to remove"));
            }
            (Edit::Remove(_), Value::Array(list)) => {
                list.remove(index(pointer, &last));
            }
            (_, other) => panic!("{pointer}: the parent is not an object or array: {other}"),
        }
    }
}

fn index(pointer: &str, segment: &str) -> usize {
    segment
        .parse()
        .unwrap_or_else(|_| panic!("{pointer}: {segment:?} is not an array index"))
}
