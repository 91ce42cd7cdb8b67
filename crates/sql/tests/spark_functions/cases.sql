-- Cases beyond Spark's documented examples: `function | SQL`. Nulls, edge values, and the
-- Spark SQL hunters write over event logs (generators, JSON, charsets, windows, structs).
explode | SELECT explode(split('a,b,c', ',')) AS x
explode | SELECT explode(array()) AS x
explode | SELECT explode(CAST(NULL AS ARRAY<INT>)) AS x
explode | SELECT x FROM (SELECT split('a,b', ',') AS arr) LATERAL VIEW explode(arr) t AS x
explode | SELECT h, x FROM (SELECT 'ws1' AS h, split('a,b', ',') AS arr UNION ALL SELECT 'ws2', array()) LATERAL VIEW explode(arr) t AS x ORDER BY h, x
explode_outer | SELECT h, x FROM (SELECT 'ws1' AS h, split('a,b', ',') AS arr UNION ALL SELECT 'ws2', array()) LATERAL VIEW OUTER explode(arr) t AS x ORDER BY h, x
explode_outer | SELECT explode_outer(array()) AS x
posexplode | SELECT h, p, x FROM (SELECT 'ws1' AS h, array('a', 'b') AS arr) LATERAL VIEW posexplode(arr) t AS p, x
collect_list | SELECT collect_list(x) FROM (SELECT 1 AS x UNION ALL SELECT NULL UNION ALL SELECT 2)
collect_set | SELECT sort_array(collect_set(x)) FROM (SELECT 'b' AS x UNION ALL SELECT 'a' UNION ALL SELECT 'b' UNION ALL SELECT NULL)
collect_set | SELECT collect_set(x) FROM (SELECT 1 AS x) WHERE x > 1
sort_array | SELECT sort_array(array(3, NULL, 1)), sort_array(array(3, NULL, 1), false)
approx_count_distinct | SELECT approx_count_distinct(x) FROM (SELECT 'a' AS x UNION ALL SELECT 'b' UNION ALL SELECT 'a' UNION ALL SELECT NULL)
percentile_approx | SELECT percentile_approx(x, 0.5) FROM (SELECT explode(array(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)) AS x)
percentile | SELECT percentile(x, 0.5) FROM (SELECT explode(array(1, 2, 3, 4)) AS x)
count_if | SELECT count_if(x > 1), count_if(x IS NULL) FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT NULL)
max_by | SELECT max_by(h, n), min_by(h, n) FROM (SELECT 'ws1' AS h, 3 AS n UNION ALL SELECT 'ws2', 7 UNION ALL SELECT 'ws3', NULL)
any_value | SELECT any_value(x) FROM (SELECT 'only' AS x)
bool_and | SELECT bool_and(x > 0), bool_or(x > 2), every(x > 0), some(x > 5) FROM (SELECT explode(array(1, 2, 3)) AS x)
mode | SELECT mode(x) FROM (SELECT explode(array('a', 'b', 'b', 'c')) AS x)
get_json_object | SELECT get_json_object('{"a":{"b":[1,2,{"c":"x"}]}}', '$.a.b[2].c'), get_json_object('{"a":1}', '$.z'), get_json_object('not json', '$.a')
get_json_object | SELECT get_json_object('{"a":{"b":1}}', '$.a'), get_json_object('{"a":[1,2]}', '$.a[1]'), get_json_object(NULL, '$.a')
json_tuple | SELECT json_tuple('{"user":"bob","pid":42}', 'user', 'pid', 'missing')
to_json | SELECT to_json(named_struct('a', 1, 'b', 'x'))
from_json | SELECT from_json('{"a":1, "b":"x"}', 'a INT, b STRING').b
locate | SELECT locate('b', 'abcb'), locate('b', 'abcb', 3), locate('z', 'abc'), locate('', 'abc'), locate(NULL, 'abc')
instr | SELECT instr('powershell.exe', '.exe'), instr('abc', 'z'), instr(NULL, 'a')
decode | SELECT decode(unbase64('dwBoAG8AYQBtAGkA'), 'UTF-16LE')
decode | SELECT decode(unbase64('SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA'), 'UTF-16LE')
decode | SELECT decode(X'48C3A9', 'UTF-8'), decode(X'48E9', 'ISO-8859-1'), decode(X'4869', 'US-ASCII'), decode(X'FEFF00480069', 'UTF-16')
encode | SELECT hex(encode('Hé', 'UTF-16LE')), hex(encode('Hé', 'ISO-8859-1')), hex(encode('Hi', 'UTF-16BE'))
unbase64 | SELECT unbase64('aGVsbG8='), unbase64(NULL)
base64 | SELECT base64(X'68656C6C6F'), base64('hello'), base64(NULL)
url_decode | SELECT url_decode('https%3A%2F%2Fexample.com%2Fa%20b%3Fq%3D1'), url_encode('a b&c')
parse_url | SELECT parse_url('http://evil.example.com:8080/path/x.ps1?a=1&b=2#frag', 'HOST'), parse_url('http://evil.example.com:8080/path/x.ps1?a=1&b=2', 'QUERY', 'b'), parse_url('http://h/p?x', 'PATH')
format_string | SELECT format_string('%s ran %d times', 'whoami.exe', 3), format_string('%05d', 42)
translate | SELECT translate('C:\\Users\\bob', '\\', '/'), translate('abc', 'ab', 'x')
levenshtein | SELECT levenshtein('powershell', 'powershel1'), levenshtein('', 'abc'), levenshtein(NULL, 'a')
soundex | SELECT soundex('Robert'), soundex('Tymczak'), soundex('')
regexp_extract_all | SELECT regexp_extract_all('10.0.0.1 and 10.0.0.22', '(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)', 4)
split_part | SELECT split_part('C:\\Windows\\System32\\cmd.exe', '\\', 4), split_part('a.b', '.', -1), split_part('a.b', '.', 5)
initcap | SELECT initcap('hello wORLD'), initcap(NULL)
overlay | SELECT overlay('Spark SQL' PLACING '_' FROM 6), overlay('Spark SQL' PLACING 'CORE' FROM 7 FOR 0)
window | SELECT window.start, window.end, count(*) AS n FROM (SELECT CAST('2020-09-21 04:15:00' AS TIMESTAMP) AS ts UNION ALL SELECT CAST('2020-09-21 04:17:00' AS TIMESTAMP) UNION ALL SELECT CAST('2020-09-21 04:31:00' AS TIMESTAMP)) GROUP BY window(ts, '10 minutes') ORDER BY 1
window | SELECT window.start, count(*) AS n FROM (SELECT CAST('2020-09-21 04:15:00' AS TIMESTAMP) AS ts UNION ALL SELECT CAST('2020-09-21 04:17:00' AS TIMESTAMP)) GROUP BY window(ts, '10 minutes', '5 minutes') ORDER BY 1
date_trunc | SELECT date_trunc('HOUR', TIMESTAMP '2020-09-21 04:15:30'), date_trunc('MINUTE', TIMESTAMP '2020-09-21 04:15:30'), date_trunc('WEEK', TIMESTAMP '2020-09-21 04:15:30'), date_trunc('QUARTER', TIMESTAMP '2020-09-21 04:15:30')
make_timestamp | SELECT make_timestamp(2020, 9, 21, 4, 15, 30.5), make_timestamp(2020, 13, 1, 0, 0, 0)
timestampdiff | SELECT timestampdiff(MINUTE, TIMESTAMP '2020-09-21 04:15:00', TIMESTAMP '2020-09-21 05:00:00')
to_utc_timestamp | SELECT to_utc_timestamp(TIMESTAMP '2020-09-21 04:15:00', 'America/New_York'), from_utc_timestamp(TIMESTAMP '2020-09-21 04:15:00', 'Asia/Tokyo')
named_struct | SELECT named_struct('a', 1, 'b', 'x').b
named_struct | SELECT s.a FROM (SELECT named_struct('a', 1, 'b', 'x') AS s)
struct | SELECT struct(1 AS a, 'x' AS b).a
element_at | SELECT element_at(array(1, 2, 3), 1), element_at(array(1, 2, 3), -1), element_at(map('a', 1), 'a'), element_at(map('a', 1), 'z')
transform | SELECT transform(array(1, 2, 3), x -> x + 1), filter(array(1, 2, 3), x -> x > 1), exists(array(1, 2), x -> x > 1), aggregate(array(1, 2, 3), 0, (acc, x) -> acc + x)
row_number | SELECT h, row_number() OVER (PARTITION BY h ORDER BY n) AS r FROM (SELECT 'a' AS h, 1 AS n UNION ALL SELECT 'a', 2 UNION ALL SELECT 'b', 3) ORDER BY h, r
lag | SELECT n, lag(n) OVER (ORDER BY n), lead(n, 1, 0) OVER (ORDER BY n), first_value(n) OVER (ORDER BY n) FROM (SELECT explode(array(1, 2, 3)) AS n) ORDER BY n
case | SELECT CASE WHEN x = 1 THEN 'proc' ELSE 'other' END AS k, count(*) FROM (SELECT explode(array(1, 1, 3)) AS x) GROUP BY 1 ORDER BY 1
stack | SELECT stack(2, 'a', 1, 'b', 2)
inline | SELECT inline(array(named_struct('a', 1, 'b', 'x'), named_struct('a', 2, 'b', 'y')))
to_timestamp | SELECT to_timestamp('garbage')
to_date | SELECT to_date('not a date')
/ | SELECT 3 / 2, 7 / 2, -7 / 2, 1 / 0.5
transform | SELECT h, transform(arr, x -> concat(h, ':', x)) FROM (SELECT 'ws1' AS h, array('a', 'b') AS arr)
transform | SELECT transform(array(array(1, 2), array(3)), a -> transform(a, x -> x * 10))
filter | SELECT filter(array('cmd.exe', 'powershell.exe', NULL), x -> x LIKE '%shell%')
aggregate | SELECT aggregate(array(1.5, 2.5), 0D, (acc, x) -> acc + x), aggregate(array(), 0, (acc, x) -> acc + x)
exists | SELECT exists(CAST(NULL AS ARRAY<INT>), x -> x > 1), forall(array(), x -> x > 1)
array_sort | SELECT array_sort(array('bb', 'a', 'ccc'), (l, r) -> length(l) - length(r))
posexplode | SELECT posexplode(array('a', 'b'))
posexplode_outer | SELECT posexplode_outer(array())
posexplode_outer | SELECT h, p, x FROM (SELECT 'ws1' AS h, array() AS arr) LATERAL VIEW OUTER posexplode(arr) t AS p, x
inline_outer | SELECT inline_outer(array())
stack | SELECT stack(3, 1, 2, 3)
stack | SELECT stack(2, 'a', 1, 'b')
json_tuple | SELECT h, u, p FROM (SELECT 'ws1' AS h, '{"user":"bob","pid":42}' AS j) LATERAL VIEW json_tuple(j, 'user', 'pid') t AS u, p
from_json | SELECT from_json('{"a":1, "b":[1,2]}', 'a INT, b ARRAY<INT>'), from_json('not json', 'a INT'), from_json('{"a":"x"}', 'a INT')
from_json | SELECT from_json('{"user":{"name":"bob"},"ts":"2020-09-21 04:15:00"}', 'user STRUCT<name: STRING>, ts TIMESTAMP')
to_json | SELECT to_json(map('a', 1)), to_json(array(1, 2)), to_json(named_struct('a', CAST(NULL AS INT), 'b', 'x"y'))
schema_of_json | SELECT schema_of_json('{"a":1,"b":[{"c":"x"}],"d":1.5,"e":true}')
mode | SELECT mode(x) FROM VALUES (1), (2), (2), (NULL), (NULL), (NULL) AS t(x)
from_json | SELECT from_json('{"a":"x","b":2}', 'a INT, b INT'), from_json('{"a":{"b":1}}', 'a STRING'), from_json(NULL, 'a INT')
from_json | SELECT from_json('{"a":[1,2]}', 'MAP<STRING, ARRAY<INT>>'), from_json('[1,2]', 'ARRAY<INT>'), from_json('{"d":"2020-09-21","n":1.25}', 'd DATE, n DECIMAL(5,2)')
to_json | SELECT to_json(named_struct('t', TIMESTAMP '2020-09-21 04:15:00', 'd', DATE '2020-09-21', 'f', 1.5D, 'n', array(1, NULL)))
schema_of_json | SELECT schema_of_json('{"a":[1,1.5],"b":null,"c":[],"d":{"x":1,"y":"z"}}')
json_array_length | SELECT json_array_length(NULL), json_array_length('{}'), json_array_length('[]')
json_object_keys | SELECT json_object_keys('[1]'), json_object_keys(NULL), json_object_keys('{"b":1,"a":2}')
window | SELECT window.start, window.end, count(*) AS n FROM (SELECT CAST('2020-09-21 04:15:00' AS TIMESTAMP) AS ts UNION ALL SELECT CAST('2020-09-21 04:17:00' AS TIMESTAMP) UNION ALL SELECT CAST('2020-09-21 04:31:00' AS TIMESTAMP)) GROUP BY window(ts, '15 minutes', '5 minutes') ORDER BY 1
window | SELECT window.start, count(*) AS n FROM (SELECT CAST('2020-09-21 04:15:00' AS TIMESTAMP) AS ts UNION ALL SELECT CAST('2020-09-21 04:17:00' AS TIMESTAMP)) GROUP BY window(ts, '1 minute', '5 minutes') ORDER BY 1
session_window | SELECT h, session_window.start, session_window.end, count(*) AS n FROM (SELECT 'ws1' AS h, CAST('2020-09-21 04:15:00' AS TIMESTAMP) AS ts UNION ALL SELECT 'ws1', CAST('2020-09-21 04:19:00' AS TIMESTAMP) UNION ALL SELECT 'ws1', CAST('2020-09-21 05:00:00' AS TIMESTAMP) UNION ALL SELECT 'ws2', CAST('2020-09-21 04:16:00' AS TIMESTAMP)) GROUP BY h, session_window(ts, '10 minutes') ORDER BY h, 2
conv | SELECT conv('0x3e7', 16, 10), conv('3e7', 16, 10), conv('ff', 16, 2), conv('12z', 10, 16), conv('-', 10, 16), conv('', 10, 16), conv('1', 1, 10)
conv | SELECT conv('FFFFFFFFFFFFFFFFFF', 16, 10)
kurtosis | SELECT kurtosis(x), skewness(x) FROM VALUES (1.0), (1.0) AS t(x)
kurtosis | SELECT h, kurtosis(n), skewness(n) FROM VALUES ('a', 1), ('a', 5), ('a', 2), ('a', 40), ('b', 3) AS t(h, n) GROUP BY h ORDER BY h
regexp_substr | SELECT regexp_substr('abc', 'x*'), regexp_substr(NULL, 'a'), regexp_substr('C:\\Windows\\cmd.exe', '[a-z]+\\.exe')
sequence | SELECT sequence(1, 10, 3), sequence(3, 3), sequence(NULL, 3)
float | SELECT float('inf'), float('1.5'), float(NULL)
double | SELECT double('1e3'), double(2)
int | SELECT int('42'), int(3.7), int(-3.7)
bigint | SELECT bigint('9000000000'), bigint(2.5)
smallint | SELECT smallint('12')
tinyint | SELECT tinyint('-5')
boolean | SELECT boolean('true'), boolean(0), boolean('no')
string | SELECT string(1), string(true), string(NULL)
binary | SELECT hex(binary('ab'))
div | SELECT -7 div 2, 7 div -2, 7.5 div 2, NULL div 2
div | SELECT 1 div 0
bround | SELECT bround(-2.5), bround(3.5), bround(2.675, 2), bround(1234.5, -2), bround(NULL, 1), bround(7, 1)
<< | SELECT 1 + 2 << 1, -8 >> 1, 1 << 2 & 6
vector_normalize | SELECT vector_normalize(array(0.0F, 0.0F), 2.0F), vector_normalize(array(3.0F, 4.0F))
vector_norm | SELECT vector_norm(array(3.0F, 4.0F)), vector_norm(array(1.0F, 2.0F, 2.0F), 3.0F), vector_norm(CAST(NULL AS ARRAY<FLOAT>), 2.0F)
vector_cosine_similarity | SELECT vector_cosine_similarity(array(0.0F, 0.0F), array(1.0F, 2.0F))
vector_cosine_similarity | SELECT vector_cosine_similarity(array(1.0F), array(1.0F, 2.0F))
vector_sum | SELECT vector_sum(col), vector_avg(col) FROM VALUES (array(1.0F, 2.0F)), (NULL), (array(3.0F, 5.0F)) AS tab(col)
months_between | SELECT months_between('2024-02-29', '2024-01-31'), months_between('2024-03-15 12:00:00', '2024-01-15 00:00:00'), months_between('2024-01-01', '2024-03-15', false), months_between(NULL, '2024-01-01')
make_timestamp | SELECT try_make_timestamp(2024, 2, 30, 0, 0, 0), try_make_timestamp(2024, 1, 1, 0, 0, 60.5), make_timestamp(2024, 2, 29, 23, 59, 59.999999)
mask | SELECT mask('Ünïcode 12 ß'), mask('a-b', 'U', 'L', 'D', NULL)
to_binary | SELECT hex(to_binary('abc')), hex(to_binary('ZmF0', 'base64')), to_binary(NULL, 'hex')
jaro_winkler_similarity | SELECT jaro_winkler_similarity('', ''), jaro_winkler_similarity('a', ''), jaro_winkler_similarity(NULL, 'a')
convert_timezone | SELECT convert_timezone('UTC', 'Asia/Kolkata', timestamp_ntz'2024-06-01 00:00:00'), convert_timezone('America/New_York', 'UTC', timestamp_ntz'2024-03-10 02:30:00')
to_char | SELECT to_char(5, '999'), to_char(5, '099'), to_char(12454, '99'), to_char(1234, '9,999'), to_char(-5, 'S999'), to_char(5, 'S999'), to_char(-5, '999MI'), to_char(-5, '999PR'), to_char(0.5, '9.99')
to_number | SELECT to_number('1,234', '9,999'), to_number('-5', 'S9'), to_number('5-', '9MI'), to_number('<5>', '9PR'), to_number('12', '999'), to_number('0.5', '9.99')
try_to_number | SELECT try_to_number('12a', '999'), try_to_number('1234', '99'), try_to_number(NULL, '99')
format_number | SELECT format_number(-1234.5, 0), format_number(0.125, 2), format_number(1234567, 2), format_number(5, -1), format_number(NULL, 2), format_number(1234.5678, '#,##0.00'), format_number(0.5, '000.0')
time_from_seconds | SELECT time_from_seconds(86400)
make_time | SELECT make_time(24, 0, 0)
time_diff | SELECT time_diff('MINUTE', TIME'10:00:00', TIME'09:30:30'), time_diff('SECOND', TIME'00:00:00', NULL)
hll_sketch_estimate | SELECT hll_sketch_estimate(hll_sketch_agg(x)) FROM (SELECT explode(sequence(1, 500)) AS x UNION ALL SELECT NULL UNION ALL SELECT 1)
theta_sketch_estimate | SELECT theta_sketch_estimate(theta_sketch_agg(x)) FROM (SELECT explode(sequence(1, 900)) AS x UNION ALL SELECT 7)
kll_sketch_get_quantile_bigint | SELECT kll_sketch_get_quantile_bigint(kll_sketch_agg_bigint(x), 0.0), kll_sketch_get_quantile_bigint(kll_sketch_agg_bigint(x), 1.0), kll_sketch_get_rank_bigint(kll_sketch_agg_bigint(x), 50) FROM (SELECT explode(sequence(1, 100)) AS x)
tuple_sketch_summary_double | SELECT tuple_sketch_summary_double(tuple_sketch_agg_double(k, v, 12, 'max'), 'max'), tuple_sketch_summary_double(tuple_sketch_agg_double(k, v, 12, 'min'), 'min') FROM VALUES (1, 5.0D), (1, 1.0D), (2, 7.0D) tab(k, v)
to_char | SELECT to_char(5, '999PR'), to_char(5, '999S'), to_char(-5, '999'), to_char(0, '999'), to_char(0.25, '0.9')
xpath_string | SELECT xpath_string('<e><d n="a">1</d><d n="b">2</d></e>', '//d[@n="b"]'), xpath_string('<a/>', 'a/b'), xpath_string(NULL, 'a'), xpath_string('<a><b>x</b><b>y</b></a>', 'a/b[2]')
xpath_number | SELECT xpath_number('<a><b>x</b></a>', 'a/b'), xpath_double('<a><b>1.5</b></a>', 'a/b'), xpath_int('<a><b>x</b></a>', 'a/b'), xpath_long('<a><b>7.9</b></a>', 'a/b')
xpath | SELECT xpath('<a x="1" y="2"/>', 'a/@*'), xpath('<a><b>1</b><c><b>2</b></c></a>', '//b/text()'), xpath('<a>&lt;x&gt; &amp; &#65;</a>', 'a/text()')
xpath_boolean | SELECT xpath_boolean('<a><b>1</b></a>', 'a/c'), xpath_boolean('<a><b>1</b></a>', 'count(a/b)')
xpath_string | SELECT xpath_string('<a><b>', 'a')
max_by | SELECT max_by(x, y, 5), min_by(x, y, 1), max_by(x, y, 2) FROM VALUES ('a', 10), ('b', NULL), ('c', 20), ('d', 5) AS tab(x, y)
grouping_id | SELECT name, height, grouping_id(name, height), grouping_id() FROM VALUES ('A', 1), ('B', 2) t(name, height) GROUP BY ROLLUP(name, height) ORDER BY 1, 2
hmac | SELECT hex(hmac('a-very-long-key-that-is-longer-than-one-sixty-four-byte-block-of-sha256-xxxxxxxxxxxxx', 'm', 'SHA-384')), hmac(NULL, 'm')
sentences | SELECT sentences('One. Two words!'), sentences(NULL), sentences('')
bitmap_or_agg | SELECT bitmap_count(bitmap_or_agg(b)) FROM VALUES (X '0F'), (NULL), (X 'F001') AS t(b)
from_csv | SELECT from_csv('x,"a,b",', 'n INT, s STRING, t STRING'), from_csv(NULL, 'a INT'), from_csv('1;2', 'a INT, b INT', map('sep', ';'))
schema_of_csv | SELECT schema_of_csv('1,3000000000,0.5,true,'), schema_of_csv('"q",x')
to_csv | SELECT to_csv(named_struct('a', 'x,y', 'b', CAST(NULL AS INT), 'c', 'say "hi"')), to_csv(named_struct('d', DATE'2024-01-02', 'f', 1.5D, 'b', true))
parse_json | SELECT parse_json('{"b": [1, 2.5, "x"], "a": null}'), parse_json(NULL), try_parse_json('nope')
variant_get | SELECT variant_get(parse_json('{"a": {"b": [10, 20]}}'), '$.a.b[1]', 'bigint'), variant_get(parse_json('{"a": 1}'), '$'), try_variant_get(parse_json('{"a": "x"}'), '$.a', 'double')
schema_of_variant | SELECT schema_of_variant(parse_json('[1, 2.5]')), schema_of_variant(parse_json('[1, "a"]')), schema_of_variant(parse_json('{"k": [true, null]}'))
variant_strip_nulls | SELECT variant_strip_nulls(parse_json('[[null, 1], {"a": null}]'))
instr | SELECT instr('aaa', 'aa', 1, 2), instr('abcabc', 'b', -3, 1), instr('abcabc', 'b', 10), instr('abcabc', 'b', 1, NULL)
trim | SELECT trim(LEADING FROM NULL), trim(BOTH FROM 'x  '), trim(TRAILING FROM '')
