//! Rarity and outliers in hela's SQL, as table functions over any query: `stack_count`
//! (the least frequent values per group), `first_seen` (values new in the data's last
//! days), `outliers` (z-score, MAD or IQR per group) and `isolation_forest` (scikit-learn's
//! unsupervised model, seeded).

mod args;
mod forest;
mod outliers;
mod rarity;

use std::sync::Arc;

pub use forest::{Forest, IsolationForest};
pub use outliers::Outliers;
pub use rarity::{FirstSeen, StackCount};

/// Adds the functions to `session` and every session forked from it.
pub fn register(session: &hela_sql::Session) {
    let context = session.context();
    context.register_udtf("stack_count", Arc::new(StackCount));
    context.register_udtf("first_seen", Arc::new(FirstSeen));
    context.register_udtf("outliers", Arc::new(Outliers));
    context.register_udtf("isolation_forest", Arc::new(IsolationForest));
}
