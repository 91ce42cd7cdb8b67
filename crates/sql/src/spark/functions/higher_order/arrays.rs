//! The higher-order functions over arrays, as Spark answers them: a null array gives null;
//! `exists` and `forall` follow three-valued logic; `aggregate` folds left to right.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, ListArray, UInt32Array, new_null_array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{cast, filter as keep, interleave, take};
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, exec_err};

use super::Lambda;
use super::elements::{Flat, as_list, take_each};

/// The most elements of one row `array_sort` compares pairwise with a comparator.
const MOST_SORTED_WITH_COMPARATOR: usize = 4096;

fn list_field(list_type: &DataType) -> FieldRef {
    match list_type {
        DataType::List(field) => field.clone(),
        other => unreachable!("a list type, not {other}"),
    }
}

/// `transform(array, x -> ...)` or `(x, i) -> ...`.
pub fn transform(lambda: &Lambda, array: &ArrayRef, outer: &[ArrayRef], returns: &DataType) -> Result<ArrayRef> {
    let list = as_list("transform", array)?;
    let flat = Flat::of_list(&list)?;
    let params = with_positions(lambda, &flat);
    let values = lambda.run(params, flat.outer(outer)?, flat.values.len())?;
    Ok(Arc::new(ListArray::try_new(list_field(returns), flat.offsets, values, flat.nulls)?))
}

/// The element, and its place when the lambda takes one.
fn with_positions(lambda: &Lambda, flat: &Flat) -> Vec<ArrayRef> {
    let mut params = vec![flat.values.clone()];
    if lambda.params == 2 {
        params.push(Arc::new(flat.positions.clone()));
    }
    params
}

/// `filter(array, x -> ...)` or `(x, i) -> ...`: the elements the lambda is true for.
pub fn filter(lambda: &Lambda, array: &ArrayRef, outer: &[ArrayRef]) -> Result<ArrayRef> {
    let list = as_list("filter", array)?;
    let flat = Flat::of_list(&list)?;
    let verdicts = booleans(lambda.run(with_positions(lambda, &flat), flat.outer(outer)?, flat.values.len())?)?;
    let lengths = (0..flat.rows()).map(|row| flat.range(row).map_or(0, |r| r.filter(|&i| verdicts.is_valid(i) && verdicts.value(i)).count()));
    let offsets = OffsetBuffer::from_lengths(lengths);
    let chosen = BooleanArray::from_iter((0..verdicts.len()).map(|i| Some(verdicts.is_valid(i) && verdicts.value(i))));
    let values = keep(flat.values.as_ref(), &chosen)?;
    Ok(Arc::new(ListArray::try_new(list_field(list.data_type()), offsets, values, flat.nulls)?))
}

fn booleans(values: ArrayRef) -> Result<BooleanArray> {
    Ok(cast(values.as_ref(), &DataType::Boolean)?.as_boolean().clone())
}

/// `exists(array, x -> ...)` (or `forall` when `all`): true when some (every) element
/// is; else null when the lambda is null for some element; else false (true).
pub fn exists(lambda: &Lambda, array: &ArrayRef, outer: &[ArrayRef], all: bool) -> Result<ArrayRef> {
    let list = as_list(if all { "forall" } else { "exists" }, array)?;
    let flat = Flat::of_list(&list)?;
    let verdicts = booleans(lambda.run(vec![flat.values.clone()], flat.outer(outer)?, flat.values.len())?)?;
    let mut answers = BooleanBuilder::with_capacity(flat.rows());
    for row in 0..flat.rows() {
        let Some(range) = flat.range(row) else {
            answers.append_null();
            continue;
        };
        let decisive = range.clone().any(|i| verdicts.is_valid(i) && verdicts.value(i) != all);
        let unknown = range.into_iter().any(|i| verdicts.is_null(i));
        match (decisive, unknown) {
            (true, _) => answers.append_value(!all),
            (false, true) => answers.append_null(),
            (false, false) => answers.append_value(all),
        }
    }
    Ok(Arc::new(answers.finish()))
}

/// `aggregate(array, start, (acc, x) -> ...[, acc -> ...])`: the merge lambda folds each
/// row's elements into its accumulator from left to right, a step for all rows at once.
pub fn aggregate(lambdas: &[Lambda], array: &ArrayRef, start: &ArrayRef, outer: &[ArrayRef], returns: &DataType) -> Result<ArrayRef> {
    let list = as_list("aggregate", array)?;
    let flat = Flat::of_list(&list)?;
    let rows = flat.rows();
    let mut accumulator = start.clone();
    let longest = (0..rows).filter_map(|row| flat.range(row)).map(|r| r.len()).max().unwrap_or(0);
    for step in 0..longest {
        let active: Vec<u32> = (0..rows).filter(|&row| flat.range(row).is_some_and(|r| r.len() > step)).map(|row| row as u32).collect();
        let elements: Vec<u32> = active.iter().map(|&row| (flat.offsets[row as usize] as usize + step) as u32).collect();
        let (active, elements) = (UInt32Array::from(active), UInt32Array::from(elements));
        let params = vec![take(accumulator.as_ref(), &active, None)?, take(flat.values.as_ref(), &elements, None)?];
        let outer_now = take_each(outer, &active)?;
        let merged = lambda_cast(lambdas[0].run(params, outer_now, active.len())?, accumulator.data_type())?;
        let mut next = 0;
        let picks: Vec<(usize, usize)> = (0..rows)
            .map(|row| {
                if next < active.len() && active.value(next) as usize == row {
                    next += 1;
                    (1, next - 1)
                } else {
                    (0, row)
                }
            })
            .collect();
        accumulator = interleave(&[accumulator.as_ref(), merged.as_ref()], &picks)?;
    }
    let finished = match lambdas.get(1) {
        Some(finish) => finish.run(vec![accumulator], outer.to_vec(), rows)?,
        None => accumulator,
    };
    with_nulls_of(lambda_cast(finished, returns)?, flat.nulls.as_ref())
}

fn lambda_cast(values: ArrayRef, to: &DataType) -> Result<ArrayRef> {
    Ok(if values.data_type() == to { values } else { cast(values.as_ref(), to)? })
}

/// `values` with the rows null that `nulls` marks null.
fn with_nulls_of(values: ArrayRef, nulls: Option<&NullBuffer>) -> Result<ArrayRef> {
    let Some(nulls) = nulls else { return Ok(values) };
    let valid = BooleanArray::new(nulls.inner().clone(), None);
    let none = new_null_array(values.data_type(), values.len());
    Ok(arrow::compute::kernels::zip::zip(&valid, &values, &none)?)
}

/// `array_sort(array, (left, right) -> ...)`: sorted (stably) by a comparator that gives a
/// negative number, 0 or a positive number. The comparator runs over every pair of a row's
/// elements, for as many rows at a time as keep the pairs within [`MOST_PAIRS_AT_ONCE`].
pub fn sort(lambda: &Lambda, array: &ArrayRef, outer: &[ArrayRef]) -> Result<ArrayRef> {
    let list = as_list("array_sort", array)?;
    let flat = Flat::of_list(&list)?;
    let mut sorted = Vec::with_capacity(flat.values.len());
    let mut rows: Vec<usize> = Vec::new();
    let mut pairs = 0;
    for row in 0..flat.rows() {
        let Some(range) = flat.range(row) else { continue };
        if range.len() > MOST_SORTED_WITH_COMPARATOR {
            return exec_err!("array_sort with a comparator sorts at most {MOST_SORTED_WITH_COMPARATOR} elements an array; this one has {}", range.len());
        }
        if pairs + range.len() * range.len() > MOST_PAIRS_AT_ONCE && !rows.is_empty() {
            sort_rows(lambda, &flat, outer, &rows, &mut sorted)?;
            (rows, pairs) = (Vec::new(), 0);
        }
        pairs += range.len() * range.len();
        rows.push(row);
    }
    sort_rows(lambda, &flat, outer, &rows, &mut sorted)?;
    let values = take(flat.values.as_ref(), &UInt32Array::from(sorted), None)?;
    Ok(Arc::new(ListArray::try_new(list_field(list.data_type()), flat.offsets, values, flat.nulls)?))
}

/// The most element pairs one run of a comparator reads.
const MOST_PAIRS_AT_ONCE: usize = 1 << 20;

/// Sorts the elements of `rows` (non-null rows of `flat`), adding their indices to `sorted`.
fn sort_rows(lambda: &Lambda, flat: &Flat, outer: &[ArrayRef], rows: &[usize], sorted: &mut Vec<u32>) -> Result<()> {
    let (mut lefts, mut rights, mut parents) = (Vec::new(), Vec::new(), Vec::new());
    for &row in rows {
        let range = flat.range(row).expect("a non-null row");
        for left in range.clone() {
            for right in range.clone() {
                lefts.push(left as u32);
                rights.push(right as u32);
                parents.push(row as u32);
            }
        }
    }
    let (lefts, rights, parents) = (UInt32Array::from(lefts), UInt32Array::from(rights), UInt32Array::from(parents));
    let params = vec![take(flat.values.as_ref(), &lefts, None)?, take(flat.values.as_ref(), &rights, None)?];
    let order = cast(lambda.run(params, take_each(outer, &parents)?, lefts.len())?.as_ref(), &DataType::Int64)?;
    let order = order.as_primitive::<arrow::datatypes::Int64Type>();
    if order.null_count() > 0 {
        return exec_err!("array_sort: the comparator gave NULL; it must give a number for every pair (handle NULL elements in it)");
    }
    let mut pair_start = 0;
    for &row in rows {
        let range = flat.range(row).expect("a non-null row");
        let n = range.len();
        let compared = |a: usize, b: usize| pair_start + (a - range.start) * n + (b - range.start);
        let indices = merge_sort(range.clone().collect(), &|a, b| order.value(compared(a, b)) > 0);
        sorted.extend(indices.into_iter().map(|i| i as u32));
        pair_start += n * n;
    }
    Ok(())
}

/// `items` sorted stably, `after(a, b)` saying whether `a` goes after `b`. A merge sort:
/// a comparator that is not a consistent order (a user's lambda) gives some order, never
/// a panic.
fn merge_sort(items: Vec<usize>, after: &dyn Fn(usize, usize) -> bool) -> Vec<usize> {
    if items.len() <= 1 {
        return items;
    }
    let mut right = items;
    let left = merge_sort(right.drain(..right.len() / 2).collect(), after);
    let right = merge_sort(right, after);
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (0, 0);
    while l < left.len() && r < right.len() {
        if after(left[l], right[r]) {
            merged.push(right[r]);
            r += 1;
        } else {
            merged.push(left[l]);
            l += 1;
        }
    }
    merged.extend_from_slice(&left[l..]);
    merged.extend_from_slice(&right[r..]);
    merged
}

/// `zip_with(left, right, (x, y) -> ...)`: element by element, the shorter array read as
/// padded with nulls; null when either array is.
pub fn zip_with(lambda: &Lambda, left: &ArrayRef, right: &ArrayRef, outer: &[ArrayRef], returns: &DataType) -> Result<ArrayRef> {
    let (left, right) = (Flat::of_list(&as_list("zip_with", left)?)?, Flat::of_list(&as_list("zip_with", right)?)?);
    let (mut from_left, mut from_right, mut parents, mut lengths) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut nulls = Vec::with_capacity(left.rows());
    for row in 0..left.rows() {
        let (Some(l), Some(r)) = (left.range(row), right.range(row)) else {
            nulls.push(false);
            lengths.push(0);
            continue;
        };
        nulls.push(true);
        let length = l.len().max(r.len());
        lengths.push(length);
        for i in 0..length {
            from_left.push((i < l.len()).then(|| (l.start + i) as u32));
            from_right.push((i < r.len()).then(|| (r.start + i) as u32));
            parents.push(row as u32);
        }
    }
    let parents = UInt32Array::from(parents);
    let params = vec![take(left.values.as_ref(), &UInt32Array::from(from_left), None)?, take(right.values.as_ref(), &UInt32Array::from(from_right), None)?];
    let outer_now = take_each(outer, &parents)?;
    let values = lambda.run(params, outer_now, parents.len())?;
    let nulls = NullBuffer::from(nulls);
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    Ok(Arc::new(ListArray::try_new(list_field(returns), OffsetBuffer::from_lengths(lengths), values, nulls)?))
}
