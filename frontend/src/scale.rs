//! Chart geometry: linear scales, a logarithmic scale for training steps and
//! round tick values, kept apart from the SVG so it can be tested on the host.

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

/// Maps training steps onto pixels by log10(step + 1), so the early
/// checkpoints (0, 1, 2, 4, … 1000) spread out instead of crowding step 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepScale {
    linear: Scale,
}

impl StepScale {
    /// Returns a scale from step 0 to `max` (at least 1) across `range`.
    pub fn new(max: f64, range: (f64, f64)) -> Self {
        let end = log_step(max.max(1.0));
        Self {
            linear: Scale {
                domain: (0.0, end),
                range,
            },
        }
    }

    /// Returns the pixel position of `step`; negative steps count as 0.
    pub fn at(&self, step: f64) -> f64 {
        self.linear.at(log_step(step))
    }
}

fn log_step(step: f64) -> f64 {
    (step.max(0.0) + 1.0).log10()
}

/// Returns the ticks of a step axis up to `max`: 0, then 1, 10, 100, … as
/// far as `max` reaches.
pub fn step_ticks(max: f64) -> Vec<f64> {
    let mut ticks = vec![0.0];
    let mut tick = 1.0;
    while tick <= max.max(1.0) {
        ticks.push(tick);
        tick *= 10.0;
    }
    ticks
}

/// Writes a step tick short: 0, 10, 100, 1k, 10k, 100k, 1M.
pub fn step_label(step: f64) -> String {
    let (value, suffix) = if step >= 1e9 {
        (step / 1e9, "G")
    } else if step >= 1e6 {
        (step / 1e6, "M")
    } else if step >= 1e3 {
        (step / 1e3, "k")
    } else {
        (step, "")
    };
    let value = clean(value);
    if value.fract() == 0.0 {
        format!("{value:.0}{suffix}")
    } else {
        format!("{value}{suffix}")
    }
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
    fn early_steps_spread_out_on_the_step_axis() {
        let scale = StepScale::new(143_000.0, (0.0, 100.0));
        assert_eq!(scale.at(0.0), 0.0);
        assert_eq!(scale.at(143_000.0), 100.0);
        assert_eq!(scale.at(-5.0), 0.0);
        // On a linear axis step 1000 would sit at 0.7; here it is past the
        // middle, and steps 1, 2 and 4 are several pixels apart.
        assert!(scale.at(1000.0) > 55.0);
        assert!(scale.at(2.0) - scale.at(1.0) > 3.0);
        assert!(scale.at(4.0) - scale.at(2.0) > 3.0);
        let single = StepScale::new(0.0, (10.0, 20.0));
        assert_eq!(single.at(0.0), 10.0);
    }

    #[test]
    fn step_ticks_are_powers_of_ten_within_the_data() {
        assert_eq!(
            step_ticks(143_000.0),
            vec![0.0, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5]
        );
        assert_eq!(step_ticks(1000.0), vec![0.0, 1.0, 10.0, 100.0, 1e3]);
        assert_eq!(step_ticks(0.0), vec![0.0, 1.0]);
        let labels: Vec<String> = [0.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 2500.0]
            .iter()
            .map(|step| step_label(*step))
            .collect();
        assert_eq!(
            labels,
            ["0", "10", "100", "1k", "10k", "100k", "1M", "2.5k"]
        );
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
