//! Which partition of the `events` table a record is stored in: its source (event log
//! channel, or log stream) and its day, so hunts that filter on either read fewer files.

use hela_schema::{JsonView, map_members, stored_text};
use serde_json::{Map, Value};

/// A partition: source and day, as they appear in the directory names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    pub source: String,
    pub day: String,
}

/// The field that names a record's source when it has one: a record's `Channel`, when not
/// null, is its partition's source.
pub const CHANNEL: &str = "Channel";

/// Fields that name the source of a record, in order of preference: NXLog and EVTX
/// (`Channel`), Winlogbeat 6 (`log_name`), Zeek (`_path`, or `@stream` in Security-Datasets).
const SOURCE_FIELDS: [&str; 4] = [CHANNEL, "log_name", "_path", "@stream"];
const TIMESTAMP: &str = "@timestamp";
/// Zeek's time field.
const ZEEK_TIME: &str = "ts";
const UNKNOWN: &str = "unknown";

impl PartitionKey {
    /// The partition of one record. The source is the stored text of its first non-null
    /// source field, so every row of a partition whose `Channel` is not null has `Channel`
    /// equal to the source; queries rely on this to skip partitions.
    pub fn of(record: &Map<String, Value>) -> PartitionKey {
        PartitionKey::of_members(map_members(record))
    }

    /// The partition of the record whose members are `members` (see [`PartitionKey::of`]).
    pub fn of_members<'a, V: JsonView<'a>>(members: impl Iterator<Item = (&'a str, V)>) -> PartitionKey {
        let mut sources: [Option<V>; SOURCE_FIELDS.len()] = [None; SOURCE_FIELDS.len()];
        let (mut timestamp, mut ts) = (None, None);
        for (name, value) in members {
            match name {
                TIMESTAMP => timestamp = Some(value),
                ZEEK_TIME => ts = Some(value),
                _ => {
                    if let Some(i) = SOURCE_FIELDS.iter().position(|field| *field == name) {
                        sources[i] = Some(value);
                    }
                }
            }
        }
        let source = sources.into_iter().flatten().find(|v| !v.is_null()).map_or_else(|| UNKNOWN.to_string(), |v| stored_text(v).into_owned());
        PartitionKey { source, day: day_of(timestamp, ts).unwrap_or_else(|| UNKNOWN.into()) }
    }

    /// The relative directory of this partition, with unsafe characters escaped.
    pub fn directory(&self) -> String {
        format!("source={}/day={}", escape(&self.source), escape(&self.day))
    }
}

/// The UTC day of a record whose `@timestamp` and `ts` are `timestamp` and `ts`: the date
/// that starts its `@timestamp` text, or when it has no `@timestamp`, the date of Zeek's
/// `ts` (seconds since the epoch). So every row of a day's partition has a null
/// `@timestamp` or one that starts with the day.
fn day_of<'a, V: JsonView<'a>>(timestamp: Option<V>, ts: Option<V>) -> Option<String> {
    if let Some(timestamp) = timestamp.filter(|v| !v.is_null()) {
        let text = stored_text(timestamp);
        let date = text.get(..10)?;
        return is_date(date).then(|| date.to_string());
    }
    let seconds = ts?.as_f64()?;
    (0.0..1e11).contains(&seconds).then(|| civil_date((seconds / 86_400.0).floor() as i64))
}

/// True for a `YYYY-MM-DD` day (not `unknown`).
pub(crate) fn is_date(day: &str) -> bool {
    day.len() == 10 && day.bytes().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == b'-' } else { c.is_ascii_digit() })
}

/// The day number, counted from 1970-01-01, of a `YYYY-MM-DD` day (checked by [`is_date`]);
/// the inverse of [`civil_date`].
pub(crate) fn day_number(day: &str) -> i64 {
    let number = |range: std::ops::Range<usize>| day[range].parse::<i64>().unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number counted from 1970-01-01.
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The longest escaped value kept whole in a directory name; a longer one is cut and ends
/// with a hash of the whole value, so any value makes a name every file system takes.
const MAX_NAME_CHARS: usize = 96;

/// Keeps letters, digits, `-`, `_` and `.` (not leading) and turns every other character
/// into `_`, so that any tool can open the path; a value longer than [`MAX_NAME_CHARS`] is
/// cut and given a hash of itself. The catalog keeps the exact value.
pub(crate) fn escape(text: &str) -> String {
    let escaped = escape_chars(text);
    if escaped.len() <= MAX_NAME_CHARS {
        return escaped;
    }
    let hash = blake3::hash(text.as_bytes()).to_hex();
    format!("{}-{}", &escaped[..MAX_NAME_CHARS - 17], &hash[..16])
}

fn escape_chars(text: &str) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            '.' if i > 0 => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(v: Value) -> PartitionKey {
        PartitionKey::of(v.as_object().unwrap())
    }

    #[test]
    fn nxlog_winlogbeat_and_zeek_records() {
        let nx = key(json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "@timestamp": "2020-09-21T04:14:38.806Z"}));
        assert_eq!(nx.directory(), "source=Microsoft-Windows-Sysmon_Operational/day=2020-09-21");
        let wlb = key(json!({"log_name": "Security", "@timestamp": "2019-05-18T20:36:46.254Z"}));
        assert_eq!((wlb.source.as_str(), wlb.day.as_str()), ("Security", "2019-05-18"));
        let zeek = key(json!({"@stream": "conn", "ts": 1588205199.82437}));
        assert_eq!((zeek.source.as_str(), zeek.day.as_str()), ("conn", "2020-04-30"));
        let odd = key(json!({"@timestamp": "yesterday", "Channel": "../x"}));
        assert_eq!(odd.directory(), "source=_._x/day=unknown");
    }

    #[test]
    fn long_sources_make_short_distinct_names() {
        let long = "C".repeat(5000);
        let (a, b) = (key(json!({"Channel": long.clone()})), key(json!({"Channel": format!("{long}x")})));
        let (a, b) = (a.directory(), b.directory());
        assert!(a.len() < 120 && b.len() < 120, "{a}");
        assert_ne!(a, b);
        assert!(a.starts_with("source=CCCC") && a.len() == "source=/day=unknown".len() + MAX_NAME_CHARS, "{a}");
        let short = "a".repeat(MAX_NAME_CHARS);
        assert_eq!(escape(&short), short);
    }

    #[test]
    fn source_and_day_are_the_text_queries_compare() {
        let empty = key(json!({"Channel": "", "log_name": "Security", "@timestamp": "2020-09-21T01:00:00Z"}));
        assert_eq!((empty.source.as_str(), empty.day.as_str()), ("", "2020-09-21"));
        let numeric = key(json!({"Channel": 5, "@timestamp": 1600650000, "ts": 1600650000.0}));
        assert_eq!((numeric.source.as_str(), numeric.day.as_str()), ("5", "unknown"));
        let null_channel = key(json!({"Channel": null, "log_name": "Security"}));
        assert_eq!(null_channel.source, "Security");
    }

    #[test]
    fn day_numbers_and_dates_are_inverses() {
        for number in [0, 1, 58, 59, 60, 11_016, 18_526, 47_482, 2_932_896] {
            assert_eq!(day_number(&civil_date(number)), number);
        }
        assert_eq!(day_number("2020-09-21"), 18_526);
    }

    #[test]
    fn days_are_dates_and_unknown_is_not() {
        assert!(is_date("2020-09-21") && !is_date("unknown") && !is_date("2020-9-21") && !is_date("2020/09/21"));
    }
}
