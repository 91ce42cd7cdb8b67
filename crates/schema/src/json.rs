//! JSON text read into values as serde_json reads it, except that an object naming a key
//! twice is an error: serde_json would keep the last value without a word, and a record
//! must be stored as it came or set aside.

use std::fmt;

use serde::de::{DeserializeSeed, Error, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// Reads one JSON value (the whole of `bytes`, whitespace around it allowed).
pub fn parse_value(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    parse_value_sized(bytes, 0)
}

/// Reads one JSON value as [`parse_value`] does, making room at once for `fields` members
/// when it is an object (the previous record's, say): a map grown key by key is moved and
/// rehashed at each doubling.
pub fn parse_value_sized(bytes: &[u8], fields: usize) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = UniqueKeys { fields }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// The error for an object naming `key` twice.
pub(crate) fn named_twice<E: Error>(key: &str) -> E {
    E::custom(format!("the key `{key}` appears twice in one object"))
}

/// Builds a [`Value`], refusing repeated keys at any depth.
#[derive(Default)]
pub(crate) struct UniqueKeys {
    /// The members an object read at the top is expected to have.
    pub fields: usize,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(UniqueKeys::default())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::with_capacity(self.fields);
        while let Some(key) = map.next_key::<String>()? {
            match object.entry(key) {
                Entry::Occupied(entry) => return Err(named_twice(entry.key())),
                Entry::Vacant(entry) => {
                    entry.insert(map.next_value_seed(UniqueKeys::default())?);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [r#"{"a":[1,-2,3.5,"x\u00e9",null,true,{"b":{}}],"c":18446744073709551615}"#, "[]", "  7 ", r#""s""#] {
            assert_eq!(parse_value(text.as_bytes()).unwrap(), serde_json::from_str::<Value>(text).unwrap(), "{text}");
        }
        assert_eq!(parse_value(br#"{"a":{"a":1},"b":{"a":2}}"#).unwrap(), json!({"a": {"a": 1}, "b": {"a": 2}}));
    }

    #[test]
    fn repeated_keys_and_bad_text_are_errors() {
        let error = parse_value(br#"{"a":1,"b":{"k":1,"k":2}}"#).unwrap_err().to_string();
        assert!(error.starts_with("the key `k` appears twice in one object at line 1 column"), "{error}");
        assert!(parse_value(br#"{"a":1,"a":1}"#).is_err());
        assert!(parse_value(b"{\"a\":\"caf\xe9\"}").is_err());
        assert!(parse_value(b"{} {}").is_err());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_value(deep.as_bytes()).unwrap_err().to_string().contains("recursion limit"));
    }
}
