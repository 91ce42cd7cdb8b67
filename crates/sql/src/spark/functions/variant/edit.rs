//! Changes to variants at a JSON path: `variant_insert` (a new member or array element;
//! an existing one is an error), `variant_set` (new or replaced; with `false` as a fourth
//! argument only replaced), `variant_delete` (any number of paths), `variant_array_append`
//! and `variant_strip_nulls`, each with a `try_` form where Spark has one (NULL instead of
//! an error). Missing objects on the way are made; an index past an array's end pads it
//! with nulls. A NULL value gives NULL.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;

use super::{Step, args, canonical, json_values, variant_field, variant_path as parse_path, variants};

/// The most nulls an index may pad an array with.
const MAX_PADDING: usize = 1 << 16;

pub fn all() -> Vec<ScalarUDF> {
    [
        ("variant_insert", Kind::Insert, false),
        ("try_variant_insert", Kind::Insert, true),
        ("variant_set", Kind::Set, false),
        ("try_variant_set", Kind::Set, true),
        ("variant_delete", Kind::Delete, false),
        ("variant_array_append", Kind::Append, false),
        ("try_variant_array_append", Kind::Append, true),
        ("variant_strip_nulls", Kind::StripNulls, false),
    ]
    .into_iter()
    .map(|(name, kind, lenient)| ScalarUDF::new_from_impl(Edit { name, kind, lenient, signature: Signature::user_defined(Volatility::Immutable) }))
    .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Insert,
    Set,
    Delete,
    Append,
    StripNulls,
}

/// What is done at the path.
enum Change<'a> {
    Insert(&'a Value),
    Set(&'a Value, bool),
    Delete,
    Append(&'a Value),
}

impl Change<'_> {
    /// Whether a missing step is made rather than the change skipped.
    fn makes_missing(&self) -> bool {
        matches!(self, Change::Insert(_) | Change::Set(_, true))
    }
}

/// A new container for the step after `next`: an array before an index, else an object.
fn container_for(next: &Step) -> Value {
    match next {
        Step::Index(_) | Step::Every => Value::Array(Vec::new()),
        Step::Field(_) => Value::Object(Default::default()),
    }
}

fn pad(items: &mut Vec<Value>, length: usize) -> Result<(), String> {
    if length > items.len() + MAX_PADDING {
        return Err(format!("index {length} would pad the array with more than {MAX_PADDING} nulls"));
    }
    items.resize(length.max(items.len()), Value::Null);
    Ok(())
}

/// `change` applied to `value` at `steps`.
fn apply(value: &mut Value, steps: &[Step], change: &Change) -> Result<(), String> {
    let Some((last, parents)) = steps.split_last() else {
        return match change {
            Change::Set(new, _) => {
                *value = (*new).clone();
                Ok(())
            }
            Change::Append(new) => match value {
                Value::Array(items) => {
                    items.push((*new).clone());
                    Ok(())
                }
                _ => Err("the value at the path is not an array".into()),
            },
            Change::Insert(_) => Err("the path $ is there already".into()),
            Change::Delete => Err("the whole variant cannot be deleted".into()),
        };
    };
    let mut current = value;
    for (i, step) in parents.iter().enumerate() {
        let next = parents.get(i + 1).unwrap_or(last);
        current = match (step, current) {
            (Step::Field(name), Value::Object(members)) => {
                if !members.contains_key(name) {
                    if !change.makes_missing() {
                        return Ok(());
                    }
                    members.insert(name.clone(), container_for(next));
                }
                members.get_mut(name).expect("there or made")
            }
            (Step::Index(index), Value::Array(items)) => {
                if *index >= items.len() {
                    if !change.makes_missing() {
                        return Ok(());
                    }
                    pad(items, *index + 1)?;
                    items[*index] = container_for(next);
                }
                &mut items[*index]
            }
            (step, _) => return Err(format!("the path goes through a value that is not {}", if matches!(step, Step::Field(_)) { "an object" } else { "an array" })),
        };
    }
    match (last, current) {
        (Step::Field(name), Value::Object(members)) => match change {
            Change::Insert(_) if members.contains_key(name) => Err(format!("the member '{name}' is there already")),
            Change::Insert(new) | Change::Set(new, true) => {
                members.insert(name.clone(), (*new).clone());
                Ok(())
            }
            Change::Set(new, false) => {
                if let Some(existing) = members.get_mut(name) {
                    *existing = (*new).clone();
                }
                Ok(())
            }
            Change::Delete => {
                members.remove(name);
                Ok(())
            }
            Change::Append(new) => match members.get_mut(name) {
                None => Ok(()),
                Some(Value::Array(items)) => {
                    items.push((*new).clone());
                    Ok(())
                }
                Some(_) => Err(format!("the member '{name}' is not an array")),
            },
        },
        (Step::Index(index), Value::Array(items)) => match change {
            Change::Insert(new) => {
                if *index <= items.len() {
                    items.insert(*index, (*new).clone());
                } else {
                    pad(items, *index)?;
                    items.push((*new).clone());
                }
                Ok(())
            }
            Change::Set(new, create) => {
                if *index < items.len() {
                    items[*index] = (*new).clone();
                } else if *create {
                    pad(items, *index)?;
                    items.push((*new).clone());
                }
                Ok(())
            }
            Change::Delete => {
                if *index < items.len() {
                    items.remove(*index);
                }
                Ok(())
            }
            Change::Append(new) => match items.get_mut(*index) {
                None => Ok(()),
                Some(Value::Array(inner)) => {
                    inner.push((*new).clone());
                    Ok(())
                }
                Some(_) => Err(format!("the element [{index}] is not an array")),
            },
        },
        (step, _) => match change {
            Change::Delete | Change::Append(_) | Change::Set(_, false) => Ok(()),
            _ => Err(format!("the path ends in a value that is not {}", if matches!(step, Step::Field(_)) { "an object" } else { "an array" })),
        },
    }
}

/// `value` without null members (and, when `in_arrays`, without null elements), deep.
fn strip_nulls(value: &mut Value, in_arrays: bool) {
    match value {
        Value::Object(members) => {
            members.retain(|_, v| !v.is_null());
            members.values_mut().for_each(|v| strip_nulls(v, in_arrays));
        }
        Value::Array(items) => {
            if in_arrays {
                items.retain(|v| !v.is_null());
            }
            items.iter_mut().for_each(|v| strip_nulls(v, in_arrays));
        }
        _ => {}
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Edit {
    name: &'static str,
    kind: Kind,
    lenient: bool,
    signature: Signature,
}

impl ScalarUDFImpl for Edit {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name;
        let mut types = arg_types.to_vec();
        let fits = match (self.kind, arg_types.len()) {
            (Kind::Insert | Kind::Append, 3) => true,
            (Kind::Set, 3 | 4) => true,
            (Kind::Delete, n) => n >= 2,
            (Kind::StripNulls, 1 | 2) => true,
            _ => false,
        };
        if !fits {
            return plan_err!("{name} does not take {} arguments", arg_types.len());
        }
        types[0] = DataType::Utf8;
        match self.kind {
            Kind::Delete => types[1..].iter_mut().for_each(|t| *t = DataType::Utf8),
            Kind::StripNulls | Kind::Set if types.len() == 4 || (self.kind == Kind::StripNulls && types.len() == 2) => {
                let flag = types.len() - 1;
                types[flag] = DataType::Boolean;
                if self.kind == Kind::Set {
                    types[1] = DataType::Utf8;
                }
            }
            Kind::StripNulls => {}
            _ => types[1] = DataType::Utf8,
        }
        Ok(types)
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(variant_field(self.name))
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let name = self.name;
        let arrays = call.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<ArrayRef>>>()?;
        let documents = variants(name, &arrays[0])?;
        let flag = |position: usize| match call.args.get(position) {
            Some(ColumnarValue::Scalar(ScalarValue::Boolean(value))) => Ok(value.unwrap_or(true)),
            Some(_) => exec_err!("{name}: the flag must be a constant true or false"),
            None => Ok(true),
        };
        let mut out: Vec<Option<String>> = Vec::with_capacity(rows);
        match self.kind {
            Kind::StripNulls => {
                let in_arrays = flag(1)?;
                for document in documents {
                    out.push(document.map(|mut d| {
                        strip_nulls(&mut d, in_arrays);
                        canonical(&d)
                    }));
                }
            }
            Kind::Delete => {
                let paths: Vec<_> = arrays[1..].iter().map(|p| p.as_string::<i32>().clone()).collect();
                for (row, document) in documents.into_iter().enumerate() {
                    let Some(mut document) = document else {
                        out.push(None);
                        continue;
                    };
                    for path in paths.iter().filter(|p| p.is_valid(row)).map(|p| p.value(row)) {
                        let steps = parse_path(path).or_else(|e| exec_err!("{name}: {e}"))?;
                        if let Err(why) = apply(&mut document, &steps, &Change::Delete) {
                            return exec_err!("{name}: {why}");
                        }
                    }
                    out.push(Some(canonical(&document)));
                }
            }
            kind => {
                let paths = arrays[1].as_string::<i32>();
                let values = json_values(&call.arg_fields[2], &arrays[2])?;
                let create = if kind == Kind::Set { flag(3)? } else { true };
                for (row, (document, value)) in documents.into_iter().zip(&values).enumerate() {
                    let (Some(mut document), Some(value), true) = (document, value, paths.is_valid(row)) else {
                        out.push(None);
                        continue;
                    };
                    let steps = parse_path(paths.value(row)).or_else(|e| exec_err!("{name}: {e}"))?;
                    let change = match kind {
                        Kind::Insert => Change::Insert(value),
                        Kind::Set => Change::Set(value, create),
                        _ => Change::Append(value),
                    };
                    match apply(&mut document, &steps, &change) {
                        Ok(()) => out.push(Some(canonical(&document))),
                        Err(_) if self.lenient => out.push(None),
                        Err(why) => return exec_err!("{name}: {why} (at '{}'){}", paths.value(row), if name.starts_with("variant_set") || name == "variant_delete" { String::new() } else { format!("; try_{name} gives NULL instead") }),
                    }
                }
            }
        }
        args::finish(Arc::new(StringArray::from(out)), args::all_scalar(&call.args))
    }
}

#[cfg(test)]
mod tests {
    use super::{Change, apply, canonical};
    use super::super::variant_path as parse_path;

    fn edited(json: &str, path: &str, change: Change) -> Result<String, String> {
        let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
        apply(&mut value, &parse_path(path).unwrap(), &change).map(|()| canonical(&value))
    }

    #[test]
    fn edits_at_paths_as_spark() {
        let z = serde_json::json!("z");
        assert_eq!(edited("{}", "$.a.b", Change::Insert(&serde_json::json!(1))).unwrap(), r#"{"a":{"b":1}}"#);
        assert_eq!(edited(r#"["a","b"]"#, "$[5]", Change::Insert(&z)).unwrap(), r#"["a","b",null,null,null,"z"]"#);
        assert!(edited(r#"{"a":1}"#, "$.a", Change::Insert(&z)).is_err());
        assert_eq!(edited(r#"["a","b","c"]"#, "$[5]", Change::Set(&z, true)).unwrap(), r#"["a","b","c",null,null,"z"]"#);
        assert_eq!(edited(r#"{"a":1}"#, "$.b", Change::Set(&z, false)).unwrap(), r#"{"a":1}"#);
        assert_eq!(edited(r#"{"items":[1,2,3]}"#, "$.items[0]", Change::Delete).unwrap(), r#"{"items":[2,3]}"#);
        assert_eq!(edited(r#"{"a":[1,2]}"#, "$.a", Change::Append(&serde_json::json!(3))).unwrap(), r#"{"a":[1,2,3]}"#);
        assert!(edited("[]", "$[100000000]", Change::Set(&z, true)).is_err());
    }
}
