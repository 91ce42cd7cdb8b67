//! Dashboard panels: a saved query drawn as a bar or line chart or a graph of its edges
//! (hela's own charts, as `hela sql --chart` draws them) or shown as a table. The Overview dashboard is built in.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use hela_chart::{ChartKind, ChartSpec};
use hela_serve::server::AppState;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{Failure, collect, reply, table};
use crate::scope::Range;

/// Rows of a table panel.
const TABLE_ROWS: usize = 20;

#[derive(Debug, Deserialize)]
pub struct Panel {
    sql: String,
    /// `bar`, `line`, `graph` (x the edges' sources, y their destinations) or `table`.
    chart: String,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(flatten)]
    range: Range,
}

/// `POST /_hela/ui/panel`: the panel's query run within the time range, as an SVG chart or
/// the first rows of a table.
pub async fn panel(State(state): State<Arc<AppState>>, Json(panel): Json<Panel>) -> Response {
    let answer = async {
        let session = panel.range.session(&state).await?;
        let (schema, batches) = collect(&state, &session, &panel.sql).await?;
        match panel.chart.as_str() {
            "table" => {
                let mut shown = table(&schema, &batches)?;
                if let Some(rows) = shown["rows"].as_array_mut() {
                    rows.truncate(TABLE_ROWS);
                }
                Ok(shown)
            }
            "bar" | "line" | "graph" => {
                let kind = match panel.chart.as_str() {
                    "bar" => ChartKind::Bar,
                    "line" => ChartKind::Line,
                    _ => ChartKind::Graph,
                };
                let x = panel.x.clone().or_else(|| schema.fields().first().map(|f| f.name().clone())).ok_or_else(|| Failure::bad("the query returns no columns"))?;
                let y = panel.y.clone().or_else(|| schema.fields().get(1).map(|f| f.name().clone()));
                let spec = ChartSpec { kind, x, y, title: panel.title.clone() };
                let svg = hela_chart::render_svg(&batches, &spec).map_err(|e| Failure::bad(e.to_string()))?;
                Ok(json!({"svg": svg}))
            }
            other => Err(Failure::bad(format!("no chart {other:?}: bar, line, graph or table"))),
        }
    };
    reply(&state, answer.await)
}

/// The dashboard every server has: events over time, per source, top hosts, detections per
/// level.
pub fn overview() -> Value {
    let time = "date_trunc('minute', CAST(`@timestamp` AS TIMESTAMP))";
    json!({
        "name": "Overview",
        "builtin": true,
        "body": {"panels": [
            {"title": "Events per minute", "chart": "line", "x": "minute", "y": "events",
             "sql": format!("SELECT {time} AS minute, count(*) AS events FROM events GROUP BY 1 ORDER BY 1")},
            {"title": "Events per source", "chart": "bar", "x": "source", "y": "events",
             "sql": "SELECT coalesce(Channel, '(none)') AS source, count(*) AS events FROM events GROUP BY 1 ORDER BY events DESC LIMIT 10"},
            {"title": "Top hosts", "chart": "table",
             "sql": "SELECT Hostname, count(*) AS events FROM events GROUP BY Hostname ORDER BY events DESC LIMIT 10"},
            {"title": "Detections per level", "chart": "bar", "x": "level", "y": "detections",
             "sql": "SELECT level, count(*) AS detections FROM detections GROUP BY level ORDER BY detections DESC"},
        ]}
    })
}
