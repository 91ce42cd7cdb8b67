//! Spark SQL semantics of functions, subscripts, comparisons and names, each checked
//! against the answer Apache Spark 4 gives for the same text.

use arrow::util::display::array_value_to_string;
use hela_lake::RawEvents;
use hela_sql::{Session, TableSpec};

/// Runs `sql` (`;`-separated statements) in a fresh session and returns the last one's batches.
fn batches(tables: &[TableSpec], sql: &str) -> Result<Vec<arrow::array::RecordBatch>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let mut warn = |w: String| panic!("unexpected warning: {w}");
        let session = Session::new(None, tables, &RawEvents::default(), &mut warn).map_err(|e| e.to_string())?;
        session.run(sql).await.map_err(|e| e.to_string())?.collect().await.map_err(|e| e.to_string())
    })
}

/// Runs `sql` and returns every value of the first row as text.
fn row(tables: &[TableSpec], sql: &str) -> Result<Vec<String>, String> {
    let batches = batches(tables, sql)?;
    let batch = batches.iter().find(|b| b.num_rows() > 0).ok_or("no rows")?;
    Ok(batch.columns().iter().map(|c| array_value_to_string(c, 0).unwrap()).collect())
}

fn value(sql: &str) -> String {
    let values = row(&[], sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    values.join(" | ")
}

fn error(sql: &str) -> String {
    row(&[], sql).expect_err(sql)
}

#[test]
fn split_takes_a_regular_expression_and_arrays_count_from_zero() {
    assert_eq!(value(r"SELECT split('C:\\Windows\\System32\\cmd.exe', '\\\\')[3]"), "cmd.exe");
    assert_eq!(value(r"SELECT split('C:\\Windows\\System32\\cmd.exe', '\\\\')"), "[C:, Windows, System32, cmd.exe]");
    assert_eq!(value("SELECT split('a,b,,', ',')"), "[a, b, , ]");
    assert_eq!(value("SELECT split('a,b,c', ',', 2)"), "[a, b,c]");
    assert_eq!(value("SELECT split(',a', ',')"), "[, a]");
    assert_eq!(value("SELECT split('a1b22c', '[0-9]+')[2]"), "c");
    let index = "SELECT split('a,b,c', ',')[n] FROM (SELECT 1 AS n)";
    assert_eq!(value(index), "b");
}

#[test]
fn reverse_works_on_strings_and_arrays() {
    assert_eq!(value(r"SELECT reverse(split('C:\\Windows\\cmd.exe', '\\\\'))[0]"), "cmd.exe");
    assert_eq!(value("SELECT reverse('abc')"), "cba");
}

#[test]
fn spark_string_functions() {
    assert_eq!(value("SELECT hex('cmd'), hex(255)"), "636D64 | FF");
    assert_eq!(value("SELECT concat('a', NULL) IS NULL, concat('a', 1)"), "true | a1");
    assert_eq!(value("SELECT substring('powershell', 2, 3), substring('powershell', -5), length('abc')"), "owe | shell | 3");
    assert_eq!(value("SELECT coalesce(NULL, 'x'), lower('ABC'), upper('abc')"), "x | abc | ABC");
    assert_eq!(value("SELECT CAST('3' AS INT) + 1"), "4");
}

#[test]
fn regexp_extract_and_replace_as_in_spark() {
    assert_eq!(value(r"SELECT regexp_extract('powershell -enc SQBm', '-enc (\\w+)', 1)"), "SQBm");
    assert_eq!(value(r"SELECT regexp_extract('nothing', '-enc (\\w+)', 1)"), "");
    assert_eq!(value("SELECT regexp_extract('abc', '(a)(b)', 0), regexp_extract('abc', '(a)(b)')"), "ab | a");
    assert!(error("SELECT regexp_extract('abc', '(a)', 2)").contains("has 1 groups, so group 2 does not exist"));
    assert_eq!(value("SELECT regexp_replace('aaa', 'a', 'b')"), "bbb");
    assert_eq!(value(r"SELECT regexp_replace('ab12', '([a-z]+)(\\d+)', '$2$1')"), "12ab");
    assert_eq!(value("SELECT regexp_replace('abcabc', 'a', 'X', 2)"), "abcXbc");
    assert!(error("SELECT regexp_replace('a', '(', 'b')").contains("the regular expression '(' is not valid"));
}

#[test]
fn date_time_functions_take_java_patterns() {
    assert_eq!(value("SELECT date_format('2020-09-21T04:15:00.100Z', 'yyyy-MM-dd HH:mm')"), "2020-09-21 04:15");
    assert_eq!(
        value("SELECT date_format(to_timestamp('2020-09-21 04:15:00'), 'EEE, d MMM yyyy hh:mm a')"),
        "Mon, 21 Sep 2020 04:15 AM"
    );
    assert_eq!(value("SELECT to_timestamp('21/09/2020 04:15', 'dd/MM/yyyy HH:mm')"), "2020-09-21T04:15:00");
    assert_eq!(value("SELECT to_timestamp('2020-09-21T04:15:00.100Z')"), "2020-09-21T04:15:00.100");
    assert_eq!(value("SELECT from_unixtime(1600661700), from_unixtime(1600661700, 'yyyy/MM/dd')"), "2020-09-21 04:15:00 | 2020/09/21");
    assert_eq!(value("SELECT unix_timestamp('2020-09-21 04:15:00')"), "1600661700");
    assert_eq!(value(r#"SELECT unix_timestamp('2020-09-21T04:15:00.100Z', "yyyy-MM-dd'T'HH:mm:ss.SSSX")"#), "1600661700");
    assert_eq!(value("SELECT to_date('2020-09-21T04:15:00.100Z')"), "2020-09-21");
    assert!(error("SELECT date_format('2020-09-21', 'qqq')").contains("uses 'qqq', which hela does not support"));
}

#[test]
fn text_that_is_not_a_time_reads_as_null_where_spark_would_stop() {
    // Spark 4 fails these queries (CAST_INVALID_INPUT / CANNOT_PARSE_TIMESTAMP); a hunt over
    // dirty logs wants the rows that do read.
    assert_eq!(value("SELECT to_timestamp('garbage') IS NULL, date_format('garbage', 'yyyy') IS NULL"), "true | true");
    assert_eq!(value("SELECT to_timestamp('2020-09-21 04:15', 'yyyy-MM-dd HH:mm:ss') IS NULL"), "true");
}

#[test]
fn text_compared_with_numbers_is_read_as_a_number() {
    assert_eq!(value("SELECT '3' = 3, ' 3' = 3, '3' = 3.0, '10' > 9, '4' IN (3, 4), '5' BETWEEN 1 AND 9"), "true | true | true | true | true | true");
    // Spark 4 fails the query on '-'; here it is simply not 0.
    assert_eq!(value("SELECT ('-' = 0) IS NULL, count(*) FROM (SELECT '-' AS p UNION ALL SELECT '0') WHERE p = 0"), "true | 1");
    assert_eq!(value("SELECT count(*) FROM (SELECT 'x' AS p) WHERE p <> 0 OR p = 'x'"), "1");
    // An explicit cast is the user's: text that is not a number stops the query, as in Spark.
    assert!(error("SELECT CAST('x' AS INT)").contains("Cannot cast string 'x'"));
}

#[test]
fn subqueries_in_from_and_join_with_grouping_ordering_and_limits() {
    let sql = "SELECT h.host, count(DISTINCT p.image) AS images, count(*) AS n \
               FROM (SELECT 'ws1' AS host, '0x1' AS logon UNION ALL SELECT 'ws2', '0x2') h \
               JOIN (SELECT '0x1' AS logon, 'cmd.exe' AS image UNION ALL SELECT '0x1', 'cmd.exe' \
                     UNION ALL SELECT '0x1', 'whoami.exe' UNION ALL SELECT '0x2', 'cmd.exe') p \
               ON h.logon = p.logon GROUP BY h.host ORDER BY n DESC LIMIT 1";
    assert_eq!(value(sql), "ws1 | 2 | 3");
}

#[test]
fn text_compares_with_timestamps() {
    assert_eq!(value("SELECT '2020-09-21 04:15:00' < to_timestamp('2020-09-22 00:00:00')"), "true");
    let between = r#"SELECT count(*) FROM (SELECT '2019-05-18T10:00:00.000Z' AS ts) WHERE ts BETWEEN "2019-05-18 00:00:00.000" AND "2019-05-19 00:00:00.000""#;
    assert_eq!(value(between), "1");
}

#[test]
fn a_like_escape_before_an_ordinary_letter_is_refused_as_spark_refuses_it() {
    // Spark 4: INVALID_FORMAT.ESC_IN_THE_MIDDLE and ESC_AT_THE_END.
    assert!(error(r"SELECT 'ab' LIKE 'a\\b'").contains("escapes 'b'"));
    assert!(error(r"SELECT 'ab' ILIKE 'a\\'").contains("ends with its escape character"));
    assert!(error(r"SELECT 'ab' LIKE 'a/b' ESCAPE '/'").contains("escapes 'b'"));
    assert_eq!(value(r"SELECT 'a%' LIKE 'a\\%', 'ab' LIKE 'a\\%', 'a\\b' LIKE 'a\\\\b', 'a_' LIKE 'a/_' ESCAPE '/', 'a\\b' LIKE 'a\\_' ESCAPE '/'"), "true | false | true | true | true");
}

#[test]
fn out_of_range_subscripts_are_null() {
    // Spark 4 stops with INVALID_ARRAY_INDEX; hela answers null, as Spark's get() does.
    assert_eq!(value("SELECT split('a,b', ',')[5] IS NULL"), "true");
}

#[test]
fn the_spark_sql_hunters_write_beyond_the_playbooks() {
    // Each answer is Spark 4.3's for the same text (crates/sql/tests/spark_functions/cases.sql).
    let lateral = "SELECT h, x FROM (SELECT 'ws1' AS h, split('a,b', ',') AS arr UNION ALL SELECT 'ws2', array()) \
                   LATERAL VIEW OUTER explode(arr) t AS x ORDER BY h, x";
    let table = arrow::util::pretty::pretty_format_batches(&batches(&[], lateral).unwrap()).unwrap().to_string();
    assert!(table.contains("| ws1 | a |") && table.contains("| ws1 | b |") && table.contains("| ws2 |   |"), "{table}");
    assert_eq!(value("SELECT count(*) FROM (SELECT explode(split('a,b,c', ',')) AS x)"), "3");
    assert_eq!(value("SELECT decode(unbase64('dwBoAG8AYQBtAGkA'), 'UTF-16LE')"), "whoami");
    assert_eq!(value(r#"SELECT get_json_object('{"a":{"b":[1,2,{"c":"x"}]}}', '$.a.b[2].c')"#), "x");
    assert_eq!(value("SELECT named_struct('a', 1, 'b', 'x').b"), "x");
    assert_eq!(value("SELECT locate('b', 'abcb', 3), count_if(true), 3 / 2"), "4 | 1 | 1.5");
    let windows = "SELECT window.start, count(*) AS n FROM (SELECT CAST('2020-09-21 04:15:00' AS TIMESTAMP) AS ts \
                   UNION ALL SELECT CAST('2020-09-21 04:17:00' AS TIMESTAMP) UNION ALL SELECT CAST('2020-09-21 04:31:00' AS TIMESTAMP)) \
                   GROUP BY window(ts, '10 minutes') ORDER BY 1";
    assert_eq!(value(windows), "2020-09-21T04:10:00 | 2");
    let times = "SELECT 'ws1' AS h, CAST('2020-09-21 04:15:00' AS TIMESTAMP) AS ts UNION ALL SELECT 'ws1', CAST('2020-09-21 04:17:00' AS TIMESTAMP) \
                 UNION ALL SELECT 'ws1', CAST('2020-09-21 04:31:00' AS TIMESTAMP) UNION ALL SELECT 'ws2', CAST('2020-09-21 04:16:00' AS TIMESTAMP)";
    let sliding = format!("SELECT count(*) FROM (SELECT window.start, count(*) AS n FROM ({times}) WHERE h = 'ws1' GROUP BY window(ts, '15 minutes', '5 minutes'))");
    assert_eq!(value(&sliding), "6");
    let first = format!("SELECT window.start, window.end, count(*) FROM ({times}) WHERE h = 'ws1' GROUP BY window(ts, '15 minutes', '5 minutes') ORDER BY 1 LIMIT 1");
    assert_eq!(value(&first), "2020-09-21T04:05:00 | 2020-09-21T04:20:00 | 2");
    let sessions = format!("SELECT h, session_window.start, session_window.end, count(*) AS n FROM ({times}) GROUP BY h, session_window(ts, '10 minutes') ORDER BY h, 2 LIMIT 1");
    assert_eq!(value(&sessions), "ws1 | 2020-09-21T04:15:00 | 2020-09-21T04:27:00 | 2");
    assert!(error("SELECT count(*) FROM (SELECT now() AS ts) GROUP BY window(ts, '1 minute', '5 minutes')").contains("the slide must not be longer"));
    assert!(error("SELECT approx_top_k(1)").contains("`approx_top_k` is one of Spark's built-in functions that hela does not support yet"));
}

#[test]
fn sketches_xml_variants_and_formats_as_spark_answers_them() {
    // Spark 4.3's answers to the same text.
    assert_eq!(value("SELECT hll_sketch_estimate(hll_union(hll_sketch_agg(c1), hll_sketch_agg(c2))) FROM VALUES (1, 4), (1, 4), (2, 5), (2, 5), (3, 6) tab(c1, c2)"), "6");
    assert_eq!(value("SELECT theta_sketch_estimate(theta_difference(theta_sketch_agg(c1), theta_sketch_agg(c2))) FROM VALUES (5, 4), (1, 4), (2, 5), (2, 5), (3, 1) tab(c1, c2)"), "2");
    assert_eq!(value("SELECT tuple_sketch_summary_double(tuple_sketch_agg_double(k, v)) FROM VALUES (1, 1.0D), (1, 2.0D), (2, 3.0D) tab(k, v)"), "6.0");
    assert_eq!(value("SELECT kll_sketch_get_quantile_bigint(kll_sketch_agg_bigint(c), 0.5) FROM VALUES (1), (2), (3), (4), (5) tab(c)"), "3");
    assert_eq!(value("SELECT xpath_string('<Event><Data Name=\"User\">bob</Data></Event>', '//Data[@Name=\"User\"]')"), "bob");
    assert_eq!(value("SELECT xpath_int('<a><b>1</b><b>2</b></a>', 'sum(a/b)')"), "3");
    assert_eq!(value("SELECT variant_get(parse_json('{\"a\": {\"b\": [10, 20]}}'), '$.a.b[1]', 'int')"), "20");
    assert_eq!(value("SELECT variant_insert(parse_json('[\"a\",\"b\"]'), '$[1]', 'z')"), r#"["a","z","b"]"#);
    assert_eq!(value("SELECT schema_of_variant(parse_json('[{\"b\":true,\"a\":0}]'))"), "ARRAY<OBJECT<a: BIGINT, b: BOOLEAN>>");
    assert_eq!(value("SELECT to_char(-12454.8, '99G999D9S'), to_number('$78.12', '$99.99'), format_number(12332.123456, 4)"), "12,454.8- | 78.12 | 12,332.1235");
    assert_eq!(value("SELECT from_csv('1, 0.8', 'a INT, b DOUBLE').b, to_csv(named_struct('a', 1, 'b', 2))"), "0.8 | 1,2");
    assert_eq!(value("SELECT make_timestamp(2014, 12, 28, 6, 30, 45.887, 'CET'), months_between('1997-02-28 10:30:00', '1996-10-30')"), "2014-12-28T05:30:45.887 | 3.94959677");
    assert_eq!(value("SELECT 1 + 2 << 1, 7 div 2, ~ 0, bround(2.5, 0), mask('AbCD123-@$#')"), "6 | 3 | -1 | 2.0 | XxXXnnn-@$#");
}

/// The names of the columns `sql` answers with.
fn column_names(sql: &str) -> Vec<String> {
    let batches = batches(&[], sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    batches[0].schema().fields().iter().map(|f| f.name().clone()).collect()
}

#[test]
fn lambdas_generators_and_json_as_spark_answers_them() {
    // Answers and column names are Spark 4.3's for the same text.
    assert_eq!(value("SELECT transform(arr, x -> concat(h, ':', x)) FROM (SELECT 'ws1' AS h, array('a', 'b') AS arr)"), "[ws1:a, ws1:b]");
    assert_eq!(value("SELECT filter(split('a.exe,b.dll,c.EXE', ','), f -> lower(f) LIKE '%.exe')"), "[a.exe, c.EXE]");
    assert_eq!(value("SELECT aggregate(array(1, 2, 3), 0, (acc, x) -> acc + x, acc -> acc * 10)"), "60");
    assert_eq!(value("SELECT transform(array(array(1, 2), array(3)), a -> transform(a, x -> x * 10))"), "[[10, 20], [30]]");
    assert!(error("SELECT upper(x -> x)").contains("upper(...) takes no lambda"));
    assert!(error("SELECT transform(array(1), (a, b, c) -> a)").contains("transform takes 1 value then a lambda of 1 or 2 parameter(s)"));
    // A comparator that is no order at all gives some order, not a crash.
    assert_eq!(value("SELECT size(array_sort(array(3, 1, 2), (a, b) -> -1))"), "3");
    assert_eq!(value("SELECT xxhash64(array(1)) = xxhash64(1)"), "true");
    assert!(error("SELECT stack(100000000, 1)").contains("n must be a whole number from 1 to 10000"));
    assert_eq!(column_names("SELECT posexplode(array('a', 'b'))"), ["pos", "col"]);
    assert_eq!(column_names("SELECT inline(array(named_struct('a', 1, 'b', 'x')))"), ["a", "b"]);
    assert_eq!(column_names("SELECT stack(2, 'a', 1, 'b', 2)"), ["col0", "col1"]);
    assert_eq!(column_names(r#"SELECT json_tuple('{"u":"bob"}', 'u', 'p')"#), ["c0", "c1"]);
    assert_eq!(value(r#"SELECT json_tuple('{"u":"bob","p":4}', 'u', 'p')"#), "bob | 4");
    let lateral = "SELECT h, p, x FROM (SELECT 'ws1' AS h, array('a', 'b') AS arr) LATERAL VIEW posexplode(arr) t AS p, x ORDER BY p";
    let table = arrow::util::pretty::pretty_format_batches(&batches(&[], lateral).unwrap()).unwrap().to_string();
    assert!(table.contains("| ws1 | 0 | a |") && table.contains("| ws1 | 1 | b |"), "{table}");
    let user = r#"SELECT from_json(j, 'user STRUCT<name: STRING>, pid INT').user.name FROM (SELECT '{"user":{"name":"bob"},"pid":"x"}' AS j)"#;
    assert_eq!(value(user), "bob");
    assert!(error("SELECT from_json('{}', 'a WIBBLE')").contains("the schema 'a WIBBLE': expected a type"));
    assert_eq!(value(r#"SELECT to_json(named_struct('a', 1, 'b', CAST(NULL AS INT), 'c', array('x')))"#), r#"{"a":1,"c":["x"]}"#);
    assert_eq!(value("SELECT mode(x), mode() WITHIN GROUP (ORDER BY x DESC) FROM VALUES (1), (2), (2), (3), (3), (NULL) AS t(x)"), "2 | 3");
}

#[test]
fn pivots_and_statements_as_spark_answers_them() {
    // Events of each id per host, one column per id: Spark's rows and column names.
    let pivot = "SELECT * FROM (SELECT host, EventID FROM VALUES ('ws1', 4624), ('ws1', 4688), ('ws1', 4688), ('ws2', 4624) AS t(host, EventID)) \
                 PIVOT (count(*) FOR EventID IN (4624 AS logons, 4688 AS processes)) ORDER BY host";
    assert_eq!(column_names(pivot), ["host", "logons", "processes"]);
    assert_eq!(value(pivot), "ws1 | 1 | 2");
    assert_eq!(value("SELECT conv('3e7', 16, 10), conv('-10', 16, -10)"), "999 | -16");
    assert_eq!(value("SELECT n FROM VALUES (2), (NULL), (1) AS t(n) ORDER BY n"), "");
    assert!(error("CACHE TABLE t").contains("`CACHE TABLE` is a Spark statement hela does not support"));
    assert!(error("SET spark.sql.shuffle.partitions=4").contains("hela does not support Spark's settings"));
    assert_eq!(value("SELECT 'powershell.exe' LIKE ANY ('%shell%', '%cmd%'), 'cmd.exe' LIKE ANY ('%shell%')"), "true | false");
}
