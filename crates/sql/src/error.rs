//! Errors of SQL work, worded for the person who typed the query.

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;

/// Why a query or a table could not be served.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("{0}")]
    Query(String),
    #[error("table {name}: {message}")]
    Table { name: String, message: String },
    #[error(transparent)]
    Lake(#[from] hela_lake::LakeError),
    #[error("cannot write the result: {0}")]
    Output(String),
}

impl From<DataFusionError> for SqlError {
    fn from(error: DataFusionError) -> Self {
        SqlError::Query(explain(&error))
    }
}

/// Words a DataFusion error plainly; an unknown column names the closest columns there are.
pub fn explain(error: &DataFusionError) -> String {
    if let DataFusionError::SchemaError(schema_error, _) = error.find_root()
        && let SchemaError::FieldNotFound { field, valid_fields } = schema_error.as_ref()
    {
        let wanted = field.name.as_str();
        let mut scored: Vec<(f64, String)> = valid_fields
            .iter()
            .map(|c| (strsim::jaro_winkler(&wanted.to_lowercase(), &c.name.to_lowercase()), c.flat_name()))
            .filter(|(score, _)| *score > 0.8)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        scored.dedup_by(|a, b| a.1 == b.1);
        let suggestions: Vec<String> = scored.into_iter().take(5).map(|(_, name)| format!("`{name}`")).collect();
        return match suggestions.is_empty() {
            true => format!("unknown column `{}`", field.flat_name()),
            false => format!("unknown column `{}`; did you mean {}?", field.flat_name(), suggestions.join(", ")),
        };
    }
    let text = error.find_root().to_string();
    unsupported_spark_function(&text).or_else(|| unsupported_arguments(&text)).or_else(|| unsupported_form(&text)).unwrap_or(text)
}

/// Spark forms hela does not read yet, by a phrase of the error they lead to, with what to
/// write instead.
const UNSUPPORTED_FORMS: &[(&str, &str)] = &[
    ("Unsupported function argument type: ", "hela does not support arguments given by name (`input => x`) yet: give them in order"),
    (".VALUES' not found", "hela does not support `VALUES` rows without parentheses yet: write `VALUES (1), (2)`"),
];

/// The error for a Spark form hela does not read: it says so, then DataFusion's words.
fn unsupported_form(text: &str) -> Option<String> {
    let (_, message) = UNSUPPORTED_FORMS.iter().find(|(phrase, _)| text.contains(phrase))?;
    Some(format!("{message} ({text})"))
}

/// The phrases of DataFusion's errors for a function called with arguments of types or in
/// a number it has no form for.
const NO_SUCH_FORM: &[&str] = &["Failed to coerce arguments to satisfy a call to '", "requires String, but received", "No function matches the given name and argument types", "expected zero argument", "failed to match any signature", "user-defined coercion failed", "arguments but received"];

/// The error for a call of a function hela has, with arguments it takes in no form (Spark
/// may take them: binary text, intervals, more arguments): it says so, then why.
fn unsupported_arguments(text: &str) -> Option<String> {
    if !NO_SUCH_FORM.iter().any(|phrase| text.contains(phrase)) {
        return None;
    }
    let name = text.split(['\'', '`']).nth(1).unwrap_or("the function");
    Some(format!("hela does not support `{name}` with these arguments yet (docs/spark-functions.md lists each function's state): {text}"))
}

/// Spark's built-in function names (written by `tests/spark_functions/record.py`).
const SPARK_BUILTINS: &str = include_str!("spark/builtins.txt");

/// Ways to the answer of Spark functions hela does not have.
const NEAREST: &[(&str, &str)] = &[
    ("session_window", "window(ts, 'N minutes') for fixed windows, or lag() over the host's events to find the gaps"),
];

/// The error for a call of one of Spark's built-in functions that hela lacks: it says so,
/// points at the list of functions, and names a way to the same answer when there is one.
fn unsupported_spark_function(text: &str) -> Option<String> {
    let after = text.split("Invalid function '").nth(1).or_else(|| text.split("table function '").nth(1))?;
    let name = after.split('\'').next()?.to_ascii_lowercase();
    if !SPARK_BUILTINS.lines().any(|builtin| builtin == name) {
        return None;
    }
    let mut message = format!("`{name}` is one of Spark's built-in functions that hela does not support yet (docs/spark-functions.md lists every function's state)");
    if let Some((_, way)) = NEAREST.iter().find(|(n, _)| *n == name) {
        message.push_str(&format!("; instead: {way}"));
    } else if let Some(suggestion) = text.split("Did you mean '").nth(1).and_then(|s| s.split('\'').next()) {
        message.push_str(&format!("; the nearest function hela has is `{suggestion}`"));
    }
    Some(message)
}
