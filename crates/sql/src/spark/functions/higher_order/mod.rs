//! [`HIGHER_ORDER`]: Spark's higher-order functions, whose lambdas the SQL front end
//! passes as text (see `spark::lambdas`). Each lambda is planned against the types of its
//! parameters (an array's elements, a map's keys and values, an accumulator) and of the
//! outer columns it reads, then evaluated once over all the elements of a batch.

mod arrays;
mod elements;
mod maps;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::common::{DFSchema, Result, ScalarValue, exec_err, internal_err, plan_err};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use parking_lot::{Mutex, RwLock};

use crate::spark::lambdas::{HigherOrderCall, outer_name, parameter_name};

/// The name of the function every higher-order call is planned as.
pub const HIGHER_ORDER: &str = "spark_higher_order";

/// Spark's higher-order functions, planned with the session they run in (held weakly: the
/// session holds this function).
#[derive(Debug)]
pub struct HigherOrder {
    session: Weak<RwLock<SessionState>>,
    signature: Signature,
    /// Calls already planned, by their text and argument types: a query plans its lambdas
    /// once, not again for every batch.
    planned: Mutex<HashMap<CallKey, Arc<Planned>>>,
}

/// A call's text and the types of its arguments.
type CallKey = (String, Vec<DataType>);

/// The most planned calls kept (then they are planned afresh).
const MOST_PLANNED: usize = 64;

impl HigherOrder {
    /// The function for the session whose state `session` refers to.
    pub fn new(session: Weak<RwLock<SessionState>>) -> Self {
        HigherOrder { session, signature: Signature::variadic_any(Volatility::Immutable), planned: Mutex::new(HashMap::new()) }
    }

    /// The call whose text is `spec`, planned for arguments of types `fields`.
    fn planned(&self, spec: Option<&ScalarValue>, fields: &[FieldRef]) -> Result<Arc<Planned>> {
        let Some(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)) | ScalarValue::LargeUtf8(Some(text))) = spec else {
            return internal_err!("{HIGHER_ORDER} needs its call as a constant first argument");
        };
        let key = (text.clone(), fields.iter().map(|f| f.data_type().clone()).collect());
        if let Some(found) = self.planned.lock().get(&key) {
            return Ok(found.clone());
        }
        let call: HigherOrderCall = serde_json::from_str(text).or_else(|e| internal_err!("{HIGHER_ORDER}: {e}"))?;
        let (lambdas, returns) = self.plan(&call, fields)?;
        let planned = Arc::new(Planned { call, lambdas, returns });
        let mut cache = self.planned.lock();
        if cache.len() >= MOST_PLANNED {
            cache.clear();
        }
        cache.insert(key, planned.clone());
        Ok(planned)
    }

    /// `call`'s lambdas planned for inputs and outer columns of types `fields`, and the type
    /// the call answers with.
    fn plan(&self, call: &HigherOrderCall, fields: &[FieldRef]) -> Result<(Vec<Lambda>, DataType)> {
        let Some(session) = self.session.upgrade() else { return internal_err!("{} outlived its session", HIGHER_ORDER) };
        let state = session.read();
        if fields.len() < call.inputs {
            return internal_err!("{}: {} inputs expected", call.function, call.inputs);
        }
        let (inputs, outer) = fields.split_at(call.inputs);
        let inputs: Vec<&DataType> = inputs.iter().map(|f| f.data_type()).collect();
        let planner = LambdaPlanner { state: &state, outer, function: &call.function };
        let function = call.function.as_str();
        let lambda = |index: usize, params: &[DataType]| planner.plan(&call.lambdas[index].body, &params[..call.lambdas[index].params.min(params.len())]);
        match function {
            "transform" | "filter" | "exists" | "forall" | "array_sort" => {
                let element = elements::element_type(function, inputs[0])?;
                let params: Vec<DataType> = std::iter::once(element.clone()).chain(second_param(function, &element)).collect();
                let body = lambda(0, &params)?;
                let returns = match function {
                    "transform" => DataType::new_list(body.returns.clone(), true),
                    "filter" | "array_sort" => DataType::new_list(element, true),
                    _ => DataType::Boolean,
                };
                if matches!(function, "filter" | "exists" | "forall") && !matches!(body.returns, DataType::Boolean | DataType::Null) {
                    return plan_err!("{function}(...): the lambda must give a boolean, not {}", body.returns);
                }
                Ok((vec![body], returns))
            }
            "aggregate" | "reduce" => {
                let element = elements::element_type(function, inputs[0])?;
                let accumulator = inputs[1].clone();
                let merge = lambda(0, &[accumulator.clone(), element])?;
                if merge.returns != accumulator && merge.returns != DataType::Null {
                    return plan_err!(
                        "{function}(...): the merge lambda gives {} but the start value is {accumulator}; write the start value with the merge's type (CAST(0 AS {}))",
                        merge.returns,
                        merge.returns
                    );
                }
                let mut lambdas = vec![merge];
                if call.lambdas.len() == 2 {
                    lambdas.push(lambda(1, std::slice::from_ref(&accumulator))?);
                }
                let returns = lambdas.get(1).map_or(accumulator, |finish| finish.returns.clone());
                Ok((lambdas, returns))
            }
            "zip_with" => {
                let (left, right) = (elements::element_type(function, inputs[0])?, elements::element_type(function, inputs[1])?);
                let body = lambda(0, &[left, right])?;
                let returns = DataType::new_list(body.returns.clone(), true);
                Ok((vec![body], returns))
            }
            "map_filter" | "transform_keys" | "transform_values" => {
                let (key, value) = maps::entry_types(function, inputs[0])?;
                let body = lambda(0, &[key.clone(), value.clone()])?;
                let returns = match function {
                    "map_filter" => inputs[0].clone(),
                    "transform_keys" => maps::map_type(body.returns.clone(), value),
                    _ => maps::map_type(key, body.returns.clone()),
                };
                if function == "map_filter" && !matches!(body.returns, DataType::Boolean | DataType::Null) {
                    return plan_err!("map_filter(...): the lambda must give a boolean, not {}", body.returns);
                }
                Ok((vec![body], returns))
            }
            "map_zip_with" => {
                let ((key, left), (other_key, right)) = (maps::entry_types(function, inputs[0])?, maps::entry_types(function, inputs[1])?);
                if key != other_key {
                    return plan_err!("map_zip_with(...): the maps' keys must have one type, not {key} and {other_key}");
                }
                let body = lambda(0, &[key.clone(), left, right])?;
                let returns = maps::map_type(key, body.returns.clone());
                Ok((vec![body], returns))
            }
            other => plan_err!("{other} is not a higher-order function"),
        }
    }
}

/// The index parameter of `transform`/`filter` (`(x, i) -> ...`), or the second element
/// `array_sort`'s comparator compares.
fn second_param(function: &str, element: &DataType) -> Option<DataType> {
    match function {
        "transform" | "filter" => Some(DataType::Int32),
        "array_sort" => Some(element.clone()),
        _ => None,
    }
}

impl PartialEq for HigherOrder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for HigherOrder {}

impl Hash for HigherOrder {
    fn hash<H: Hasher>(&self, state: &mut H) {
        HIGHER_ORDER.hash(state);
    }
}

impl ScalarUDFImpl for HigherOrder {
    fn name(&self) -> &str {
        HIGHER_ORDER
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        internal_err!("{HIGHER_ORDER} gives its type from its arguments")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let planned = self.planned(args.scalar_arguments.first().copied().flatten(), &args.arg_fields[1..])?;
        Ok(Arc::new(Field::new(HIGHER_ORDER, planned.returns.clone(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let spec = match args.args.first() {
            Some(ColumnarValue::Scalar(spec)) => Some(spec),
            _ => None,
        };
        let planned = self.planned(spec, &args.arg_fields[1..])?;
        let call = &planned.call;
        let rows = args.number_rows;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = args.args[1..].iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let (inputs, outer) = arrays.split_at(call.inputs);
        let answer = evaluate(&call.function, &planned, inputs, outer)?;
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&answer, 0)?));
        }
        Ok(ColumnarValue::Array(answer))
    }
}

fn evaluate(function: &str, planned: &Planned, inputs: &[ArrayRef], outer: &[ArrayRef]) -> Result<ArrayRef> {
    match function {
        "transform" => arrays::transform(&planned.lambdas[0], &inputs[0], outer, &planned.returns),
        "filter" => arrays::filter(&planned.lambdas[0], &inputs[0], outer),
        "exists" => arrays::exists(&planned.lambdas[0], &inputs[0], outer, false),
        "forall" => arrays::exists(&planned.lambdas[0], &inputs[0], outer, true),
        "aggregate" | "reduce" => arrays::aggregate(&planned.lambdas, &inputs[0], &inputs[1], outer, &planned.returns),
        "array_sort" => arrays::sort(&planned.lambdas[0], &inputs[0], outer),
        "zip_with" => arrays::zip_with(&planned.lambdas[0], &inputs[0], &inputs[1], outer, &planned.returns),
        "map_filter" => maps::filter(&planned.lambdas[0], &inputs[0], outer),
        "transform_keys" => maps::transform(&planned.lambdas[0], &inputs[0], outer, true),
        "transform_values" => maps::transform(&planned.lambdas[0], &inputs[0], outer, false),
        "map_zip_with" => maps::zip_with(&planned.lambdas[0], &inputs[0], &inputs[1], outer),
        other => exec_err!("{other} is not a higher-order function"),
    }
}

/// A call's lambdas, planned, and the type it answers with.
#[derive(Debug)]
struct Planned {
    call: HigherOrderCall,
    lambdas: Vec<Lambda>,
    returns: DataType,
}

/// One lambda, planned: evaluated over columns for its parameters then the outer values.
#[derive(Debug)]
pub(super) struct Lambda {
    params: usize,
    expr: Arc<dyn PhysicalExpr>,
    schema: SchemaRef,
    returns: DataType,
}

impl Lambda {
    /// The body's values for `rows` rows of `params` (one array per parameter) and of the
    /// outer values, given row by row (already taken for each element).
    fn run(&self, params: Vec<ArrayRef>, outer: Vec<ArrayRef>, rows: usize) -> Result<ArrayRef> {
        let mut columns = params;
        columns.extend(outer);
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?;
        self.expr.evaluate(&batch)?.into_array(rows)
    }
}

struct LambdaPlanner<'a> {
    state: &'a SessionState,
    outer: &'a [FieldRef],
    function: &'a str,
}

impl LambdaPlanner<'_> {
    fn plan(&self, body: &str, params: &[DataType]) -> Result<Lambda> {
        let mut fields: Vec<Field> = params.iter().enumerate().map(|(i, t)| Field::new(parameter_name(i), t.clone(), true)).collect();
        fields.extend(self.outer.iter().enumerate().map(|(i, f)| Field::new(outer_name(i), f.data_type().clone(), true)));
        let schema = Arc::new(Schema::new(fields));
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let df_schema = Arc::new(df_schema);
        // As a query's expressions are: coerced and simplified (which functions such as
        // `coalesce` need), then made physical.
        let simplifier = ExprSimplifier::new(SimplifyContext::builder().with_schema(df_schema.clone()).with_config_options(Arc::clone(self.state.config_options())).build());
        let planned = self
            .state
            .create_logical_expr(body, &df_schema)
            .and_then(|expr| crate::spark::typed_rewrites_of(expr, &df_schema))
            .and_then(|expr| simplifier.coerce(expr, &df_schema))
            .and_then(|expr| simplifier.simplify(expr))
            .and_then(|expr| self.state.create_physical_expr(expr, &df_schema));
        let expr = match planned {
            Ok(expr) => expr,
            Err(error) => return plan_err!("the lambda of {}(...): {}", self.function, error.strip_backtrace()),
        };
        let returns = expr.data_type(&schema)?;
        Ok(Lambda { params: params.len(), expr, schema, returns })
    }
}
