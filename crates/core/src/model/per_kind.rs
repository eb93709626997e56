//! One value per kind of target, indexed by the kind and written as a JSON object keyed by each kind's one
//! name (`{"fsx": .., "ec2": .., "efs": ..}`): a new kind is a new `TargetKind` and its `KindInfo`, and
//! every container of this type (the counts, the inventory's files, the report's results) has it.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::run::TargetKind;

const KINDS: usize = TargetKind::ALL.len();

/// One value per kind of target (a count by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerKind<T = u32>([T; KINDS]);

impl<T> PerKind<T> {
    /// Each kind's value, made by `value`.
    pub fn from_fn(mut value: impl FnMut(TargetKind) -> T) -> Self {
        Self(TargetKind::ALL.map(&mut value))
    }

    /// Each kind's value, made by `value`, or its first error.
    pub fn try_from_fn<E>(value: impl FnMut(TargetKind) -> Result<T, E>) -> Result<Self, E> {
        let values: Vec<T> = TargetKind::ALL.into_iter().map(value).collect::<Result<_, E>>()?;
        Ok(Self(values.try_into().unwrap_or_else(|_| unreachable!("one value per kind"))))
    }

    pub fn get(&self, kind: TargetKind) -> &T {
        &self.0[kind as usize]
    }

    pub fn get_mut(&mut self, kind: TargetKind) -> &mut T {
        &mut self.0[kind as usize]
    }

    /// Every kind's value, in [`TargetKind::ALL`]'s order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }

    /// Every kind with its value.
    pub fn iter(&self) -> impl Iterator<Item = (TargetKind, &T)> {
        TargetKind::ALL.into_iter().zip(self.0.iter())
    }
}

impl<T> Index<TargetKind> for PerKind<T> {
    type Output = T;
    fn index(&self, kind: TargetKind) -> &T {
        self.get(kind)
    }
}

impl<T> IndexMut<TargetKind> for PerKind<T> {
    fn index_mut(&mut self, kind: TargetKind) -> &mut T {
        self.get_mut(kind)
    }
}

impl<T: Serialize> Serialize for PerKind<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(KINDS))?;
        for (kind, value) in self.iter() {
            map.serialize_entry(kind.as_str(), value)?;
        }
        map.end()
    }
}

/// The kind a JSON key names, if any.
pub(crate) fn kind_named(key: &str) -> Option<TargetKind> {
    TargetKind::ALL.into_iter().find(|kind| kind.as_str() == key)
}

/// Reads every kind's value from a map, handing each other key to `other` (which refuses it or reads it).
pub(crate) fn read_kinds<'de, T, A, F>(mut map: A, mut other: F) -> Result<PerKind<T>, A::Error>
where
    T: Deserialize<'de>,
    A: MapAccess<'de>,
    F: FnMut(String, &mut A) -> Result<(), A::Error>,
{
    let mut values: [Option<T>; KINDS] = Default::default();
    while let Some(key) = map.next_key::<String>()? {
        match kind_named(&key) {
            Some(kind) if values[kind as usize].is_some() => {
                return Err(de::Error::custom(format!("duplicate field `{key}`")))
            }
            Some(kind) => values[kind as usize] = Some(map.next_value()?),
            None => other(key, &mut map)?,
        }
    }
    if let Some(kind) = TargetKind::ALL.into_iter().find(|kind| values[*kind as usize].is_none()) {
        return Err(de::Error::missing_field(kind.as_str()));
    }
    Ok(PerKind(values.map(|value| value.expect("every kind was read"))))
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PerKind<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PerKindVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for PerKindVisitor<T> {
            type Value = PerKind<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object with a field per kind of target (fsx, ec2, efs)")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PerKind<T>, A::Error> {
                // Other keys are left alone: a PerKind is flattened into larger objects.
                read_kinds(map, |_, map| map.next_value::<IgnoredAny>().map(drop))
            }
        }
        deserializer.deserialize_map(PerKindVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn written_and_read_by_each_kinds_name() {
        let counts = PerKind::from_fn(|kind| kind as u32 + 1);
        assert_eq!(serde_json::to_value(counts).unwrap(), json!({"fsx": 1, "ec2": 2, "efs": 3}));
        let read: PerKind = serde_json::from_value(json!({"efs": 3, "fsx": 1, "ec2": 2, "other": true})).unwrap();
        assert_eq!(read, counts);
        assert_eq!(read[TargetKind::Ec2], 2);
    }

    #[test]
    fn a_missing_kind_or_one_given_twice_is_named() {
        let err = serde_json::from_value::<PerKind>(json!({"fsx": 1, "ec2": 2})).unwrap_err();
        assert!(err.to_string().contains("missing field `efs`"), "{err}");
        let err = serde_json::from_str::<PerKind>(r#"{"fsx": 1, "ec2": 2, "efs": 3, "fsx": 4}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate field `fsx`"), "{err}");
    }
}
