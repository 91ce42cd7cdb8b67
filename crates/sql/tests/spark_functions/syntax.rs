//! Spark's statements and clauses (`syntax.sql`): each gives Spark's rows and column names,
//! or hela refuses it saying so. Each case runs in a session of its own.

use std::fmt::Write as _;

use hela_lake::RawEvents;
use hela_sql::Session;
use serde_json::Value;

use super::{comparable, here, lines, run, same, says_unsupported, short};

/// How one statement or clause went.
enum Outcome {
    Same,
    Refused(String),
    Different(String),
}

/// The document's section on statements and clauses.
pub fn section(runtime: &tokio::runtime::Runtime) -> String {
    let mut outcomes = Vec::new();
    for answer in lines(&here().join("syntax.jsonl")) {
        let (name, sql) = (answer["name"].as_str().unwrap().to_string(), answer["sql"].as_str().unwrap().to_string());
        if answer.get("volatile").is_some() {
            continue;
        }
        let mut warn = |w: String| eprintln!("warning: {w}");
        let session = Session::new(None, &[], &RawEvents::default(), &mut warn).unwrap();
        let spark_names: Option<Vec<String>> = answer.get("columns").and_then(|c| serde_json::from_value(c.clone()).ok());
        let outcome = match (answer.get("rows"), run(&session, runtime, &sql)) {
            (Some(rows), Ok((names, hela))) if Some(&names) == spark_names.as_ref() && same(&comparable(rows, &sql), &comparable(&Value::Array(hela.clone()), &sql)) => Outcome::Same,
            (None, Err(_)) => Outcome::Same,
            (_, Err(error)) if says_unsupported(&error) => Outcome::Refused(error),
            (Some(rows), Ok((names, hela))) => Outcome::Different(format!(
                "Spark {} {}, hela {} {}",
                Value::from(spark_names.unwrap_or_default()),
                rows,
                Value::from(names),
                Value::Array(hela)
            )),
            (None, Ok((_, hela))) => Outcome::Different(format!("Spark error {}, hela {}", answer["error"], Value::Array(hela))),
            (Some(rows), Err(error)) => Outcome::Different(format!("Spark {rows}, hela error: {error}")),
        };
        outcomes.push((name, sql, outcome));
    }
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|(_, _, o)| f(o)).count();
    let (same_count, refused, different) = (count(|o| matches!(o, Outcome::Same)), count(|o| matches!(o, Outcome::Refused(_))), count(|o| matches!(o, Outcome::Different(_))));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "## Statements and clauses\n\nEach case of `crates/sql/tests/spark_functions/syntax.sql` (Spark's SQL syntax reference: query clauses and the auxiliary statements notebooks use), in a session of its own: *same as Spark* when its rows and column names are Spark's (or both refuse it), *refused* when hela says it does not support it, *different* otherwise.\n\n{same_count} of {} the same as Spark; {refused} refused; {different} different.\n\n| statement or clause | state | case · what differs |\n|---|---|---|",
        outcomes.len()
    );
    for (name, sql, outcome) in &outcomes {
        let (state, note) = match outcome {
            Outcome::Same => ("same as Spark", format!("`{}`", short(sql))),
            Outcome::Refused(error) => ("refused", format!("`{}`: {}", short(sql), short(error))),
            Outcome::Different(what) => ("different", format!("`{}`: {}", short(sql), short(what))),
        };
        let _ = writeln!(text, "| {} | {state} | {note} |", name.replace('|', "\\|"));
    }
    text
}
