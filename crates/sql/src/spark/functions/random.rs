//! Spark's seeded random functions, drawing the numbers Spark draws: `rand`/`random`
//! (uniform doubles), `randn` (standard normal), `uniform(min, max)` and `randstr(length)`.
//! Each call owns one generator, seeded as Spark seeds its first partition's, that runs on
//! from row to row: with the same seed, one partition's rows get Spark's numbers. Rows of a
//! query that hela runs in several partitions take the numbers in the order they come.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, Decimal128Array, Float32Array, Float64Array, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::args;
use super::row_hash::murmur3_32;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    [Draw::Double, Draw::Gaussian, Draw::Uniform, Draw::Text].into_iter().map(|draw| ScalarUDF::new_from_impl(SeededRandom::new(draw, None))).collect()
}

/// What a function draws for each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Draw {
    /// `rand([seed])`, also called `random`: a double in [0, 1).
    Double,
    /// `randn([seed])`: a double from the standard normal distribution.
    Gaussian,
    /// `uniform(min, max[, seed])`: `min + (max - min) * rand`, in the type of the bounds.
    Uniform,
    /// `randstr(length[, seed])`: that many letters and digits.
    Text,
}

impl Draw {
    fn name(self) -> &'static str {
        match self {
            Draw::Double => "rand",
            Draw::Gaussian => "randn",
            Draw::Uniform => "uniform",
            Draw::Text => "randstr",
        }
    }

    /// The position of the seed among the arguments.
    fn seed_position(self) -> usize {
        match self {
            Draw::Double | Draw::Gaussian => 0,
            Draw::Uniform => 2,
            Draw::Text => 1,
        }
    }
}

/// One of the functions; once planned, with the generator of that call.
#[derive(Debug)]
struct SeededRandom {
    draw: Draw,
    generator: Option<Arc<Mutex<XorShift>>>,
    signature: Signature,
}

impl SeededRandom {
    fn new(draw: Draw, generator: Option<Arc<Mutex<XorShift>>>) -> Self {
        SeededRandom { draw, generator, signature: Signature::user_defined(Volatility::Volatile) }
    }
}

impl PartialEq for SeededRandom {
    fn eq(&self, other: &Self) -> bool {
        let same_generator = match (&self.generator, &other.generator) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        self.draw == other.draw && same_generator
    }
}

impl Eq for SeededRandom {}

impl Hash for SeededRandom {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.draw.hash(state);
        self.generator.as_ref().map(Arc::as_ptr).hash(state);
    }
}

/// The seed of a call: its constant seed argument (NULL is 0, as in Spark), or a seed of
/// its own when it has none.
fn seed_of(name: &str, seed: Option<&ScalarValue>) -> Result<i64> {
    match seed {
        None => Ok(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or_default()),
        Some(value) if value.is_null() => Ok(0),
        Some(value) => match value.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(seed)) => Ok(seed),
            other => plan_err!("the seed of {name} must be a whole number, not {other}"),
        },
    }
}

impl ScalarUDFImpl for SeededRandom {
    fn name(&self) -> &str {
        self.draw.name()
    }

    fn aliases(&self) -> &[String] {
        static RANDOM: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| vec!["random".to_string()]);
        if self.draw == Draw::Double { &RANDOM } else { &[] }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        let seed = self.draw.seed_position();
        if arg_types.len() > seed + 1 || arg_types.len() < seed {
            return plan_err!("{name} takes {seed} to {} arguments, not {}", seed + 1, arg_types.len());
        }
        arg_types
            .iter()
            .enumerate()
            .map(|(position, given)| match (self.draw, position) {
                (Draw::Uniform, 0 | 1) if given.is_numeric() || given.is_null() => Ok(given.clone()),
                (Draw::Uniform, 0 | 1) => plan_err!("the bounds of uniform must be numbers, not {given}"),
                _ if given.is_integer() || given.is_null() || (self.draw == Draw::Text && position == 0 && given.is_numeric()) => Ok(DataType::Int64),
                _ => plan_err!("argument {} of {name} must be a whole number, not {given}", position + 1),
            })
            .collect()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.draw {
            Draw::Double | Draw::Gaussian => DataType::Float64,
            Draw::Text => DataType::Utf8,
            Draw::Uniform => uniform_type(&arg_types[0], &arg_types[1]),
        })
    }

    /// Gives the call its own generator, seeded from its (by now constant) seed.
    fn simplify(&self, call: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        if self.generator.is_some() {
            return Ok(ExprSimplifyResult::Original(call));
        }
        let name = self.name();
        let seed = match call.get(self.draw.seed_position()) {
            None => None,
            Some(Expr::Literal(value, _)) => Some(value.clone()),
            Some(other) => return plan_err!("the seed of {name} must be a constant, not {other}"),
        };
        let generator = Arc::new(Mutex::new(XorShift::new(seed_of(name, seed.as_ref())?)));
        let planned = ScalarUDF::new_from_impl(SeededRandom::new(self.draw, Some(generator)));
        Ok(ExprSimplifyResult::Simplified(planned.call(call)))
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = call.number_rows;
        let generator = match &self.generator {
            Some(generator) => generator.clone(),
            None => {
                let seed = match call.args.get(self.draw.seed_position()) {
                    Some(ColumnarValue::Scalar(seed)) => Some(seed),
                    Some(ColumnarValue::Array(_)) => return exec_err!("the seed of {} must be a constant", self.name()),
                    None => None,
                };
                Arc::new(Mutex::new(XorShift::new(seed_of(self.name(), seed)?)))
            }
        };
        let mut generator = generator.lock().map_err(|_| datafusion::error::DataFusionError::Execution("a random generator was poisoned".into()))?;
        let answer: ArrayRef = match self.draw {
            Draw::Double => Arc::new((0..rows).map(|_| generator.next_double()).collect::<Float64Array>()),
            Draw::Gaussian => Arc::new((0..rows).map(|_| generator.next_gaussian()).collect::<Float64Array>()),
            Draw::Text => {
                let lengths = args::int(&call.args[0], rows)?;
                let mut texts = Vec::with_capacity(rows);
                for length in lengths.iter() {
                    let length = length.unwrap_or(0);
                    if !(0..=i32::MAX as i64).contains(&length) {
                        return exec_err!("randstr: the length {length} is not between 0 and {}", i32::MAX);
                    }
                    texts.push((0..length).map(|_| generator.next_letter_or_digit()).collect::<String>());
                }
                Arc::new(StringArray::from(texts))
            }
            Draw::Uniform => {
                let (low, high) = (args::float(&call.args[0], rows)?, args::float(&call.args[1], rows)?);
                let draws: Vec<f64> = (0..rows).map(|_| generator.next_double()).collect();
                let values = low.iter().zip(high.iter()).zip(draws).map(|((low, high), r)| Some(low? + (high? - low?) * r));
                let values: Float64Array = values.collect();
                in_type(&values, &uniform_type(&call.args[0].data_type(), &call.args[1].data_type()))?
            }
        };
        Ok(ColumnarValue::Array(answer))
    }
}

/// The type of `uniform(min, max)`: the wider whole-number type of two whole numbers, else
/// a double or float when either is one, else the decimal type of the bounds.
fn uniform_type(low: &DataType, high: &DataType) -> DataType {
    use DataType::*;
    let rank = |t: &DataType| match t {
        Int8 | UInt8 => 1,
        Int16 | UInt16 => 2,
        Int32 | UInt32 => 3,
        _ => 4,
    };
    match (low, high) {
        (a, b) if a.is_integer() && b.is_integer() => [Int8, Int16, Int32, Int64][rank(a).max(rank(b)) - 1].clone(),
        (Float64 | Null, _) | (_, Float64 | Null) => Float64,
        (Float32, _) | (_, Float32) => Float32,
        (Decimal128(p1, s1), Decimal128(p2, s2)) => {
            // Spark keeps the first when it is as wide on both sides of the point, else the second.
            if (*p1 as i16 - *s1 as i16) >= (*p2 as i16 - *s2 as i16) && s1 >= s2 { low.clone() } else { high.clone() }
        }
        (Decimal128(..), _) => low.clone(),
        (_, Decimal128(..)) => high.clone(),
        _ => Float64,
    }
}

/// Doubles in the type of `uniform`'s answer: whole numbers cut toward zero (a value out of
/// the type's range stops the query), decimals rounded half up from the double's shortest
/// digits, as Spark does.
fn in_type(values: &Float64Array, data_type: &DataType) -> Result<ArrayRef> {
    match data_type {
        DataType::Float64 => Ok(Arc::new(values.clone())),
        DataType::Float32 => Ok(Arc::new(values.iter().map(|v| v.map(|v| v as f32)).collect::<Float32Array>())),
        DataType::Decimal128(precision, scale) => {
            let limit = 10i128.pow(*precision as u32);
            let mut unscaled = Vec::with_capacity(values.len());
            for value in values.iter() {
                let Some(value) = value else {
                    unscaled.push(None);
                    continue;
                };
                match round_half_up(value, *scale as u32).filter(|u| u.abs() < limit) {
                    Some(u) => unscaled.push(Some(u)),
                    None => return exec_err!("uniform: {value} does not fit DECIMAL({precision}, {scale})"),
                }
            }
            Ok(Arc::new(Decimal128Array::from(unscaled).with_precision_and_scale(*precision, *scale)?))
        }
        whole => {
            let mut cut = Vec::with_capacity(values.len());
            for value in values.iter() {
                match value {
                    Some(v) if v.trunc() >= i64::MIN as f64 && v.trunc() < i64::MAX as f64 => cut.push(Some(v.trunc() as i64)),
                    Some(v) => return exec_err!("uniform: {v} is out of the range of {whole}"),
                    None => cut.push(None),
                }
            }
            let cut: ArrayRef = Arc::new(Int64Array::from(cut));
            let options = arrow::compute::CastOptions { safe: false, ..Default::default() };
            Ok(arrow::compute::cast_with_options(&cut, whole, &options).or_else(|_| cast(&cut, whole))?)
        }
    }
}

/// `value`'s shortest decimal digits rounded half up (away from zero) to `scale` places, as
/// an unscaled whole number.
fn round_half_up(value: f64, scale: u32) -> Option<i128> {
    let text = format!("{}", value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let kept: String = fraction.chars().chain(std::iter::repeat('0')).take(scale as usize).collect();
    let mut unscaled: i128 = format!("{whole}{kept}").parse().ok()?;
    if fraction.chars().nth(scale as usize).is_some_and(|d| d >= '5') {
        unscaled += 1;
    }
    Some(if value < 0.0 { -unscaled } else { unscaled })
}

/// Spark's `XORShiftRandom` with `java.util.Random`'s ways of turning its bits into doubles,
/// normal doubles and letters.
#[derive(Debug)]
pub struct XorShift {
    state: u64,
    /// The second of the two normal values each step of the polar method makes.
    next_gaussian: Option<f64>,
}

impl XorShift {
    /// A generator seeded as Spark seeds one: by MurmurHash3 of the seed's 8 bytes (big
    /// endian) with Scala's array seed for the low half, then with the low half for the high
    /// (Scala's MurmurHash3 of bytes; for 8 bytes, the standard one and Spark's agree).
    pub fn new(seed: i64) -> Self {
        let bytes = seed.to_be_bytes();
        let low = murmur3_32(&bytes, 0x3c07_4a61);
        let high = murmur3_32(&bytes, low);
        XorShift { state: ((high as u64) << 32) | low as u64, next_gaussian: None }
    }


    /// A standard normal double by the polar method, with fdlibm's logarithm (Java's
    /// `StrictMath.log`) so that the values are Java's to the last bit.
    pub fn next_gaussian(&mut self) -> f64 {
        if let Some(value) = self.next_gaussian.take() {
            return value;
        }
        loop {
            let v1 = 2.0 * self.next_double() - 1.0;
            let v2 = 2.0 * self.next_double() - 1.0;
            let s = v1 * v1 + v2 * v2;
            if s < 1.0 && s != 0.0 {
                let multiplier = (-2.0 * libm::log(s) / s).sqrt();
                self.next_gaussian = Some(v2 * multiplier);
                return v1 * multiplier;
            }
        }
    }

    /// One of `0-9a-zA-Z`.
    fn next_letter_or_digit(&mut self) -> char {
        const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        ALPHABET[(self.next_bits(32) as i32 % 62).unsigned_abs() as usize] as char
    }
}

impl RandomBits for XorShift {
    /// The low `bits` bits of the next state.
    fn next_bits(&mut self, bits: u32) -> u32 {
        let mut x = self.state;
        x ^= x << 21;
        x ^= x >> 35;
        x ^= x << 4;
        self.state = x;
        (x & ((1u64 << bits) - 1)) as u32
    }
}

/// A source of random bits with `java.util.Random`'s way of making a double of them.
pub trait RandomBits {
    /// The next `bits` (at most 32) random bits.
    fn next_bits(&mut self, bits: u32) -> u32;

    /// A double in [0, 1) from 53 bits.
    fn next_double(&mut self) -> f64 {
        let high = self.next_bits(26) as u64;
        let low = self.next_bits(27) as u64;
        ((high << 27) + low) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// `java.util.Random`'s own generator (a 48-bit linear congruence).
#[derive(Debug)]
pub struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    pub fn new(seed: u64) -> Self {
        JavaRandom { seed: (seed ^ Self::MULTIPLIER) & Self::MASK }
    }
}

impl RandomBits for JavaRandom {
    fn next_bits(&mut self, bits: u32) -> u32 {
        self.seed = (self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB)) & Self::MASK;
        (self.seed >> (48 - bits)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Spark 4.3's values for these seeds, one partition.
    #[test]
    fn doubles_follow_sparks_sequence() {
        let mut generator = XorShift::new(7);
        let drawn: Vec<f64> = (0..5).map(|_| generator.next_double()).collect();
        assert_eq!(drawn, [0.28188121484885875, 0.45998819035056326, 0.7690971666031955, 0.6631414615273216, 0.520550428327607]);
        assert_eq!(XorShift::new(1).next_double(), 0.6363787615254752);
    }

    #[test]
    fn normal_values_follow_sparks_sequence() {
        let mut generator = XorShift::new(123_456_789);
        let drawn: Vec<f64> = (0..8).map(|_| generator.next_gaussian()).collect();
        let spark = [-0.8251717438010928, 0.028216552454158654, 0.15155004314269518, 0.99814976988188, 0.9351355098635493, 0.29881700308361386, -1.5567274777299323, 1.7310561219038205];
        assert_eq!(drawn, spark);
        assert_eq!(XorShift::new(0).next_gaussian(), 1.6034991609278433);
    }

    #[test]
    fn decimal_bounds_give_decimals_of_sparks_type() {
        let (low, high) = (DataType::Decimal128(2, 1), DataType::Decimal128(4, 2));
        assert_eq!(uniform_type(&low, &high), high);
        let mut generator = XorShift::new(3);
        let values: Float64Array = (0..4).map(|_| Some(1.5 + (10.25 - 1.5) * generator.next_double())).collect();
        let decimals = in_type(&values, &high).unwrap();
        let decimals: Vec<i128> = decimals.as_any().downcast_ref::<Decimal128Array>().unwrap().values().to_vec();
        assert_eq!(decimals, [375, 736, 974, 789]);
    }

    #[test]
    fn letters_follow_sparks_sequence() {
        let mut generator = XorShift::new(0);
        assert_eq!((0..9).map(|_| generator.next_letter_or_digit()).collect::<String>(), "ceV0PXaR2");
    }

    #[test]
    fn decimals_round_half_up_from_the_shortest_digits() {
        assert_eq!(round_half_up(0.125, 2), Some(13));
        assert_eq!(round_half_up(-0.125, 2), Some(-13));
        assert_eq!(round_half_up(8.15, 1), Some(82));
    }
}
