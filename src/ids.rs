//! Typed resource ids. The generator declares one type per kind of Deck resource id
//! (`TaskRunId`, `TaskId`, `AgentId`, …) where the overlay says a field or parameter refers to
//! that resource; this macro gives them all the same behaviour, tested once here.
//!
//! An id converts from a string (`"trun_…"`, a `String`, a `&String`: ids come from databases and
//! URLs) and from a reference to itself, so `.run_id(&run.id)` and `.run_id("trun_…")` both
//! compile; one kind of id does not convert into another, so passing a task's id where a run's is
//! expected does not compile. There is no format check: Deck says id length and format may change.

/// The behaviour of a resource id type the generator declares as `pub struct TaskRunId(String)`
/// (used by the generated code; `#[doc(hidden)]` because users never invoke it).
#[doc(hidden)]
#[macro_export]
macro_rules! __deck_resource_id {
    ($name:ident) => {
        impl $name {
            /// Wraps a string as this kind of id (no format check).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as Deck sends it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self(s.to_string()))
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&String> for $name {
            fn from(id: &String) -> Self {
                Self(id.clone())
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_string())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(dead_code)]

    #[derive(
        Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
    )]
    #[serde(transparent)]
    struct RunId(String);
    crate::__deck_resource_id!(RunId);

    #[derive(
        Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
    )]
    #[serde(transparent)]
    struct TaskId(String);
    crate::__deck_resource_id!(TaskId);

    fn takes_run(id: impl Into<RunId>) -> RunId {
        id.into()
    }

    #[test]
    fn ids_convert_from_strings_and_themselves_compare_and_serialise_as_strings() {
        let owned = String::from("trun_1");
        let run = takes_run("trun_1");
        assert_eq!(takes_run(&owned), run);
        assert_eq!(takes_run(owned.clone()), run);
        assert_eq!(takes_run(&run), run);
        assert_eq!(run, "trun_1");
        assert_eq!("trun_1", run);
        assert_eq!(run, owned);
        assert_eq!(run.as_str(), "trun_1");
        assert_eq!(run.len(), 6, "derefs to str");
        assert_eq!(format!("{run} {run:?}"), "trun_1 \"trun_1\"");
        assert_eq!(serde_json::to_string(&run).unwrap(), "\"trun_1\"");
        assert_eq!(serde_json::from_str::<RunId>("\"x\"").unwrap(), "x");
        let mut by_id = std::collections::HashMap::new();
        by_id.insert(run.clone(), 1);
        assert_eq!(by_id.get("trun_1"), Some(&1), "looked up by &str");
        let task = TaskId::new("task_1");
        assert_eq!(String::from(task.clone()), "task_1");
        // `takes_run(task)` does not compile: one kind of id is not another (see
        // tests/ui in the crate docs: `Client::get_task_run`).
        let _ = task;
    }
}
