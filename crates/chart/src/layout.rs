//! Placing a graph's vertices for drawing: Fruchterman and Reingold's force-directed layout
//! (edges pull their ends together, every pair of vertices pushes apart), from a circle, with
//! no randomness, so the same edges always give the same picture.

/// Positions in the unit square, vertex `v` at `v`, for `vertices` vertices joined by
/// `edges`.
pub(crate) fn layout(vertices: usize, edges: &[(usize, usize)]) -> Vec<(f64, f64)> {
    const ITERATIONS: usize = 200;
    if vertices == 0 {
        return Vec::new();
    }
    let ideal = (1.0 / vertices as f64).sqrt();
    let mut at: Vec<(f64, f64)> = (0..vertices)
        .map(|v| {
            let angle = std::f64::consts::TAU * v as f64 / vertices as f64;
            (0.5 + 0.4 * angle.cos(), 0.5 + 0.4 * angle.sin())
        })
        .collect();
    let mut temperature = 0.1;
    for _ in 0..ITERATIONS {
        let mut moved = vec![(0.0, 0.0); vertices];
        for a in 0..vertices {
            for b in a + 1..vertices {
                let (dx, dy) = (at[a].0 - at[b].0, at[a].1 - at[b].1);
                let distance = (dx * dx + dy * dy).sqrt().max(1e-6);
                let push = ideal * ideal / distance;
                let (fx, fy) = (dx / distance * push, dy / distance * push);
                moved[a] = (moved[a].0 + fx, moved[a].1 + fy);
                moved[b] = (moved[b].0 - fx, moved[b].1 - fy);
            }
        }
        for &(a, b) in edges.iter().filter(|(a, b)| a != b) {
            let (dx, dy) = (at[a].0 - at[b].0, at[a].1 - at[b].1);
            let distance = (dx * dx + dy * dy).sqrt().max(1e-6);
            let pull = distance * distance / ideal;
            let (fx, fy) = (dx / distance * pull, dy / distance * pull);
            moved[a] = (moved[a].0 - fx, moved[a].1 - fy);
            moved[b] = (moved[b].0 + fx, moved[b].1 + fy);
        }
        for (position, (mx, my)) in at.iter_mut().zip(moved) {
            let length = (mx * mx + my * my).sqrt().max(1e-9);
            let step = length.min(temperature);
            *position = ((position.0 + mx / length * step).clamp(0.0, 1.0), (position.1 + my / length * step).clamp(0.0, 1.0));
        }
        temperature *= 0.97;
    }
    // Fill the square: stretch the positions to span it.
    let (lo_x, hi_x) = at.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (lo_y, hi_y) = at.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let scale = |v: f64, lo: f64, hi: f64| if hi - lo < 1e-9 { 0.5 } else { (v - lo) / (hi - lo) };
    at.iter().map(|&(x, y)| (scale(x, lo_x, hi_x), scale(y, lo_y, hi_y))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_vertices_end_nearer_than_apart_ones_and_the_layout_repeats() {
        // Two triangles joined by nothing.
        let edges = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)];
        let at = layout(6, &edges);
        let distance = |a: usize, b: usize| ((at[a].0 - at[b].0).powi(2) + (at[a].1 - at[b].1).powi(2)).sqrt();
        assert!(distance(0, 1) < distance(0, 4), "{at:?}");
        assert_eq!(at, layout(6, &edges));
        assert!(at.iter().all(|&(x, y)| (0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y)));
    }
}
