//! The one error type of the crate.

use std::path::PathBuf;

use arrow::datatypes::DataType;
use arrow::error::ArrowError;

/// Why a chart could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The chart kind named is not one of bar, line, hist.
    #[error("unknown chart kind `{0}`: expected bar, line, hist or graph")]
    UnknownKind(String),

    /// The output file name ends in an extension that is not an image format written here.
    #[error("cannot tell the image format of `{}`: the file name must end in .svg or .png", path.display())]
    UnsupportedExtension {
        /// The file named.
        path: PathBuf,
    },

    /// The result has no rows.
    #[error("the result has no rows to chart")]
    Empty,

    /// Every row had a null (or NaN/infinite) value in a charted column.
    #[error(
        "nothing to chart: all {rows} rows have a null or non-finite value in the charted columns"
    )]
    NothingLeft {
        /// How many rows the result had.
        rows: usize,
    },

    /// A column named in the chart is not in the result.
    #[error("the result has no column `{name}`; its columns are: {available}")]
    MissingColumn {
        /// The column asked for.
        name: String,
        /// The result's columns, comma separated.
        available: String,
    },

    /// A column that must hold numbers holds another type.
    #[error(
        "column `{column}` has type {data_type}, but the {role} must be numeric (integer, float or decimal)"
    )]
    NotNumeric {
        /// The column.
        column: String,
        /// Its Arrow type.
        data_type: DataType,
        /// What the column was meant for, e.g. "y column of a bar chart".
        role: &'static str,
    },

    /// A value is too far from zero for an axis to reach it.
    #[error(
        "column `{column}` holds {value:e}, too large to chart (values must lie within ±1e300)"
    )]
    TooLarge {
        /// The column.
        column: String,
        /// The first value out of range.
        value: f64,
    },

    /// A line chart was asked for without a y column.
    #[error("a line chart needs a y column (--y COLUMN)")]
    LineNeedsY,

    /// A graph was asked for without a y column.
    #[error("a graph needs the edges' source as x and their destination as y (--x src --y dst)")]
    GraphNeedsY,

    /// A histogram was asked for with a y column.
    #[error("a histogram counts the values of its x column and takes no y column (got `{y}`)")]
    HistWithY {
        /// The y column given.
        y: String,
    },

    /// A bar chart would have more bars than can be read.
    #[error(
        "a bar chart shows at most {max} bars, and this one would have {bars}: \
         keep the top ones with ORDER BY ... LIMIT {max}"
    )]
    TooManyBars {
        /// How many bars the result makes.
        bars: usize,
        /// The most bars drawn.
        max: usize,
    },

    /// Reading the result's columns failed.
    #[error("reading the result: {0}")]
    Arrow(#[from] ArrowError),

    /// The embedded font could not be loaded.
    #[error("the embedded DejaVu Sans font could not be loaded")]
    Font,

    /// Drawing failed inside the plotting library.
    #[error("drawing the chart: {0}")]
    Draw(String),

    /// Encoding the PNG image failed.
    #[error("encoding the PNG image: {0}")]
    PngEncode(std::io::Error),

    /// Writing the image file failed.
    #[error("cannot write `{}`: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}
