//! Spark's SQL dialect: Databricks' (which sqlparser knows) with Spark's operators it lacks,
//! the shifts `<<`, `>>` and `>>>` (binding less tightly than `+` and more than `&`, as in
//! Spark) and whole-number division `a div b`, `TIMESTAMP_LTZ '...'` literals (read as
//! `TIMESTAMP`: hela's session zone is UTC), bytes written `X 'CAFE'`, and
//! `trim(LEADING FROM x)` without characters.

use std::any::TypeId;

use datafusion::sql::sqlparser::ast::{self, BinaryOperator, Expr};
use datafusion::sql::sqlparser::dialect::{DatabricksDialect, Dialect};
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

use super::calls::{binary, call};

/// How tightly Spark's shifts bind: below `+`/`-` (30), above `&` (23).
const SHIFT_PRECEDENCE: u8 = 25;
/// `div` binds as `*` and `/` do.
const DIV_PRECEDENCE: u8 = 40;

/// The dialect hela reads Spark SQL in.
#[derive(Debug, Default)]
pub struct SparkDialect;

/// The operators this dialect adds, found at the parser's next token.
enum SparkOperator {
    ShiftLeft,
    ShiftRight,
    ShiftRightUnsigned,
    Div,
}

fn next_operator(parser: &Parser) -> Option<SparkOperator> {
    match &parser.peek_token_ref().token {
        Token::ShiftLeft => Some(SparkOperator::ShiftLeft),
        Token::ShiftRight if parser.peek_nth_token_ref(1).token == Token::Gt => Some(SparkOperator::ShiftRightUnsigned),
        Token::ShiftRight => Some(SparkOperator::ShiftRight),
        Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case("div") => Some(SparkOperator::Div),
        _ => None,
    }
}

impl Dialect for SparkDialect {
    fn dialect(&self) -> TypeId {
        // The parser's Databricks-specific rules apply unchanged.
        DatabricksDialect.dialect()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        DatabricksDialect.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        DatabricksDialect.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        DatabricksDialect.is_identifier_part(ch)
    }

    fn supports_numeric_prefix(&self) -> bool {
        true
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }

    fn supports_group_by_expr(&self) -> bool {
        true
    }

    fn supports_table_versioning(&self) -> bool {
        true
    }

    fn supports_lambda_functions(&self) -> bool {
        true
    }

    fn supports_select_wildcard_except(&self) -> bool {
        true
    }

    fn require_interval_qualifier(&self) -> bool {
        true
    }

    fn supports_struct_literal(&self) -> bool {
        true
    }

    fn supports_nested_comments(&self) -> bool {
        true
    }

    fn supports_group_by_with_modifier(&self) -> bool {
        true
    }

    fn supports_values_as_table_factor(&self) -> bool {
        true
    }

    fn supports_optimize_table(&self) -> bool {
        true
    }

    fn supports_bang_not_operator(&self) -> bool {
        true
    }

    fn supports_cte_without_as(&self) -> bool {
        true
    }

    fn supports_select_item_multi_column_alias(&self) -> bool {
        true
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let Token::Word(word) = &parser.peek_token_ref().token else { return None };
        if word.quote_style.is_some() {
            return None;
        }
        if word.value.eq_ignore_ascii_case("trim") {
            return trim_without_characters(parser);
        }
        let Token::SingleQuotedString(text) = &parser.peek_nth_token_ref(1).token else { return None };
        let literal = if word.value.eq_ignore_ascii_case("timestamp_ltz") {
            Expr::TypedString(ast::TypedString {
                data_type: ast::DataType::Timestamp(None, ast::TimezoneInfo::None),
                value: ast::Value::SingleQuotedString(text.clone()).into(),
                uses_odbc_syntax: false,
            })
        } else if word.value.eq_ignore_ascii_case("x") {
            // `X 'CAFE'` (with a space) is bytes too; an odd count of digits has a leading 0.
            let digits = if text.len() % 2 == 1 { format!("0{text}") } else { text.clone() };
            Expr::value(ast::Value::HexStringLiteral(digits))
        } else {
            return None;
        };
        parser.advance_token();
        parser.advance_token();
        Some(Ok(literal))
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        Some(Ok(match next_operator(parser)? {
            SparkOperator::Div => DIV_PRECEDENCE,
            _ => SHIFT_PRECEDENCE,
        }))
    }

    fn parse_infix(&self, parser: &mut Parser, expr: &Expr, precedence: u8) -> Option<Result<Expr, ParserError>> {
        let operator = next_operator(parser)?;
        parser.advance_token();
        if matches!(operator, SparkOperator::ShiftRightUnsigned) {
            parser.advance_token();
        }
        let right = match parser.parse_subexpr(precedence) {
            Ok(right) => right,
            Err(error) => return Some(Err(error)),
        };
        let left = expr.clone();
        Some(Ok(match operator {
            SparkOperator::ShiftLeft => binary(left, BinaryOperator::PGBitwiseShiftLeft, right),
            SparkOperator::ShiftRight => binary(left, BinaryOperator::PGBitwiseShiftRight, right),
            SparkOperator::ShiftRightUnsigned => call("shiftrightunsigned", vec![left, right]),
            SparkOperator::Div => call("div", vec![left, right]),
        }))
    }
}

/// `trim(BOTH | LEADING | TRAILING FROM x)`: a side with no characters named (spaces), which
/// sqlparser reads only with characters.
fn trim_without_characters(parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
    if parser.peek_nth_token_ref(1).token != Token::LParen {
        return None;
    }
    let side = match &parser.peek_nth_token_ref(2).token {
        Token::Word(w) if w.value.eq_ignore_ascii_case("both") => ast::TrimWhereField::Both,
        Token::Word(w) if w.value.eq_ignore_ascii_case("leading") => ast::TrimWhereField::Leading,
        Token::Word(w) if w.value.eq_ignore_ascii_case("trailing") => ast::TrimWhereField::Trailing,
        _ => return None,
    };
    if !matches!(&parser.peek_nth_token_ref(3).token, Token::Word(w) if w.value.eq_ignore_ascii_case("from")) {
        return None;
    }
    (0..4).for_each(|_| parser.advance_token());
    Some(parser.parse_expr().and_then(|expr| {
        parser.expect_token(&Token::RParen)?;
        Ok(Expr::Trim { expr: Box::new(expr), trim_where: Some(side), trim_what: None, trim_characters: None })
    }))
}
