//! The values Spark's functions read from text and bytes a query hands them: XML and XPath
//! expressions (`xpath_*`), number formats (`to_number`, `to_char`, `format_number`) and
//! well-known binary (`st_*`). Each is read, or refused with a reason; never a panic, and
//! WKB read back from its rewritten form is the same.
#![no_main]

#[path = "../../crates/sql/src/spark/functions/xpath/document.rs"]
mod document;
#[path = "../../crates/sql/src/spark/functions/xpath/expression.rs"]
mod expression;
#[path = "../../crates/sql/src/spark/functions/number_format/format.rs"]
mod format;
#[path = "../../crates/sql/src/spark/functions/geometry/wkb.rs"]
mod wkb;

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    match selector % 3 {
        0 => {
            // An XPath expression, a NUL, then the XML.
            let Ok(text) = std::str::from_utf8(rest) else { return };
            let (path, xml) = text.split_once('\0').unwrap_or((text, "<a><b>1</b></a>"));
            if let (Ok(expression), Ok(document)) = (expression::Parser::new(path).expression(), document::Document::parse(xml)) {
                let document = Arc::new(document);
                if let Ok(value) = expression.evaluate(&document, document::Document::ROOT) {
                    let _ = (value.string(), value.number(), value.boolean());
                }
            }
        }
        1 => {
            // A number format, a NUL, then text to read and a number to write with it.
            let Ok(text) = std::str::from_utf8(rest) else { return };
            let (shape, input) = text.split_once('\0').unwrap_or((text, "12,454.8-"));
            if let Ok(number_format) = format::NumberFormat::parse(shape) {
                let _ = number_format.read(input);
                let _ = number_format.precision_and_scale();
                if let Some(number) = input.parse::<f64>().ok().and_then(format::Decimal::of_double) {
                    let _ = number_format.write(number);
                }
            }
            if let (Ok(pattern), Some(number)) = (format::DecimalPattern::parse(shape), input.parse::<f64>().ok().and_then(format::Decimal::of_double)) {
                let _ = pattern.write(number);
            }
        }
        _ => {
            if let Ok(big) = wkb::rewrite(rest, wkb::Order::Big) {
                let little = wkb::rewrite(&big, wkb::Order::Little).expect("rewritten WKB reads again");
                assert_eq!(wkb::rewrite(&little, wkb::Order::Big).as_deref(), Ok(big.as_slice()));
            }
        }
    }
});
