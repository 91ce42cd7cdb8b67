//! Runs many rules over Arrow record batches in one pass. Rules are grouped by the events
//! their logsource names (Sysmon 1, Security 4688, ...); for each group the batch's rows of
//! those events are selected once, the columns the group's rules test are taken, turned to
//! text and lower-cased once, and every rule's tests run a column at a time into bitmaps
//! that the rule's condition combines.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use arrow::buffer::BooleanBuffer;
use arrow::compute::{cast, take};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::condition::Condition;
use crate::correlation::Correlation;
use crate::logsource::{Branch, COMMON_ALIASES};
use crate::matcher::Matcher;
use crate::rule::{FieldTest, Meta, Rule, Search};

/// A rule that fired on a row of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub row: usize,
    pub rule: usize,
}

/// Compiled rules, ready to run over batches, with the correlations over their detections.
pub struct Engine {
    rules: Vec<Rule>,
    correlations: Vec<Correlation>,
    groups: Vec<Group>,
}

/// Rules that look at the same events.
struct Group {
    branch: Branch,
    /// Lower-cased channel names.
    channels: Vec<String>,
    rules: Vec<usize>,
}

impl Engine {
    pub fn new(rules: Vec<Rule>) -> Engine {
        Engine::with_correlations(rules, Vec::new())
    }

    /// An engine over `rules` and the `correlations` linked to them.
    pub fn with_correlations(rules: Vec<Rule>, correlations: Vec<Correlation>) -> Engine {
        let mut groups: Vec<Group> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            for branch in &rule.source.branches {
                match groups.iter_mut().find(|g| g.branch == *branch) {
                    Some(group) => group.rules.push(index),
                    None => groups.push(Group {
                        channels: branch.channels.iter().map(|c| c.to_lowercase()).collect(),
                        branch: branch.clone(),
                        rules: vec![index],
                    }),
                }
            }
        }
        Engine { rules, correlations, groups }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// How many rules and correlations there are.
    pub fn len(&self) -> usize {
        self.rules.len() + self.correlations.len()
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The metadata of the `index`th rule, counting the rules, then the correlations.
    pub fn meta(&self, index: usize) -> &Meta {
        match self.rules.get(index) {
            Some(rule) => &rule.meta,
            None => &self.correlations[index - self.rules.len()].meta,
        }
    }

    /// The correlation [`Engine::meta`] numbers `index`; none for a detection rule.
    pub fn correlation_at(&self, index: usize) -> Option<&Correlation> {
        index.checked_sub(self.rules.len()).map(|c| &self.correlations[c])
    }

    /// Whether the `index`th rule or correlation (as [`Engine::meta`] numbers them) raises
    /// detections of its own.
    pub fn standalone(&self, index: usize) -> bool {
        match self.correlation_at(index) {
            Some(correlation) => correlation.standalone,
            None => self.rules[index].standalone,
        }
    }

    /// The place [`Engine::meta`] gives the `correlation`th correlation.
    pub fn correlation_index(&self, correlation: usize) -> usize {
        self.rules.len() + correlation
    }

    /// Every (row, rule) that fires on `batch`, ordered by row, then rule.
    pub fn evaluate(&self, batch: &RecordBatch) -> Vec<Hit> {
        let channels = text_column(batch, "Channel").map(|c| lower(&c));
        let event_ids = text_column(batch, "EventID").map(|c| {
            (0..c.len()).map(|i| c.is_valid(i).then(|| c.value(i).trim().parse::<i64>().ok()).flatten()).collect::<Vec<_>>()
        });
        let mut hits = Vec::new();
        for group in &self.groups {
            let rows: Vec<u32> = (0..batch.num_rows())
                .filter(|&row| {
                    let channel_ok = group.channels.is_empty()
                        || channels.as_ref().is_some_and(|c| c.is_valid(row) && group.channels.iter().any(|g| g == c.value(row)));
                    let id_ok = group.branch.event_ids.is_empty()
                        || event_ids.as_ref().and_then(|ids| ids[row]).is_some_and(|id| group.branch.event_ids.contains(&id));
                    channel_ok && id_ok
                })
                .map(|row| row as u32)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let view = View::new(batch, rows, group.branch.aliases);
            for &index in &group.rules {
                let rule = &self.rules[index];
                let mut memo = vec![None; rule.searches.len()];
                let fired = condition(&rule.condition, &rule.searches, &view, &mut memo);
                hits.extend(fired.set_indices().map(|i| Hit { row: view.rows.value(i) as usize, rule: index }));
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits
    }
}

/// The rows of one group's events in a batch, with the columns its rules ask for.
struct View<'a> {
    batch: &'a RecordBatch,
    rows: UInt32Array,
    aliases: &'static [(&'static str, &'static str)],
    columns: RefCell<HashMap<String, Option<Rc<Column>>>>,
}

/// One field's values on the view's rows, as text.
struct Column {
    raw: StringArray,
    lower: OnceCell<StringArray>,
}

impl Column {
    fn text(&self, cased: bool) -> &StringArray {
        if cased { &self.raw } else { self.lower.get_or_init(|| lower(&self.raw)) }
    }
}

impl<'a> View<'a> {
    fn new(batch: &'a RecordBatch, rows: Vec<u32>, aliases: &'static [(&'static str, &'static str)]) -> Self {
        View { batch, rows: UInt32Array::from(rows), aliases, columns: RefCell::new(HashMap::new()) }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    /// The column a rule's field name means for these events, if the batch has it.
    fn column(&self, field: &str) -> Option<Rc<Column>> {
        if let Some(found) = self.columns.borrow().get(field) {
            return found.clone();
        }
        let renamed = self.aliases.iter().find(|(from, _)| *from == field).map(|(_, to)| *to);
        let common = COMMON_ALIASES.iter().find(|(from, _)| *from == field).map(|(_, to)| *to);
        // A renamed field means the renamed column only: where a system field has the rule's
        // name (Defender's `SourceName`), falling back to it would match the wrong value.
        let index = match renamed {
            Some(to) => column_index(self.batch, to),
            None => [Some(field), common].into_iter().flatten().find_map(|name| column_index(self.batch, name)),
        };
        let column = index.map(|i| {
            let taken = take(self.batch.column(i).as_ref(), &self.rows, None).unwrap_or_else(|_| self.batch.column(i).clone());
            Rc::new(Column { raw: as_text(&taken), lower: OnceCell::new() })
        });
        self.columns.borrow_mut().insert(field.to_string(), column.clone());
        column
    }

    /// Every text column, for keyword searches.
    fn text_columns(&self) -> Vec<Rc<Column>> {
        let schema = self.batch.schema();
        let names: Vec<String> = schema
            .fields()
            .iter()
            .filter(|f| matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View))
            .map(|f| f.name().clone())
            .collect();
        names.iter().filter_map(|name| self.column(name)).collect()
    }
}

fn condition(c: &Condition, searches: &[Search], view: &View, memo: &mut [Option<BooleanBuffer>]) -> BooleanBuffer {
    match c {
        Condition::Search(i) => memo[*i].get_or_insert_with(|| search(&searches[*i], view)).clone(),
        Condition::Not(inner) => !&condition(inner, searches, view, memo),
        Condition::And(terms) => all_of(view.len(), terms.iter().map(|t| condition(t, searches, view, memo))),
        Condition::Or(terms) => any_of(view.len(), terms.iter().map(|t| condition(t, searches, view, memo))),
    }
}

/// ANDs bitmaps as a lazy iterator makes them, stopping once no row is left.
fn all_of(len: usize, parts: impl Iterator<Item = BooleanBuffer>) -> BooleanBuffer {
    let mut acc = BooleanBuffer::new_set(len);
    for part in parts {
        acc = &acc & &part;
        if acc.count_set_bits() == 0 {
            break;
        }
    }
    acc
}

/// ORs bitmaps as a lazy iterator makes them, stopping once every row is in.
fn any_of(len: usize, parts: impl Iterator<Item = BooleanBuffer>) -> BooleanBuffer {
    let mut acc = BooleanBuffer::new_unset(len);
    for part in parts {
        acc = &acc | &part;
        if acc.count_set_bits() == len {
            break;
        }
    }
    acc
}

fn search(search: &Search, view: &View) -> BooleanBuffer {
    match search {
        Search::Fields(maps) => any_of(view.len(), maps.iter().map(|tests| all_of(view.len(), tests.iter().map(|t| field_test(t, view))))),
        Search::Keywords(matchers) => {
            let columns = view.text_columns();
            any_of(view.len(), columns.iter().flat_map(|c| matchers.iter().map(move |m| matcher(m, Some(c), view))))
        }
    }
}

fn field_test(test: &FieldTest, view: &View) -> BooleanBuffer {
    let column = view.column(&test.field);
    let value = |alternatives: &Vec<Matcher>| any_of(view.len(), alternatives.iter().map(|m| matcher(m, column.as_deref(), view)));
    if test.all { all_of(view.len(), test.values.iter().map(value)) } else { any_of(view.len(), test.values.iter().map(value)) }
}

fn matcher(m: &Matcher, column: Option<&Column>, view: &View) -> BooleanBuffer {
    let len = view.len();
    let Some(column) = column else {
        // The field is absent from these events: only absence tests pass.
        return match m {
            Matcher::Null | Matcher::Exists(false) => BooleanBuffer::new_set(len),
            _ => BooleanBuffer::new_unset(len),
        };
    };
    let raw = &column.raw;
    match m {
        Matcher::Text { test, cased } => {
            let values = column.text(*cased);
            BooleanBuffer::collect_bool(len, |i| values.is_valid(i) && test.is_match(values.value(i)))
        }
        Matcher::Null => BooleanBuffer::collect_bool(len, |i| raw.is_null(i)),
        Matcher::Exists(present) => BooleanBuffer::collect_bool(len, |i| raw.is_valid(i) == *present),
        Matcher::Compare(op, bound) => BooleanBuffer::collect_bool(len, |i| {
            raw.is_valid(i) && raw.value(i).trim().parse::<f64>().is_ok_and(|v| op.test(v, *bound))
        }),
        Matcher::Cidr(network) => BooleanBuffer::collect_bool(len, |i| raw.is_valid(i) && network.contains(raw.value(i))),
        Matcher::FieldRef { field, kind, cased } => match view.column(field) {
            None => BooleanBuffer::new_unset(len),
            Some(other) => {
                let (values, others) = (column.text(*cased), other.text(*cased));
                BooleanBuffer::collect_bool(len, |i| {
                    values.is_valid(i) && others.is_valid(i) && kind.test(values.value(i), others.value(i))
                })
            }
        },
    }
}

/// A column found by exact name, else by name ignoring case (as Sigma field names and the
/// event's key fields are looked up), else, as Sigma's Windows rules write event data names
/// that have spaces (Defender's `Process Name`, `Threat Name`), by its name written without
/// them (`ProcessName`) or with underscores (`Feature_Name`), ignoring case.
pub fn column_index(batch: &RecordBatch, name: &str) -> Option<usize> {
    let schema = batch.schema();
    let fields = schema.fields();
    schema
        .index_of(name)
        .ok()
        .or_else(|| fields.iter().position(|f| f.name().eq_ignore_ascii_case(name)))
        .or_else(|| fields.iter().position(|f| written_without_spaces(f.name(), name)))
}

/// True when `spaced`, a name with spaces, is `name` with its spaces left out or made
/// underscores, ignoring case.
fn written_without_spaces(spaced: &str, name: &str) -> bool {
    spaced.contains(' ') && ["", "_"].iter().any(|joint| spaced.replace(' ', joint).eq_ignore_ascii_case(name))
}

fn text_column(batch: &RecordBatch, name: &str) -> Option<StringArray> {
    column_index(batch, name).map(|i| as_text(batch.column(i)))
}

/// Any column as text: strings as they are, numbers and booleans as their digits and words,
/// anything else (lists, structs) as Arrow displays it.
fn as_text(array: &ArrayRef) -> StringArray {
    if let Ok(text) = cast(array, &DataType::Utf8) {
        return text.as_string::<i32>().clone();
    }
    let options = FormatOptions::default();
    match ArrayFormatter::try_new(array.as_ref(), &options) {
        Ok(formatter) => (0..array.len()).map(|i| array.is_valid(i).then(|| formatter.value(i).to_string())).collect(),
        Err(_) => StringArray::new_null(array.len()),
    }
}

fn lower(text: &StringArray) -> StringArray {
    text.iter().map(|v| v.map(str::to_lowercase)).collect()
}
