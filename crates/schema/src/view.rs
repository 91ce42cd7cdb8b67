//! What learning shapes and building arrays read of a JSON value, however it is held: a
//! serde_json [`Value`], or a value of a [`crate::Tape`].

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

/// A JSON number as read: a whole number that fits 64 signed bits, one beyond that fits 64
/// unsigned bits, or any other number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JsonNumber {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl JsonNumber {
    /// The number as a serde_json number (`None` for a float that is not finite).
    pub fn to_number(self) -> Option<Number> {
        match self {
            JsonNumber::Int(i) => Some(i.into()),
            JsonNumber::UInt(u) => Some(u.into()),
            JsonNumber::Float(f) => Number::from_f64(f),
        }
    }
}

/// What a JSON value is, with what it holds; an array or object is the value itself, whose
/// [`JsonView::items`] or [`JsonView::members`] are read.
#[derive(Debug, Clone, Copy)]
pub enum Json<'a, V> {
    Null,
    Bool(bool),
    Number(JsonNumber),
    Str(&'a str),
    Array(V),
    Object(V),
}

/// A JSON value read in place.
pub trait JsonView<'a>: Copy + 'a {
    /// What the value is.
    fn kind(self) -> Json<'a, Self>;

    /// The items of an array (none for any other value).
    fn items(self) -> impl Iterator<Item = Self> + 'a;

    /// The members of an object, in the order read (none for any other value).
    fn members(self) -> impl Iterator<Item = (&'a str, Self)> + 'a;

    /// The value as a serde_json value (made when it is not one).
    fn to_value(self) -> Cow<'a, Value>;

    #[inline]
    fn is_null(self) -> bool {
        matches!(self.kind(), Json::Null)
    }

    #[inline]
    fn as_bool(self) -> Option<bool> {
        match self.kind() {
            Json::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a signed 64-bit whole number, when it is one.
    #[inline]
    fn as_i64(self) -> Option<i64> {
        match self.kind() {
            Json::Number(JsonNumber::Int(i)) => Some(i),
            _ => None,
        }
    }

    /// The value as a double, when it is a number.
    #[inline]
    fn as_f64(self) -> Option<f64> {
        match self.kind() {
            Json::Number(JsonNumber::Int(i)) => Some(i as f64),
            Json::Number(JsonNumber::UInt(u)) => Some(u as f64),
            Json::Number(JsonNumber::Float(f)) => Some(f),
            _ => None,
        }
    }

    #[inline]
    fn as_str(self) -> Option<&'a str> {
        match self.kind() {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'a> JsonView<'a> for &'a Value {
    #[inline]
    fn kind(self) -> Json<'a, Self> {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => JsonNumber::Int(i),
                (None, Some(u)) => JsonNumber::UInt(u),
                (None, None) => JsonNumber::Float(n.as_f64().unwrap_or(f64::NAN)),
            }),
            Value::String(s) => Json::Str(s),
            Value::Array(_) => Json::Array(self),
            Value::Object(_) => Json::Object(self),
        }
    }

    #[inline]
    fn items(self) -> impl Iterator<Item = Self> + 'a {
        self.as_array().into_iter().flatten()
    }

    #[inline]
    fn members(self) -> impl Iterator<Item = (&'a str, Self)> + 'a {
        self.as_object().into_iter().flat_map(map_members)
    }

    #[inline]
    fn to_value(self) -> Cow<'a, Value> {
        Cow::Borrowed(self)
    }
}

/// The members of a serde_json object, as views.
pub fn map_members(map: &Map<String, Value>) -> impl Iterator<Item = (&str, &Value)> {
    map.iter().map(|(name, value)| (name.as_str(), value))
}
