//! Charts rendered from record batches built in memory, checked in the SVG
//! and PNG they produce, and the errors for charts that cannot be made.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, DictionaryArray, Float64Array, Int64Array, StringArray,
    TimestampSecondArray, UInt32Array,
};
use arrow::datatypes::Int32Type;
use arrow::record_batch::RecordBatch;
use hela_chart::{
    ChartError, ChartKind, ChartSpec, ImageFormat, bin_values, render_file, render_svg,
};

const LONG_PATH: &str =
    r"C:\Program Files (x86)\Microsoft\Edge\Application\126.0.2592.87\msedge.exe";

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

fn spec(kind: ChartKind, x: &str, y: Option<&str>) -> ChartSpec {
    ChartSpec {
        kind,
        x: x.to_string(),
        y: y.map(String::from),
        title: None,
    }
}

/// Parent images and how many processes each started, most first.
fn parent_counts() -> RecordBatch {
    batch(vec![
        (
            "ParentImage",
            Arc::new(StringArray::from(vec![
                r"C:\Windows\System32\wbem\WmiPrvSE.exe",
                r"C:\Windows\explorer.exe",
                LONG_PATH,
                r"C:\Windows\System32\services.exe",
            ])),
        ),
        ("n", Arc::new(Int64Array::from(vec![120, 45, 7, 3]))),
    ])
}

/// The `<rect>`s filled with a color other than the white background: the bars.
fn filled_rects(svg: &str) -> Vec<&str> {
    svg.lines()
        .filter(|l| {
            l.starts_with("<rect")
                && !l.contains(r#"fill="none""#)
                && !l.contains(r##"fill="#FFFFFF""##)
        })
        .collect()
}

/// The text elements: their y attribute and their (still escaped) text.
fn texts(svg: &str) -> Vec<(f64, String)> {
    svg.split("<text ")
        .skip(1)
        .map(|element| {
            let y = element
                .split(" y=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap();
            let body = element
                .split_once(">\n")
                .unwrap()
                .1
                .split("\n</text>")
                .next()
                .unwrap();
            (y.parse().unwrap(), body.to_string())
        })
        .collect()
}

/// The polylines drawn 2 pixels wide: the data, not the axes and grid.
fn data_lines(svg: &str) -> Vec<&str> {
    svg.lines()
        .filter(|l| l.starts_with("<polyline") && l.contains(r#"stroke-width="2""#))
        .collect()
}

/// The `points` attribute of the one data line.
fn line_points(svg: &str) -> &str {
    let lines = data_lines(svg);
    assert_eq!(lines.len(), 1);
    lines[0]
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
}

fn text_y(svg: &str, text: &str) -> f64 {
    texts(svg)
        .into_iter()
        .find(|(_, t)| t == text)
        .unwrap_or_else(|| panic!("no text {text:?}"))
        .0
}

#[test]
fn bar_chart_has_one_bar_per_row_labelled_in_result_order() {
    let svg = render_svg(
        &[parent_counts()],
        &spec(ChartKind::Bar, "ParentImage", Some("n")),
    )
    .unwrap();
    assert!(svg.starts_with("<svg"));
    assert_eq!(filled_rects(&svg).len(), 4);

    let labels = [
        r"C:\Windows\System32\wbem\WmiPrvSE.exe",
        r"C:\Windows\explorer.exe",
        r"C:\Windows\System32\services.exe",
    ];
    for label in labels {
        assert!(
            texts(&svg).iter().any(|(_, t)| t == label),
            "label {label} missing"
        );
    }
    // The long path is shortened in the middle, keeping the executable's name.
    assert!(!svg.contains(LONG_PATH));
    let short = texts(&svg)
        .into_iter()
        .map(|(_, t)| t)
        .find(|t| t.ends_with(r"\msedge.exe"))
        .unwrap();
    assert_eq!(short.chars().count(), 60);
    assert!(short.contains('…'));

    // The first row is the top bar, and values are printed beside the bars.
    assert!(text_y(&svg, labels[0]) < text_y(&svg, labels[1]));
    assert!(text_y(&svg, labels[1]) < text_y(&svg, labels[2]));
    assert!(texts(&svg).iter().any(|(_, t)| t == "120"));
    // Title and axis names come from the columns.
    assert!(texts(&svg).iter().any(|(_, t)| t == "n by ParentImage"));
}

#[test]
fn bar_lengths_follow_the_values() {
    let svg = render_svg(
        &[parent_counts()],
        &spec(ChartKind::Bar, "ParentImage", Some("n")),
    )
    .unwrap();
    let widths: Vec<i64> = filled_rects(&svg)
        .iter()
        .map(|r| {
            r.split(" width=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(widths.len(), 4);
    assert!(widths.windows(2).all(|w| w[0] > w[1]), "{widths:?}");
}

#[test]
fn bar_chart_without_y_counts_rows_per_value_including_null() {
    let users = batch(vec![(
        "User",
        Arc::new(StringArray::from(vec![
            Some("alice"),
            Some("bob"),
            Some("alice"),
            None,
            Some("alice"),
        ])),
    )]);
    let svg = render_svg(&[users], &spec(ChartKind::Bar, "User", None)).unwrap();
    assert_eq!(filled_rects(&svg).len(), 3);
    let all = texts(&svg);
    for label in ["alice", "bob", "(null)", "3", "rows by User"] {
        assert!(all.iter().any(|(_, t)| t == label), "{label} missing");
    }
}

#[test]
fn bar_values_of_other_numeric_types_and_categories_across_batches() {
    let first = batch(vec![
        ("EventID", Arc::new(UInt32Array::from(vec![4624, 4625]))),
        (
            "bytes",
            Arc::new(
                Decimal128Array::from(vec![1250, 300])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
    ]);
    let second = batch(vec![
        ("EventID", Arc::new(UInt32Array::from(vec![4688]))),
        (
            "bytes",
            Arc::new(
                Decimal128Array::from(vec![None])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
    ]);
    let svg = render_svg(
        &[first, second],
        &spec(ChartKind::Bar, "eventid", Some("BYTES")),
    )
    .unwrap();
    // The row with a null value is skipped, and the chart says so.
    assert_eq!(filled_rects(&svg).len(), 2);
    let all = texts(&svg);
    for label in [
        "4624",
        "4625",
        "12.5",
        "1 row skipped: null or not a finite number",
    ] {
        assert!(all.iter().any(|(_, t)| t == label), "{label} missing");
    }
}

#[test]
fn dictionary_categories_are_shown_as_their_values() {
    let hosts: DictionaryArray<Int32Type> = vec!["dc01", "ws17", "dc01"].into_iter().collect();
    let result = batch(vec![("Computer", Arc::new(hosts))]);
    let svg = render_svg(&[result], &spec(ChartKind::Bar, "Computer", None)).unwrap();
    assert_eq!(filled_rects(&svg).len(), 2);
    assert!(texts(&svg).iter().any(|(_, t)| t == "ws17"));
}

#[test]
fn bar_chart_grows_with_its_bars() {
    let height = |svg: &str| -> u32 {
        svg.split("height=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let few = render_svg(
        &[parent_counts()],
        &spec(ChartKind::Bar, "ParentImage", Some("n")),
    )
    .unwrap();
    let names: Vec<String> = (0..100).map(|i| format!("host{i}")).collect();
    let many = batch(vec![("host", Arc::new(StringArray::from(names)))]);
    let tall = render_svg(&[many], &spec(ChartKind::Bar, "host", None)).unwrap();
    assert!(few.contains(r#"width="900""#));
    assert!(
        height(&tall) > height(&few) + 1500,
        "{} vs {}",
        height(&tall),
        height(&few)
    );
    assert_eq!(filled_rects(&tall).len(), 100);
}

#[test]
fn too_many_bars_is_an_error_suggesting_a_limit() {
    let names: Vec<String> = (0..201).map(|i| format!("host{i}")).collect();
    let result = batch(vec![("host", Arc::new(StringArray::from(names)))]);
    let err = render_svg(&[result], &spec(ChartKind::Bar, "host", None)).unwrap_err();
    assert!(
        matches!(
            err,
            ChartError::TooManyBars {
                bars: 201,
                max: 200
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("ORDER BY ... LIMIT 200"), "{err}");
}

/// Logons per hour: seconds since the epoch, one hour missing its count.
fn logons_per_hour() -> RecordBatch {
    let start = 1_700_000_000 - 1_700_000_000 % 3600; // 2023-11-14 22:00 UTC
    let hours: Vec<i64> = (0..6).map(|h| start + h * 3600).collect();
    batch(vec![
        (
            "hour",
            Arc::new(TimestampSecondArray::from(hours).with_timezone("UTC")),
        ),
        (
            "logons",
            Arc::new(Float64Array::from(vec![
                Some(3.0),
                Some(8.0),
                None,
                Some(15.0),
                Some(4.0),
                Some(9.0),
            ])),
        ),
    ])
}

#[test]
fn line_chart_over_time_draws_one_path_with_time_labels() {
    let svg = render_svg(
        &[logons_per_hour()],
        &spec(ChartKind::Line, "hour", Some("logons")),
    )
    .unwrap();
    assert_eq!(data_lines(&svg).len(), 1);
    // Five points with values, each drawn as a dot.
    assert_eq!(svg.matches("<circle").count(), 5);
    let all = texts(&svg);
    for label in [
        "23:00",
        "00:00",
        "01:00",
        "hour (UTC)",
        "logons",
        "logons by hour",
        "1 row skipped: null or not a finite number",
    ] {
        assert!(
            all.iter().any(|(_, t)| t == label),
            "{label} missing in {all:?}"
        );
    }
}

#[test]
fn line_chart_over_dates_and_numbers() {
    let days = batch(vec![
        (
            "day",
            Arc::new(Date32Array::from(vec![19_700, 19_701, 19_702])),
        ),
        ("alerts", Arc::new(Int64Array::from(vec![5, 2, 7]))),
    ]);
    let svg = render_svg(&[days], &spec(ChartKind::Line, "day", Some("alerts"))).unwrap();
    assert!(
        texts(&svg).iter().any(|(_, t)| t == "2023-12-09"),
        "{:?}",
        texts(&svg)
    );

    let sizes = batch(vec![
        ("size", Arc::new(Int64Array::from(vec![300, 100, 200]))),
        ("ms", Arc::new(Float64Array::from(vec![30.0, 10.0, 20.0]))),
    ]);
    let svg = render_svg(&[sizes], &spec(ChartKind::Line, "size", Some("ms"))).unwrap();
    // Numeric x is sorted: the polyline runs left to right.
    let points = line_points(&svg);
    let xs: Vec<i32> = points
        .split_whitespace()
        .map(|p| p.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(xs.len(), 3);
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
}

#[test]
fn line_chart_over_text_keeps_result_order_and_labels_points() {
    let result = batch(vec![
        (
            "stage",
            Arc::new(StringArray::from(vec![
                "recon",
                "initial access",
                "execution",
                "persistence",
            ])),
        ),
        ("hits", Arc::new(Int64Array::from(vec![4, 9, 2, 6]))),
    ]);
    let svg = render_svg(&[result], &spec(ChartKind::Line, "stage", Some("hits"))).unwrap();
    let all = texts(&svg);
    for label in ["recon", "initial access", "execution", "persistence"] {
        assert!(all.iter().any(|(_, t)| t == label), "{label} missing");
    }
    let points = line_points(&svg);
    let ys: Vec<i32> = points
        .split_whitespace()
        .map(|p| p.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    // 9 is the highest point (smallest y in pixels), 2 the lowest.
    assert_eq!(ys.iter().min(), Some(&ys[1]));
    assert_eq!(ys.iter().max(), Some(&ys[2]));
}

#[test]
fn line_chart_needs_y() {
    let err = render_svg(&[logons_per_hour()], &spec(ChartKind::Line, "hour", None)).unwrap_err();
    assert!(matches!(err, ChartError::LineNeedsY));
    assert!(err.to_string().contains("--y"), "{err}");
}

#[test]
fn histogram_bins_hold_every_non_null_value() {
    let durations: Vec<Option<f64>> = (0..500)
        .map(|i| {
            if i % 10 == 0 {
                None
            } else {
                Some((i as f64).sqrt() * 3.3)
            }
        })
        .collect();
    let present: Vec<f64> = durations.iter().flatten().copied().collect();
    let bins = bin_values(&present);
    assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), 450);
    assert!(bins.windows(2).all(|w| w[0].end == w[1].start));

    let result = batch(vec![("duration", Arc::new(Float64Array::from(durations)))]);
    let svg = render_svg(&[result], &spec(ChartKind::Hist, "duration", None)).unwrap();
    assert_eq!(filled_rects(&svg).len(), bins.len());
    let all = texts(&svg);
    for label in [
        "distribution of duration",
        "duration",
        "rows",
        "50 rows skipped: null or not a finite number",
    ] {
        assert!(all.iter().any(|(_, t)| t == label), "{label} missing");
    }
}

#[test]
fn histogram_takes_no_y_and_needs_numbers() {
    let err = render_svg(&[parent_counts()], &spec(ChartKind::Hist, "n", Some("n"))).unwrap_err();
    assert!(matches!(err, ChartError::HistWithY { .. }), "{err:?}");
    assert!(err.to_string().contains("no y column"), "{err}");

    let err = render_svg(
        &[parent_counts()],
        &spec(ChartKind::Hist, "ParentImage", None),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "column `ParentImage` has type Utf8, but the x column of a histogram must be numeric (integer, float or decimal)"
    );
}

#[test]
fn non_numeric_y_names_the_column_and_its_type() {
    let result = batch(vec![
        ("hour", Arc::new(TimestampSecondArray::from(vec![0, 3600]))),
        ("host", Arc::new(StringArray::from(vec!["a", "b"]))),
    ]);
    let err = render_svg(
        std::slice::from_ref(&result),
        &spec(ChartKind::Bar, "host", Some("hour")),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "column `hour` has type Timestamp(s), but the y column of a bar chart must be numeric (integer, float or decimal)"
    );
    let err = render_svg(&[result], &spec(ChartKind::Line, "hour", Some("host"))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("column `host` has type Utf8, but the y column of a line chart"),
        "{err}"
    );
}

#[test]
fn missing_column_lists_the_available_ones() {
    let err = render_svg(
        &[parent_counts()],
        &spec(ChartKind::Bar, "Image", Some("n")),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the result has no column `Image`; its columns are: ParentImage, n"
    );
    let err = render_svg(
        &[parent_counts()],
        &spec(ChartKind::Bar, "ParentImage", Some("count")),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ChartError::MissingColumn { name, .. } if name == "count"),
        "{err:?}"
    );
}

#[test]
fn an_empty_result_is_an_error() {
    let empty = parent_counts().slice(0, 0);
    for chart in [
        spec(ChartKind::Bar, "ParentImage", Some("n")),
        spec(ChartKind::Hist, "n", None),
    ] {
        let err = render_svg(std::slice::from_ref(&empty), &chart).unwrap_err();
        assert_eq!(err.to_string(), "the result has no rows to chart");
    }
    let err = render_svg(&[], &spec(ChartKind::Bar, "ParentImage", None)).unwrap_err();
    assert!(matches!(err, ChartError::Empty));
}

#[test]
fn all_values_null_is_an_error() {
    let result = batch(vec![
        ("host", Arc::new(StringArray::from(vec!["a", "b"]))),
        (
            "n",
            Arc::new(Float64Array::from(vec![None, Some(f64::NAN)])),
        ),
    ]);
    let err = render_svg(&[result], &spec(ChartKind::Bar, "host", Some("n"))).unwrap_err();
    assert!(
        matches!(err, ChartError::NothingLeft { rows: 2 }),
        "{err:?}"
    );
}

#[test]
fn values_beyond_what_an_axis_can_span_are_an_error() {
    let result = batch(vec![
        ("host", Arc::new(StringArray::from(vec!["a", "b"]))),
        ("n", Arc::new(Float64Array::from(vec![1.0, f64::MAX]))),
    ]);
    for chart in [
        spec(ChartKind::Bar, "host", Some("n")),
        spec(ChartKind::Hist, "n", None),
    ] {
        let err = render_svg(std::slice::from_ref(&result), &chart).unwrap_err();
        assert!(
            matches!(&err, ChartError::TooLarge { column, .. } if column == "n"),
            "{err:?}"
        );
    }
}

#[test]
fn a_given_title_replaces_the_made_one() {
    let mut chart = spec(ChartKind::Bar, "ParentImage", Some("n"));
    chart.title = Some("WMI & services <top parents>".to_string());
    let svg = render_svg(&[parent_counts()], &chart).unwrap();
    assert!(svg.contains("WMI &amp; services &lt;top parents&gt;"));
    assert!(!svg.contains("n by ParentImage"));
}

fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

/// The RGB pixels of a PNG written by this crate (one IDAT, no filtering).
fn png_pixels(png: &[u8]) -> Vec<u8> {
    let len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
    assert_eq!(&png[37..41], b"IDAT");
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&png[41..41 + len])
        .read_to_end(&mut raw)
        .unwrap();
    raw
}

#[test]
fn png_file_has_the_chart_size_and_draws_bars_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parents.PNG");
    render_file(
        &[parent_counts()],
        &spec(ChartKind::Bar, "ParentImage", Some("n")),
        &path,
    )
    .unwrap();
    let png = std::fs::read(&path).unwrap();
    let (width, height) = png_size(&png);
    assert_eq!(width, 900);
    assert!(height >= 260);

    let raw = png_pixels(&png);
    assert_eq!(raw.len(), height as usize * (1 + 3 * width as usize));
    let pixels: Vec<&[u8]> = raw
        .chunks(1 + 3 * width as usize)
        .flat_map(|row| row[1..].chunks(3))
        .collect();
    let bar = pixels.iter().filter(|p| **p == [0x3b, 0x6e, 0xa8]).count();
    let dark = pixels.iter().filter(|p| p.iter().all(|c| *c < 60)).count();
    assert!(bar > 10_000, "{bar} bar pixels");
    assert!(dark > 1_000, "{dark} text pixels");
}

#[test]
fn svg_file_is_written_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logons.svg");
    render_file(
        &[logons_per_hour()],
        &spec(ChartKind::Line, "hour", Some("logons")),
        &path,
    )
    .unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
}

#[test]
fn other_extensions_are_refused_before_anything_is_written() {
    assert_eq!(
        ImageFormat::from_path(Path::new("a/chart.SVG")).unwrap(),
        ImageFormat::Svg
    );
    assert_eq!(
        ImageFormat::from_path(Path::new("chart.png")).unwrap(),
        ImageFormat::Png
    );
    let err = ImageFormat::from_path(Path::new("out/chart.jpg")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot tell the image format of `out/chart.jpg`: the file name must end in .svg or .png"
    );
    assert!(ImageFormat::from_path(Path::new("chart")).is_err());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chart.html");
    let err = render_file(
        &[parent_counts()],
        &spec(ChartKind::Bar, "ParentImage", None),
        &path,
    )
    .unwrap_err();
    assert!(matches!(err, ChartError::UnsupportedExtension { .. }));
    assert!(!path.exists());
}

#[test]
fn write_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("chart.svg");
    let err = render_file(
        &[parent_counts()],
        &spec(ChartKind::Bar, "ParentImage", None),
        &path,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("cannot write `{}`", path.display())),
        "{err}"
    );
}

#[test]
fn chart_kinds_parse_and_print() {
    for kind in [ChartKind::Bar, ChartKind::Line, ChartKind::Hist] {
        assert_eq!(kind.to_string().parse::<ChartKind>().unwrap(), kind);
    }
    assert_eq!("BAR".parse::<ChartKind>().unwrap(), ChartKind::Bar);
    let err = "pie".parse::<ChartKind>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown chart kind `pie`: expected bar, line, hist or graph"
    );
}

#[test]
fn a_graph_draws_each_vertex_once_and_each_edge_once_and_needs_both_ends() {
    let edges = batch(vec![
        ("src", Arc::new(StringArray::from(vec![Some("172.18.39.5"), Some("WORKSTATION5"), Some("WORKSTATION5"), None, Some("172.18.39.5")])) as ArrayRef),
        ("dst", Arc::new(StringArray::from(vec![Some("WORKSTATION5"), Some("MORDORDC"), Some("MORDORDC"), Some("x"), Some("WORKSTATION5")])) as ArrayRef),
    ]);
    let svg = render_svg(std::slice::from_ref(&edges), &spec(ChartKind::Graph, "src", Some("dst"))).unwrap();
    for vertex in ["172.18.39.5", "WORKSTATION5", "MORDORDC"] {
        assert_eq!(svg.matches(&format!("\n{vertex}\n")).count(), 1, "{svg}");
    }
    assert!(!svg.contains("\nx\n"), "a row with a NULL end is not drawn");
    // Two distinct edges, each a line.
    assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
    assert_eq!(svg, render_svg(std::slice::from_ref(&edges), &spec(ChartKind::Graph, "src", Some("dst"))).unwrap(), "the layout repeats");
    let error = render_svg(&[edges], &spec(ChartKind::Graph, "src", None)).unwrap_err();
    assert!(matches!(error, ChartError::GraphNeedsY), "{error}");
}
