//! A correlation rule read from its YAML document.

use std::path::Path;

use serde_yaml::Value;

use super::{Aliases, Bounds, Correlation, Input, Kind, Reference};
use crate::rule::Meta;

/// The correlation of a YAML document that has a `correlation` map; the error says why it
/// cannot be used.
pub fn parse(document: &Value, path: &Path) -> Result<Correlation, String> {
    let meta = Meta::from_yaml(document, path)?;
    let body = document.get("correlation").and_then(Value::as_mapping).ok_or("`correlation` is not a map")?;
    let get = |key: &str| body.get(key);
    let kind_name = get("type").and_then(Value::as_str).ok_or("correlation has no `type`")?;
    let references: Vec<String> = match get("rules") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Sequence(list)) => {
            list.iter().map(|r| scalar(r).ok_or("a reference in `rules` is not a name or id")).collect::<Result<_, _>>()?
        }
        _ => return Err("correlation has no `rules`".into()),
    };
    if references.is_empty() {
        return Err("correlation's `rules` is empty".into());
    }
    let group_by = match get("group-by") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Sequence(list)) => list.iter().map(|f| scalar(f).ok_or("a `group-by` entry is not a field name")).collect::<Result<_, _>>()?,
        Some(_) => return Err("`group-by` is not a list of field names".into()),
    };
    let span = get("timeframe").or_else(|| get("timespan")).ok_or("correlation has no `timespan`")?;
    let timespan_ms = timespan_ms(&scalar(span).ok_or("`timespan` is not a duration")?)?;
    let aliases = aliases(get("aliases"))?;
    let (bounds, fields, percentile) = condition(get("condition"))?;
    let kind = match kind_name {
        "event_count" => Kind::EventCount,
        "value_count" => Kind::ValueCount,
        "temporal" => Kind::Temporal,
        "temporal_ordered" => Kind::TemporalOrdered,
        "value_sum" => Kind::ValueSum,
        "value_avg" => Kind::ValueAvg,
        "value_percentile" => Kind::ValuePercentile(percentile.unwrap_or(50.0)),
        "value_median" => Kind::ValueMedian,
        other => return Err(format!("unknown correlation type `{other}`")),
    };
    if bounds.is_empty() && !matches!(kind, Kind::Temporal | Kind::TemporalOrdered) {
        return Err(format!("a {kind_name} correlation needs a `condition` (gt, gte, lt, lte, eq or neq)"));
    }
    if kind.reads_values() && fields.is_empty() {
        return Err(format!("a {kind_name} correlation needs the `field` it measures in its `condition`"));
    }
    if kind.numeric() && fields.len() > 1 {
        return Err(format!("a {kind_name} correlation measures one field, not {}", fields.len()));
    }
    let generate = match document.get("generate").or_else(|| get("generate")) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("`generate` is not true or false".into()),
    };
    let inputs = references
        .into_iter()
        .map(|name| Input { reference: Reference::Named(name), source: None, group_fields: Vec::new(), value_fields: Vec::new() })
        .collect();
    Ok(Correlation { meta, kind, inputs, group_by, aliases, fields, timespan_ms, bounds, generate, standalone: true })
}

/// `aliases: {alias: {rule: field, ...}, ...}`.
fn aliases(value: Option<&Value>) -> Result<Aliases, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
    let map = value.as_mapping().ok_or("`aliases` is not a map")?;
    map.iter()
        .map(|(alias, per_rule)| {
            let alias = scalar(alias).ok_or("an alias name is not text")?;
            let per_rule = per_rule.as_mapping().ok_or_else(|| format!("alias `{alias}` is not a map of rule to field"))?;
            let fields = per_rule
                .iter()
                .map(|(rule, field)| match (scalar(rule), scalar(field)) {
                    (Some(rule), Some(field)) => Ok((rule, field)),
                    _ => Err(format!("alias `{alias}` maps a rule to something other than a field name")),
                })
                .collect::<Result<_, String>>()?;
            Ok((alias, fields))
        })
        .collect()
}

/// The bounds, measured fields and percentile of a `condition` map.
fn condition(value: Option<&Value>) -> Result<(Bounds, Vec<String>, Option<f64>), String> {
    let mut bounds = Bounds::default();
    let mut fields = Vec::new();
    let mut percentile = None;
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok((bounds, fields, percentile)) };
    let map = value.as_mapping().ok_or("`condition` is not a map (gt, gte, lt, lte, eq, neq, field)")?;
    for (key, value) in map {
        let key = key.as_str().ok_or("a `condition` key is not text")?;
        let number = || value.as_f64().ok_or_else(|| format!("`condition.{key}` is not a number"));
        match key {
            "gt" => bounds.gt = Some(number()?),
            "gte" => bounds.gte = Some(number()?),
            "lt" => bounds.lt = Some(number()?),
            "lte" => bounds.lte = Some(number()?),
            "eq" => bounds.eq = Some(number()?),
            "neq" => bounds.neq = Some(number()?),
            "percentile" => {
                let p = number()?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(format!("`condition.percentile` is {p}, not between 0 and 100"));
                }
                percentile = Some(p);
            }
            "field" => {
                fields = match value {
                    Value::Sequence(list) => list.iter().map(|f| scalar(f).ok_or("a `condition.field` entry is not a field name")).collect::<Result<_, _>>()?,
                    one => vec![scalar(one).ok_or("`condition.field` is not a field name")?],
                }
            }
            other => return Err(format!("unknown `condition` key `{other}` (gt, gte, lt, lte, eq, neq, field, percentile)")),
        }
    }
    Ok((bounds, fields, percentile))
}

/// A timespan (`30s`, `5m`, `1h`, `7d`, `2w`; `M` months and `y` years of average length)
/// in milliseconds.
pub fn timespan_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a timespan (a number and s, m, h, d, w, M or y: `5m`)");
    let unit = text.chars().last().ok_or_else(bad)?;
    let number: i64 = text[..text.len() - unit.len_utf8()].trim().parse().map_err(|_| bad())?;
    let seconds: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        'M' => 2_629_746,
        'y' => 31_556_952,
        _ => return Err(bad()),
    };
    match number.checked_mul(seconds).and_then(|s| s.checked_mul(1000)) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(format!("`{text}` is not a timespan above zero that hela can count in milliseconds")),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn correlation(yaml: &str) -> Result<Correlation, String> {
        parse(&serde_yaml::from_str(yaml).unwrap(), Path::new("c.yml"))
    }

    #[test]
    fn timespans_in_every_unit() {
        assert_eq!(timespan_ms("30s"), Ok(30_000));
        assert_eq!(timespan_ms("5m"), Ok(300_000));
        assert_eq!(timespan_ms("1h"), Ok(3_600_000));
        assert_eq!(timespan_ms("2d"), Ok(172_800_000));
        assert_eq!(timespan_ms("1w"), Ok(604_800_000));
        for bad in ["", "5", "m", "5x", "-5m", "0s", "99999999999999999y"] {
            assert!(timespan_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_full_correlation_reads() {
        let c = correlation(
            "title: Logon then process\nid: c1\nlevel: high\ncorrelation:\n  type: temporal_ordered\n  rules: [logon, process]\n  group-by: [logon_id, Computer]\n  timespan: 5m\n  aliases:\n    logon_id:\n      logon: TargetLogonId\n      process: LogonId\n",
        )
        .unwrap();
        assert_eq!(c.kind, Kind::TemporalOrdered);
        assert_eq!(c.inputs.len(), 2);
        assert_eq!(c.group_by, ["logon_id", "Computer"]);
        assert_eq!(c.aliases[0].1, [("logon".to_string(), "TargetLogonId".to_string()), ("process".into(), "LogonId".into())]);
        assert_eq!(c.timespan_ms, 300_000);
        assert!(!c.generate);
        assert!(c.bounds.is_empty());
    }

    #[test]
    fn what_each_type_needs_is_asked_for() {
        let base = "title: t\ncorrelation:\n  rules: r\n  timespan: 1m\n";
        let error = |rest: &str| correlation(&format!("{base}{rest}")).unwrap_err();
        assert!(error("  type: event_count\n").contains("needs a `condition`"));
        assert!(error("  type: value_count\n  condition: {gte: 2}\n").contains("needs the `field`"));
        assert!(error("  type: value_sum\n  condition: {gte: 2, field: [a, b]}\n").contains("one field"));
        assert!(error("  type: value_percentile\n  condition: {gte: 2, field: a, percentile: 120}\n").contains("between 0 and 100"));
        assert!(error("  type: nearby\n  condition: {gte: 2}\n").contains("unknown correlation type"));
        assert!(error("  type: event_count\n  condition: {over: 2}\n").contains("unknown `condition` key"));
        let p = correlation(&format!("{base}  type: value_percentile\n  condition: {{gte: 2, field: a, percentile: 95}}\n")).unwrap();
        assert_eq!(p.kind, Kind::ValuePercentile(95.0));
    }
}
