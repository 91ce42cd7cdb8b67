//! Spark's type DDL, as `from_json` takes a schema (`a INT, b ARRAY<STRING>`,
//! `STRUCT<user: STRUCT<name: STRING>>`, `MAP<STRING, INT>`) and `schema_of_json` writes one.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, TimeUnit};

/// The Arrow type of the Spark DDL `text`: a type, or a list of `name type` fields (a
/// struct). The error says where the text stops making sense.
pub fn parse(text: &str) -> Result<DataType, String> {
    let mut as_type = Reader { text, at: 0, depth: 0 };
    let type_error = match as_type.data_type() {
        Ok(t) if as_type.finished() => return Ok(t),
        Ok(_) => as_type.error("the end of the schema"),
        Err(error) => error,
    };
    let mut as_fields = Reader { text, at: 0, depth: 0 };
    match as_fields.fields(None) {
        Ok(fields) => Ok(DataType::Struct(fields)),
        // The reading that went further says what is wrong.
        Err(_) if as_type.at > as_fields.at => Err(type_error),
        Err(error) => Err(error),
    }
}

/// `data_type` written as Spark writes a type (`STRUCT<a: BIGINT, b: ARRAY<STRING>>`).
pub fn write(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p},{s})"),
        DataType::Date32 => "DATE".into(),
        DataType::Timestamp(..) => "TIMESTAMP".into(),
        DataType::Binary => "BINARY".into(),
        DataType::List(f) => format!("ARRAY<{}>", write(f.data_type())),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!("MAP<{}, {}>", write(kv[0].data_type()), write(kv[1].data_type())),
            other => write(other),
        },
        DataType::Struct(fields) => {
            let fields: Vec<String> = fields.iter().map(|f| format!("{}: {}", quoted(f.name()), write(f.data_type()))).collect();
            format!("STRUCT<{}>", fields.join(", "))
        }
        _ => "STRING".into(),
    }
}

fn quoted(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.is_empty() {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

/// The Arrow type of a map from `key` to `value`.
pub fn map_type(key: DataType, value: DataType) -> DataType {
    let entries = Fields::from(vec![Field::new("key", key, false), Field::new("value", value, true)]);
    DataType::Map(Arc::new(Field::new("entries", DataType::Struct(entries), false)), false)
}

/// The deepest nesting of ARRAY, MAP and STRUCT a schema may have.
const DEEPEST: usize = 64;

struct Reader<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn finished(&mut self) -> bool {
        self.skip_space();
        self.rest().is_empty()
    }

    fn error(&self, wanted: &str) -> String {
        format!("the schema '{}': expected {wanted} at character {}", self.text, self.at + 1)
    }

    /// Takes `symbol` if it comes next.
    fn take(&mut self, symbol: char) -> bool {
        self.skip_space();
        if self.rest().starts_with(symbol) {
            self.at += symbol.len_utf8();
            return true;
        }
        false
    }

    fn expect(&mut self, symbol: char) -> Result<(), String> {
        if self.take(symbol) { Ok(()) } else { Err(self.error(&format!("'{symbol}'"))) }
    }

    /// A name: letters, digits and `_`, or anything in backticks.
    fn name(&mut self) -> Result<String, String> {
        self.skip_space();
        if let Some(quoted) = self.rest().strip_prefix('`') {
            let mut name = String::new();
            let mut chars = quoted.char_indices();
            while let Some((i, c)) = chars.next() {
                if c == '`' {
                    if quoted[i + 1..].starts_with('`') {
                        name.push('`');
                        chars.next();
                        continue;
                    }
                    self.at += 1 + i + 1;
                    return Ok(name);
                }
                name.push(c);
            }
            return Err(self.error("a closing '`'"));
        }
        let length = self.rest().find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(self.rest().len());
        if length == 0 {
            return Err(self.error("a name"));
        }
        let name = self.rest()[..length].to_string();
        self.at += length;
        Ok(name)
    }

    fn number(&mut self) -> Result<u8, String> {
        self.skip_space();
        let length = self.rest().find(|c: char| !c.is_ascii_digit()).unwrap_or(self.rest().len());
        let value = self.rest()[..length].parse().map_err(|_| self.error("a number up to 255"))?;
        self.at += length;
        Ok(value)
    }

    /// `name type, ...` (or `name: type` inside `STRUCT<...>`) until `close`, or the end.
    fn fields(&mut self, close: Option<char>) -> Result<Fields, String> {
        let mut fields = Vec::new();
        loop {
            if let Some(close) = close
                && fields.is_empty()
                && self.take(close)
            {
                return Ok(Fields::from(fields));
            }
            let name = self.name()?;
            self.take(':');
            let data_type = self.data_type()?;
            self.skip_space();
            // A trailing `NOT NULL` or `COMMENT '...'` is not part of the type.
            fields.push(Field::new(name, data_type, true));
            if self.take(',') {
                continue;
            }
            match close {
                Some(close) => {
                    self.expect(close)?;
                    return Ok(Fields::from(fields));
                }
                None if self.finished() => return Ok(Fields::from(fields)),
                None => return Err(self.error("',' or the end of the schema")),
            }
        }
    }

    fn data_type(&mut self) -> Result<DataType, String> {
        if self.depth >= DEEPEST {
            return Err(format!("the schema '{}' nests types more than {DEEPEST} deep", self.text));
        }
        self.depth += 1;
        let read = self.nested_type();
        self.depth -= 1;
        read
    }

    fn nested_type(&mut self) -> Result<DataType, String> {
        let start = self.at;
        let name = self.name()?.to_ascii_uppercase();
        let data_type = match name.as_str() {
            "STRING" | "VARCHAR" | "CHAR" => {
                if self.take('(') {
                    self.number()?;
                    self.expect(')')?;
                }
                DataType::Utf8
            }
            "BOOLEAN" | "BOOL" => DataType::Boolean,
            "TINYINT" | "BYTE" => DataType::Int8,
            "SMALLINT" | "SHORT" => DataType::Int16,
            "INT" | "INTEGER" => DataType::Int32,
            "BIGINT" | "LONG" => DataType::Int64,
            "FLOAT" | "REAL" => DataType::Float32,
            "DOUBLE" => DataType::Float64,
            "DATE" => DataType::Date32,
            "TIMESTAMP" | "TIMESTAMP_NTZ" | "TIMESTAMP_LTZ" => DataType::Timestamp(TimeUnit::Microsecond, None),
            "BINARY" => DataType::Binary,
            "DECIMAL" | "DEC" | "NUMERIC" => {
                let (mut precision, mut scale) = (10, 0);
                if self.take('(') {
                    precision = self.number()?;
                    if self.take(',') {
                        scale = self.number()?;
                    }
                    self.expect(')')?;
                }
                if precision == 0 || precision > 38 || scale > precision {
                    return Err(format!("the schema '{}': DECIMAL({precision},{scale}) is not a decimal Spark has", self.text));
                }
                DataType::Decimal128(precision, scale as i8)
            }
            "ARRAY" => {
                self.expect('<')?;
                let element = self.data_type()?;
                self.expect('>')?;
                DataType::new_list(element, true)
            }
            "MAP" => {
                self.expect('<')?;
                let key = self.data_type()?;
                self.expect(',')?;
                let value = self.data_type()?;
                self.expect('>')?;
                map_type(key, value)
            }
            "STRUCT" => {
                self.expect('<')?;
                DataType::Struct(self.fields(Some('>'))?)
            }
            _ => {
                self.at = start;
                return Err(self.error("a type (STRING, INT, BIGINT, DOUBLE, BOOLEAN, DECIMAL, DATE, TIMESTAMP, BINARY, ARRAY<...>, MAP<...>, STRUCT<...>)"));
            }
        };
        Ok(data_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_spark_types() {
        for ddl in ["STRUCT<a: BIGINT, b: ARRAY<STRUCT<c: STRING>>, d: DOUBLE, e: BOOLEAN>", "ARRAY<INT>", "MAP<STRING, ARRAY<DECIMAL(5,2)>>", "STRUCT<`a b`: DATE>"] {
            assert_eq!(write(&parse(ddl).unwrap()), ddl);
        }
        assert_eq!(write(&parse("a INT, b map<string,int>").unwrap()), "STRUCT<a: INT, b: MAP<STRING, INT>>");
        assert_eq!(write(&parse("time Timestamp").unwrap()), "STRUCT<time: TIMESTAMP>");
    }

    #[test]
    fn says_where_a_schema_goes_wrong() {
        assert_eq!(parse("a INT,").unwrap_err(), "the schema 'a INT,': expected a name at character 7");
        assert!(parse("a WIBBLE").unwrap_err().contains("expected a type"));
        assert!(parse("ARRAY<INT").unwrap_err().contains("expected '>'"));
        assert!(parse("a DECIMAL(40,2)").unwrap_err().contains("DECIMAL(40,2)"));
        assert!(parse("`a").unwrap_err().contains("closing '`'"));
        assert!(parse(&format!("{}INT{}", "ARRAY<".repeat(100), ">".repeat(100))).unwrap_err().contains("more than 64 deep"));
    }
}
