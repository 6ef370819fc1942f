//! Chart geometry: linear scales and round tick values, kept apart from the
//! SVG so it can be tested on the host.

/// Maps a domain of values onto a range of pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Scale {
    /// Returns the pixel position of `value`; a flat domain maps to the start.
    pub fn at(&self, value: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if (d1 - d0).abs() < f64::EPSILON {
            return r0;
        }
        r0 + (value - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// Returns a step of 1, 2 or 5 × 10ⁿ that cuts `span` into about `count` parts.
pub fn nice_step(span: f64, count: usize) -> f64 {
    if span <= 0.0 || !span.is_finite() || count == 0 {
        return 1.0;
    }
    let raw = span / count as f64;
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// Widens `(low, high)` to round numbers and returns it with the ticks inside.
pub fn nice_domain(low: f64, high: f64, count: usize) -> ((f64, f64), Vec<f64>) {
    let (low, high) = if high > low {
        (low, high)
    } else {
        (low - 0.5, low + 0.5)
    };
    let step = nice_step(high - low, count);
    let start = (low / step).floor() * step;
    let end = (high / step).ceil() * step;
    let steps = ((end - start) / step).round() as usize;
    let ticks = (0..=steps)
        .map(|i| clean(start + i as f64 * step))
        .collect();
    ((start, end), ticks)
}

/// Removes floating-point noise such as 0.30000000000000004.
fn clean(value: f64) -> f64 {
    (value * 1e9).round() / 1e9
}

/// Writes a tick label with no more decimals than the step needs.
pub fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{value:.decimals$}")
}

/// Shortens a label to `max` characters, ending with an ellipsis.
pub fn truncate(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_string();
    }
    let kept: String = label.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_linearly() {
        let scale = Scale {
            domain: (0.0, 1.0),
            range: (100.0, 300.0),
        };
        assert_eq!(scale.at(0.5), 200.0);
        let flat = Scale {
            domain: (1.0, 1.0),
            range: (0.0, 10.0),
        };
        assert_eq!(flat.at(1.0), 0.0);
    }

    #[test]
    fn ticks_are_round_and_cover_the_data() {
        let (domain, ticks) = nice_domain(0.0, 0.753, 5);
        assert_eq!(domain, (0.0, 0.8));
        assert_eq!(ticks, vec![0.0, 0.2, 0.4, 0.6, 0.8]);
        let (domain, ticks) = nice_domain(12.0, 304.0, 4);
        assert_eq!(domain, (0.0, 400.0));
        assert_eq!(ticks.len(), 5);
        let (domain, _) = nice_domain(2.0, 2.0, 4);
        assert!(domain.0 < 2.0 && domain.1 > 2.0);
    }

    #[test]
    fn labels_fit() {
        assert_eq!(tick_label(0.2, 0.2), "0.2");
        assert_eq!(tick_label(0.05, 0.05), "0.05");
        assert_eq!(tick_label(200.0, 100.0), "200");
        assert_eq!(truncate("EleutherAI/pythia-v1.1-160m", 10), "EleutherA…");
        assert_eq!(truncate("gpt2", 10), "gpt2");
    }
}
