//! The older aggregation in a rule's condition, `selection | count(Field) by Group > N`
//! with a `timeframe`, read as the correlation the specification replaces it with:
//! `count()` is an `event_count`, `count(Field)` a `value_count` of the field, `sum(Field)`
//! and `avg(Field)` a `value_sum` and `value_avg`, over the rule's own detections.

use super::{Bounds, Correlation, Input, Kind, Reference};
use crate::rule::Meta;

/// Splits a condition with an aggregation into the condition before the `|` and the
/// correlation after it; `None` when `text` has no aggregation. Without a `timeframe` the
/// window is unbounded in practice: a century.
pub fn aggregation(text: &str, meta: &Meta, timeframe: Option<&str>) -> Result<Option<(String, Correlation)>, String> {
    let Some((search, tail)) = text.split_once('|') else { return Ok(None) };
    let tail = tail.trim();
    let bad = || format!("the aggregation `| {tail}` is not `count([field]) [by field, ...] <op> <number>`");
    let open = tail.find('(').ok_or_else(bad)?;
    let close = tail.find(')').filter(|&c| c > open).ok_or_else(bad)?;
    let function = tail[..open].trim().to_ascii_lowercase();
    let field = tail[open + 1..close].trim().to_string();
    let mut rest = tail[close + 1..].trim();
    let mut group_by = Vec::new();
    if let Some(after) = rest.strip_prefix("by ").or_else(|| rest.strip_prefix("BY ")) {
        let end = after.find(['<', '>', '=', '!']).ok_or_else(bad)?;
        group_by = after[..end].split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect();
        rest = &after[end..];
    }
    let (op, number) = [">=", "<=", "==", "!=", ">", "<", "="]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|n| (*op, n.trim())))
        .ok_or_else(bad)?;
    let bound: f64 = number.parse().map_err(|_| bad())?;
    let mut bounds = Bounds::default();
    match op {
        ">" => bounds.gt = Some(bound),
        ">=" => bounds.gte = Some(bound),
        "<" => bounds.lt = Some(bound),
        "<=" => bounds.lte = Some(bound),
        "!=" => bounds.neq = Some(bound),
        _ => bounds.eq = Some(bound),
    }
    let kind = match (function.as_str(), field.is_empty()) {
        ("count", true) => Kind::EventCount,
        ("count", false) => Kind::ValueCount,
        ("sum", false) => Kind::ValueSum,
        ("avg", false) => Kind::ValueAvg,
        ("min" | "max", _) => return Err(format!("the aggregation `{function}()` has no correlation equivalent; write a correlation rule")),
        _ => return Err(bad()),
    };
    let timespan_ms = match timeframe {
        Some(text) => super::timespan_ms(text)?,
        None => 100 * 31_556_952_000,
    };
    let input = Input { reference: Reference::Itself, source: None, group_fields: Vec::new(), value_fields: Vec::new() };
    let fields = if field.is_empty() { Vec::new() } else { vec![field] };
    let correlation =
        Correlation { meta: meta.clone(), kind, inputs: vec![input], group_by, aliases: Vec::new(), fields, timespan_ms, bounds, generate: false, standalone: true };
    Ok(Some((search.trim().to_string(), correlation)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta::from_yaml(&serde_yaml::from_str("title: t").unwrap(), std::path::Path::new("r.yml")).unwrap()
    }

    #[test]
    fn counts_become_event_and_value_counts() {
        let (search, c) = aggregation("selection | count() by Computer, User > 5", &meta(), Some("10m")).unwrap().unwrap();
        assert_eq!(search, "selection");
        assert_eq!((c.kind, c.group_by.clone(), c.bounds.gt, c.timespan_ms), (Kind::EventCount, vec!["Computer".into(), "User".into()], Some(5.0), 600_000));
        let (_, c) = aggregation("1 of sel* | count(TargetUserName) by IpAddress >= 10", &meta(), Some("1h")).unwrap().unwrap();
        assert_eq!((c.kind, c.fields.clone(), c.bounds.gte), (Kind::ValueCount, vec!["TargetUserName".into()], Some(10.0)));
        let (_, c) = aggregation("sel | sum(Bytes) > 100", &meta(), None).unwrap().unwrap();
        assert_eq!((c.kind, c.group_by.len()), (Kind::ValueSum, 0));
        assert!(aggregation("selection and not filter", &meta(), None).unwrap().is_none());
    }

    #[test]
    fn what_cannot_be_read_says_so() {
        for bad in ["sel | count() by X", "sel | near a", "sel | count( > 5", "sel | count() > many"] {
            assert!(aggregation(bad, &meta(), None).unwrap_err().contains("is not `count("), "{bad}");
        }
        assert!(aggregation("sel | max(Size) > 5", &meta(), None).unwrap_err().contains("no correlation equivalent"));
    }
}
