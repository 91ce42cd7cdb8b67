//! Number formats (Spark's `0`, `9`, `.`, `D`, `,`, `G`, `$`, `S`, `MI`, `PR`) and Java's
//! decimal-format patterns, over numbers as decimal digits.

/// The shortest decimal digits that read back as `value` (as Java's `Double.toString`
/// writes them): `(units, scale)` with `value = units × 10^-scale` (the scale is negative
/// for a whole number ending in zeros); none for NaN and infinities.
pub fn shortest_digits(value: f64) -> Option<(i128, i64)> {
    if !value.is_finite() {
        return None;
    }
    // `{:e}` writes d.ddd e x.
    let written = format!("{value:e}");
    let (mantissa, exponent) = written.split_once('e')?;
    let exponent: i64 = exponent.parse().ok()?;
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let fraction_digits = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i64);
    Some((digits.parse().ok()?, fraction_digits - exponent))
}

/// A number as decimal digits: `units` × 10^-`scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decimal {
    pub negative: bool,
    pub units: u128,
    pub scale: u32,
}

impl Decimal {
    /// The decimal a double is written as (its shortest form, as Java's `Double.toString`).
    pub fn of_double(value: f64) -> Option<Decimal> {
        let (units, scale) = shortest_digits(value)?;
        let units = units.unsigned_abs();
        let decimal = if scale >= 0 {
            Decimal { negative: false, units, scale: scale as u32 }
        } else {
            Decimal { negative: false, units: units.checked_mul(10u128.checked_pow((-scale) as u32)?)?, scale: 0 }
        };
        Some(Decimal { negative: value < 0.0, ..decimal })
    }

    /// Rounded to `scale` decimals, a half to the even digit.
    fn rounded_half_even(self, scale: u32) -> Decimal {
        if scale >= self.scale {
            let factor = 10u128.pow((scale - self.scale).min(30));
            return Decimal { units: self.units.saturating_mul(factor), scale, ..self };
        }
        let Some(unit) = 10u128.checked_pow(self.scale - scale) else { return Decimal { units: 0, scale, ..self } };
        let (quotient, remainder) = (self.units / unit, self.units % unit);
        let up = remainder * 2 > unit || (remainder * 2 == unit && quotient % 2 == 1);
        Decimal { units: quotient + u128::from(up), scale, ..self }
    }

    /// The digits before and after the decimal point.
    fn digits(self) -> (String, String) {
        let all = format!("{:0>width$}", self.units, width = self.scale as usize + 1);
        let (whole, fraction) = all.split_at(all.len() - self.scale as usize);
        (whole.trim_start_matches('0').to_string(), fraction.to_string())
    }
}

/// What a number format is made of.
#[derive(Clone, Debug, PartialEq)]
enum Element {
    Digit { zero: bool },
    Point,
    Group,
    Dollar,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Sign {
    None,
    Leading,
    Trailing,
    Minus,
    Brackets,
}

#[derive(Debug)]
pub struct NumberFormat {
    elements: Vec<Element>,
    sign: Sign,
}

impl NumberFormat {
    pub fn parse(format: &str) -> Result<NumberFormat, String> {
        let upper = format.to_ascii_uppercase();
        let (mut body, mut sign) = (upper.as_str(), Sign::None);
        if let Some(rest) = body.strip_prefix('S') {
            (body, sign) = (rest, Sign::Leading);
        } else if let Some(rest) = body.strip_suffix('S') {
            (body, sign) = (rest, Sign::Trailing);
        } else if let Some(rest) = body.strip_suffix("MI") {
            (body, sign) = (rest, Sign::Minus);
        } else if let Some(rest) = body.strip_suffix("PR") {
            (body, sign) = (rest, Sign::Brackets);
        }
        let elements = body
            .chars()
            .map(|c| match c {
                '0' => Ok(Element::Digit { zero: true }),
                '9' => Ok(Element::Digit { zero: false }),
                '.' | 'D' => Ok(Element::Point),
                ',' | 'G' => Ok(Element::Group),
                '$' => Ok(Element::Dollar),
                other => Err(format!("the number format '{format}' has '{other}', which is not one of 0 9 . D , G $ S MI PR")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let points = elements.iter().filter(|e| **e == Element::Point).count();
        if points > 1 || elements.iter().filter(|e| **e == Element::Dollar).count() > 1 || !elements.iter().any(|e| matches!(e, Element::Digit { .. })) {
            return Err(format!("the number format '{format}' needs digits (0 or 9), and at most one decimal point and one $"));
        }
        Ok(NumberFormat { elements, sign })
    }

    fn split(&self) -> (&[Element], &[Element]) {
        match self.elements.iter().position(|e| *e == Element::Point) {
            Some(point) => (&self.elements[..point], &self.elements[point + 1..]),
            None => (&self.elements[..], &[]),
        }
    }

    fn digits_in(elements: &[Element]) -> usize {
        elements.iter().filter(|e| matches!(e, Element::Digit { .. })).count()
    }

    /// The precision and scale of the decimals this format reads.
    pub fn precision_and_scale(&self) -> (u8, i8) {
        let (whole, fraction) = self.split();
        let scale = Self::digits_in(fraction);
        ((Self::digits_in(whole) + scale).clamp(1, 38) as u8, scale.min(38) as i8)
    }

    /// `number` written by this format; `#` in every digit when it has more digits than the
    /// format on either side of the point (it is not rounded).
    pub fn write(&self, number: Decimal) -> String {
        let (whole, fraction) = self.split();
        let (digits, fraction_digits) = number.digits();
        let fraction_digits = fraction_digits.trim_end_matches('0').to_string();
        let slots = Self::digits_in(whole);
        let overflow = digits.len() > slots || fraction_digits.len() > Self::digits_in(fraction);
        let pad_zero = whole.iter().find_map(|e| if let Element::Digit { zero } = e { Some(*zero) } else { None }).unwrap_or(false);
        let mut out = String::new();
        let mut digit_at = 0;
        let mut started = false;
        for element in whole {
            match element {
                Element::Digit { .. } => {
                    let index = digit_at as isize - (slots - digits.len().min(slots)) as isize;
                    digit_at += 1;
                    if overflow {
                        out.push('#');
                    } else if index >= 0 {
                        started = true;
                        out.push(digits.as_bytes()[index as usize] as char);
                    } else if pad_zero || (digit_at == slots && digits.is_empty() && !fraction.is_empty()) {
                        started = true;
                        out.push('0');
                    } else {
                        out.push(' ');
                    }
                }
                Element::Group => out.push(if started || overflow { ',' } else { ' ' }),
                Element::Dollar => out.push('$'),
                Element::Point => {}
            }
        }
        if !fraction.is_empty() || self.elements.contains(&Element::Point) {
            out.push('.');
        }
        let mut fraction_at = 0;
        for element in fraction {
            match element {
                Element::Digit { .. } => {
                    out.push(if overflow { '#' } else { fraction_digits.as_bytes().get(fraction_at).map_or('0', |d| *d as char) });
                    fraction_at += 1;
                }
                Element::Group => out.push(','),
                Element::Dollar => out.push('$'),
                Element::Point => {}
            }
        }
        let negative = number.negative && number.units != 0;
        // A leading sign or bracket goes next to the number, after the padding.
        let number = out.trim_start();
        let padding = &out[..out.len() - number.len()];
        match self.sign {
            // Without a sign in the format, none is written (as in Spark).
            Sign::None => out,
            Sign::Leading => format!("{padding}{}{number}", if negative { '-' } else { '+' }),
            Sign::Trailing => format!("{out}{}", if negative { '-' } else { '+' }),
            Sign::Minus => format!("{out}{}", if negative { '-' } else { ' ' }),
            Sign::Brackets if negative => format!("{padding}<{number}>"),
            Sign::Brackets => format!("{out}  "),
        }
    }

    /// The number `text` holds by this format (units at the format's scale), or why not.
    pub fn read(&self, text: &str) -> Result<i128, String> {
        let mismatch = || format!("'{text}' does not match the number format");
        let mut body = text.trim();
        let mut negative = false;
        match self.sign {
            Sign::Leading => {
                if let Some(rest) = body.strip_prefix('-') {
                    (body, negative) = (rest, true);
                } else if let Some(rest) = body.strip_prefix('+') {
                    body = rest;
                }
            }
            Sign::Trailing | Sign::Minus => {
                if let Some(rest) = body.strip_suffix('-') {
                    (body, negative) = (rest, true);
                } else if let Some(rest) = body.strip_suffix('+') {
                    body = rest;
                }
            }
            Sign::Brackets => {
                if let Some(rest) = body.strip_prefix('<').and_then(|b| b.strip_suffix('>')) {
                    (body, negative) = (rest, true);
                }
            }
            Sign::None => {}
        }
        if self.elements.contains(&Element::Dollar) {
            body = body.strip_prefix('$').ok_or_else(mismatch)?;
        }
        let (whole_format, fraction_format) = self.split();
        let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
        // The whole part, right-aligned against the format's: digits against digits,
        // separators against separators.
        let format: Vec<&Element> = whole_format.iter().filter(|e| **e != Element::Dollar).collect();
        if whole.len() > format.len() {
            return Err(mismatch());
        }
        for (c, element) in whole.chars().rev().zip(format.iter().rev()) {
            let fits = match element {
                Element::Digit { .. } => c.is_ascii_digit(),
                _ => c == ',',
            };
            if !fits {
                return Err(mismatch());
            }
        }
        let scale = Self::digits_in(fraction_format);
        if fraction.len() > scale || !fraction.chars().all(|c| c.is_ascii_digit()) || (whole.is_empty() && fraction.is_empty()) {
            return Err(mismatch());
        }
        let digits: String = whole.chars().filter(char::is_ascii_digit).chain(format!("{fraction:0<scale$}").chars()).collect();
        let units: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| mismatch())? };
        Ok(if negative { -units } else { units })
    }
}

/// Java's `DecimalFormat` pattern, in its common part: `#`, `0`, `,` and `.`.
pub struct DecimalPattern {
    pub min_whole: usize,
    pub group: Option<usize>,
    pub min_fraction: u32,
    pub max_fraction: u32,
}

impl DecimalPattern {
    pub fn parse(pattern: &str) -> Result<DecimalPattern, String> {
        if !pattern.chars().all(|c| matches!(c, '#' | '0' | ',' | '.')) || pattern.matches('.').count() > 1 {
            return Err(format!("the pattern '{pattern}' is not made of #, 0, ',' and at most one '.'"));
        }
        let (whole, fraction) = pattern.split_once('.').unwrap_or((pattern, ""));
        let group = whole.rfind(',').map(|at| whole.len() - at - 1).filter(|g| *g > 0);
        Ok(DecimalPattern {
            min_whole: whole.chars().filter(|c| *c == '0').count(),
            group,
            min_fraction: fraction.chars().filter(|c| *c == '0').count() as u32,
            max_fraction: fraction.chars().filter(|c| matches!(c, '0' | '#')).count() as u32,
        })
    }

    pub fn write(&self, number: Decimal) -> String {
        let number = number.rounded_half_even(self.max_fraction);
        let (whole, fraction) = number.digits();
        let whole = format!("{whole:0>width$}", width = self.min_whole);
        let grouped = match self.group {
            Some(size) => {
                let digits: Vec<char> = whole.chars().collect();
                let first = digits.len() % size;
                let mut out = String::new();
                for (i, c) in digits.iter().enumerate() {
                    if i > 0 && (i + size - first).is_multiple_of(size) {
                        out.push(',');
                    }
                    out.push(*c);
                }
                out
            }
            None => whole,
        };
        let mut fraction = fraction;
        while fraction.len() as u32 > self.min_fraction && fraction.ends_with('0') {
            fraction.pop();
        }
        let sign = if number.negative && number.units != 0 { "-" } else { "" };
        if fraction.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{fraction}") }
    }
}

#[cfg(test)]
mod tests {
    use super::{Decimal, DecimalPattern, NumberFormat};

    fn written(value: f64, format: &str) -> String {
        NumberFormat::parse(format).unwrap().write(Decimal::of_double(value).unwrap())
    }

    #[test]
    fn writes_and_reads_numbers_by_format() {
        assert_eq!(written(454.0, "999"), "454");
        assert_eq!(written(454.0, "000D00"), "454.00");
        assert_eq!(written(12454.0, "99G999"), "12,454");
        assert_eq!(written(78.12, "$99.99"), "$78.12");
        assert_eq!(written(-12454.8, "99G999D9S"), "12,454.8-");
        assert_eq!(written(12454.0, "99"), "##");
        assert_eq!(written(0.25, "0.9"), "#.#");
        assert_eq!(written(0.0, "999"), "   ");
        assert_eq!(written(0.5, "9.99"), "0.50");
        assert_eq!(written(-5.0, "999PR"), "  <5>");
        let format = NumberFormat::parse("99,999.9S").unwrap();
        assert_eq!(format.read("12,454.8-"), Ok(-124548));
        assert!(NumberFormat::parse("999").unwrap().read("1a2").is_err());
        assert!(NumberFormat::parse("9X9").is_err());
    }

    #[test]
    fn formats_as_java_decimal_format() {
        let grouped = |d| DecimalPattern { min_whole: 1, group: Some(3), min_fraction: d, max_fraction: d };
        assert_eq!(grouped(4).write(Decimal::of_double(12332.123456).unwrap()), "12,332.1235");
        assert_eq!(grouped(0).write(Decimal::of_double(-1234.5).unwrap()), "-1,234");
        assert_eq!(DecimalPattern::parse("##################.###").unwrap().write(Decimal::of_double(12332.123456).unwrap()), "12332.123");
    }
}
