//! Charts as plain SVG components: a bar chart with error bars, a line
//! chart over training steps, a dot plot of differences and a stacked bar
//! of shares. They load nothing at run time and scale with their container.

use leptos::prelude::*;

use crate::format;
use crate::scale::{Scale, StepScale, nice_domain, step_label, step_ticks, tick_label, truncate};

/// Colours of successive series, readable on white and for common colour blindness.
const PALETTE: [&str; 6] = [
    "#2f6fdf", "#d9731a", "#2a9d70", "#b8478f", "#6b5bd6", "#8a8a2a",
];

/// One bar: a labelled value with an optional standard error.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub stderr: Option<f64>,
    /// Shown instead of a bar when there is no finite value (`NaN`, `n/a`).
    pub note: String,
}

const WIDTH: f64 = 760.0;
const LABEL_WIDTH: f64 = 230.0;
const ROW: f64 = 22.0;

fn bar_domain(bars: &[Bar]) -> ((f64, f64), Vec<f64>) {
    let ends = bars.iter().filter_map(|bar| {
        let value = bar.value?;
        let error = bar.stderr.unwrap_or(0.0);
        Some((value - error, value + error))
    });
    let (low, high) = ends.fold((0.0f64, 0.0f64), |(lo, hi), (a, b)| (lo.min(a), hi.max(b)));
    nice_domain(low, high, 5)
}

/// A horizontal bar chart, best first, with ± stderr whiskers.
#[component]
pub fn BarChart(
    #[prop(into)] title: String,
    #[prop(into)] axis_label: String,
    bars: Vec<Bar>,
) -> impl IntoView {
    let (domain, ticks) = bar_domain(&bars);
    let scale = Scale {
        domain,
        range: (LABEL_WIDTH, WIDTH - 70.0),
    };
    let top = 16.0;
    let height = top + bars.len() as f64 * ROW + 44.0;
    let bottom = top + bars.len() as f64 * ROW;
    let grid = vertical_grid(&ticks, scale, top, bottom);
    let rows = bars
        .iter()
        .enumerate()
        .map(|(index, bar)| bar_row(bar, index, top, scale))
        .collect_view();
    let description = format!(
        "{title}: {} bars; the table below lists every value.",
        bars.len()
    );
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg
                viewBox=format!("0 0 {WIDTH} {height}")
                role="img"
                aria-label=description
                preserveAspectRatio="xMinYMin meet"
            >
                {grid}
                <line x1=scale.at(0.0) x2=scale.at(0.0) y1=top y2=bottom class="axis"></line>
                {rows}
                <text x=(LABEL_WIDTH + WIDTH - 70.0) / 2.0 y=height - 6.0 class="axis-label"
                    text-anchor="middle">{axis_label}</text>
            </svg>
        </figure>
    }
}

/// Draws vertical grid lines at `ticks` between `top` and `bottom`, labelled
/// below; the tick spacing decides how many decimals the labels get.
fn vertical_grid(ticks: &[f64], scale: Scale, top: f64, bottom: f64) -> impl IntoView + use<> {
    let step = ticks
        .get(1)
        .zip(ticks.first())
        .map(|(b, a)| b - a)
        .unwrap_or(1.0);
    ticks
        .iter()
        .map(|tick| {
            let x = scale.at(*tick);
            view! {
                <line x1=x x2=x y1=top y2=bottom class="grid"></line>
                <text x=x y=bottom + 16.0 class="tick" text-anchor="middle">
                    {tick_label(*tick, step)}
                </text>
            }
        })
        .collect_view()
}

fn bar_row(bar: &Bar, index: usize, top: f64, scale: Scale) -> impl IntoView + use<> {
    let y = top + index as f64 * ROW;
    let middle = y + ROW / 2.0;
    let label = truncate(&bar.label, 34);
    let shape = match bar.value {
        Some(value) => {
            let (x0, x1) = (scale.at(0.0), scale.at(value));
            let whisker = bar.stderr.map(|error| {
                let (left, right) = (scale.at(value - error), scale.at(value + error));
                view! {
                    <line x1=left x2=right y1=middle y2=middle class="whisker"></line>
                    <line x1=left x2=left y1=middle - 4.0 y2=middle + 4.0 class="whisker"></line>
                    <line x1=right x2=right y1=middle - 4.0 y2=middle + 4.0 class="whisker"></line>
                }
            });
            view! {
                <rect x=x0.min(x1) y=y + 4.0 width=(x1 - x0).abs().max(1.0) height=ROW - 8.0
                    class="bar"></rect>
                {whisker}
                <text x=scale.at(value + bar.stderr.unwrap_or(0.0)) + 6.0 y=middle + 4.0
                    class="value">{format::number(value)}</text>
            }
            .into_any()
        }
        None => view! {
            <text x=scale.at(0.0) + 6.0 y=middle + 4.0 class="value missing">
                {bar.note.clone()}
            </text>
        }
        .into_any(),
    };
    view! {
        <g class="row">
            <text x=LABEL_WIDTH - 8.0 y=middle + 4.0 class="label" text-anchor="end">{label}</text>
            {shape}
        </g>
    }
}

/// One point of a line: x (a training step) and a value with its stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub stderr: Option<f64>,
}

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<Point>,
}

const LINE_HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 52.0;

/// A line chart of values over training steps with ± stderr whiskers and a
/// legend. Its x axis is logarithmic (log10 of step + 1), because checkpoints
/// are saved densely early in training and sparsely later.
#[component]
pub fn LineChart(
    #[prop(into)] title: String,
    #[prop(into)] x_label: String,
    #[prop(into)] y_label: String,
    series: Vec<Series>,
) -> impl IntoView {
    let points = || series.iter().flat_map(|s| s.points.iter());
    let x_max = points().map(|p| p.x).fold(0.0f64, f64::max);
    let y_low = points()
        .map(|p| p.y - p.stderr.unwrap_or(0.0))
        .fold(f64::INFINITY, f64::min);
    let y_high = points()
        .map(|p| p.y + p.stderr.unwrap_or(0.0))
        .fold(f64::MIN, f64::max);
    let x_ticks = step_ticks(x_max);
    let (y_domain, y_ticks) = nice_domain(y_low.min(y_high), y_high, 5);
    let x = StepScale::new(x_max, (LEFT, WIDTH - RIGHT));
    let y = Scale {
        domain: y_domain,
        range: (LINE_HEIGHT - BOTTOM, TOP),
    };
    let y_step = y_ticks
        .get(1)
        .zip(y_ticks.first())
        .map(|(b, a)| b - a)
        .unwrap_or(1.0);
    let x_axis = x_ticks
        .iter()
        .map(|tick| {
            let at = x.at(*tick);
            view! {
                <line x1=at x2=at y1=TOP y2=LINE_HEIGHT - BOTTOM class="grid"></line>
                <text x=at y=LINE_HEIGHT - BOTTOM + 16.0 class="tick" text-anchor="middle">
                    {step_label(*tick)}
                </text>
            }
        })
        .collect_view();
    let y_axis = y_ticks
        .iter()
        .map(|tick| {
            let at = y.at(*tick);
            view! {
                <line x1=LEFT x2=WIDTH - RIGHT y1=at y2=at class="grid"></line>
                <text x=LEFT - 6.0 y=at + 4.0 class="tick" text-anchor="end">
                    {tick_label(*tick, y_step)}
                </text>
            }
        })
        .collect_view();
    let lines = series
        .iter()
        .enumerate()
        .map(|(index, line)| series_view(line, PALETTE[index % PALETTE.len()], x, y))
        .collect_view();
    let legend = series
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let colour = PALETTE[index % PALETTE.len()];
            view! {
                <li><span class="swatch" style=format!("background:{colour}")></span>
                    {line.label.clone()}</li>
            }
        })
        .collect_view();
    let description = format!(
        "{title}: {} series over {x_label}, on a logarithmic axis.",
        series.len()
    );
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {LINE_HEIGHT}") role="img" aria-label=description>
                {x_axis}
                {y_axis}
                <line x1=LEFT x2=WIDTH - RIGHT y1=LINE_HEIGHT - BOTTOM y2=LINE_HEIGHT - BOTTOM
                    class="axis"></line>
                <line x1=LEFT x2=LEFT y1=TOP y2=LINE_HEIGHT - BOTTOM class="axis"></line>
                {lines}
                <text x=(LEFT + WIDTH - RIGHT) / 2.0 y=LINE_HEIGHT - 10.0 class="axis-label"
                    text-anchor="middle">{x_label}</text>
                <text x=14.0 y=(TOP + LINE_HEIGHT - BOTTOM) / 2.0 class="axis-label"
                    text-anchor="middle"
                    transform=format!("rotate(-90 14 {})", (TOP + LINE_HEIGHT - BOTTOM) / 2.0)>
                    {y_label}
                </text>
            </svg>
            <ul class="legend">{legend}</ul>
        </figure>
    }
}

fn series_view(
    line: &Series,
    colour: &'static str,
    x: StepScale,
    y: Scale,
) -> impl IntoView + use<> {
    let path: Vec<String> = line
        .points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x.at(p.x), y.at(p.y)))
        .collect();
    let marks = line
        .points
        .iter()
        .map(|p| {
            let (cx, cy) = (x.at(p.x), y.at(p.y));
            let whisker = p.stderr.map(|error| {
                view! {
                    <line x1=cx x2=cx y1=y.at(p.y - error) y2=y.at(p.y + error) stroke=colour
                        class="whisker"></line>
                }
            });
            view! { {whisker} <circle cx=cx cy=cy r=3.0 fill=colour></circle> }
        })
        .collect_view();
    view! {
        <polyline points=path.join(" ") fill="none" stroke=colour stroke-width="2"></polyline>
        {marks}
    }
}

/// One row of a dot plot: a label and one value per series (`None` where a
/// series has no value on it).
#[derive(Debug, Clone, PartialEq)]
pub struct DotRow {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

/// A dot plot: one row per label, one coloured dot per series, over a shaded
/// band from `-band` to `band` around zero.
#[component]
pub fn DotChart(
    #[prop(into)] title: String,
    #[prop(into)] axis_label: String,
    series: Vec<String>,
    rows: Vec<DotRow>,
    band: f64,
) -> impl IntoView {
    let values = rows.iter().flat_map(|row| row.values.iter().flatten());
    let (low, high) = values.fold((-band, band), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let (domain, ticks) = nice_domain(low, high, 6);
    let scale = Scale {
        domain,
        range: (LABEL_WIDTH, WIDTH - 24.0),
    };
    let top = 16.0;
    let bottom = top + rows.len() as f64 * ROW;
    let height = bottom + 44.0;
    let grid = vertical_grid(&ticks, scale, top, bottom);
    let (band_left, band_right) = (scale.at(-band), scale.at(band));
    let marks = rows
        .iter()
        .enumerate()
        .map(|(index, row)| dot_row(row, top + index as f64 * ROW, scale))
        .collect_view();
    let legend = series
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let colour = PALETTE[index % PALETTE.len()];
            view! {
                <li><span class="swatch" style=format!("background:{colour}")></span>
                    {name.clone()}</li>
            }
        })
        .collect_view();
    let description = format!(
        "{title}: {} rows; the table below lists every value.",
        rows.len()
    );
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=description
                preserveAspectRatio="xMinYMin meet">
                <rect x=band_left y=top width=band_right - band_left height=bottom - top
                    class="band"></rect>
                {grid}
                <line x1=scale.at(0.0) x2=scale.at(0.0) y1=top y2=bottom class="axis"></line>
                {marks}
                <text x=(LABEL_WIDTH + WIDTH - 24.0) / 2.0 y=height - 6.0 class="axis-label"
                    text-anchor="middle">{axis_label}</text>
            </svg>
            <ul class="legend">{legend}</ul>
        </figure>
    }
}

fn dot_row(row: &DotRow, y: f64, scale: Scale) -> impl IntoView + use<> {
    let middle = y + ROW / 2.0;
    let label = truncate(&row.label, 34);
    let dots = row
        .values
        .iter()
        .enumerate()
        .filter_map(|(index, value)| {
            let colour = PALETTE[index % PALETTE.len()];
            let cx = scale.at((*value)?);
            Some(view! { <circle cx=cx cy=middle r=4.5 fill=colour class="dot"></circle> })
        })
        .collect_view();
    view! {
        <g class="row">
            <line x1=LABEL_WIDTH x2=WIDTH - 24.0 y1=middle y2=middle class="grid"></line>
            <text x=LABEL_WIDTH - 8.0 y=middle + 4.0 class="label" text-anchor="end">{label}</text>
            {dots}
        </g>
    }
}

/// One part of a stacked bar: a labelled count drawn in `PALETTE[colour]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub label: String,
    pub count: u64,
    pub colour: usize,
}

const STACK_HEIGHT: f64 = 44.0;

/// Returns each part's left edge and width on a bar `width` wide; parts
/// share the width in proportion to their counts (all zero when the total is).
fn stack_layout(parts: &[Part], width: f64) -> Vec<(f64, f64)> {
    let total: u64 = parts.iter().map(|p| p.count).sum();
    let mut left = 0.0;
    parts
        .iter()
        .map(|part| {
            let share = if total == 0 {
                0.0
            } else {
                part.count as f64 / total as f64
            };
            let at = (left, share * width);
            left += share * width;
            at
        })
        .collect()
}

/// One bar split into parts by count, each part's count written inside it
/// when it fits, and a legend naming every part with its count and share,
/// so colour is never the only key.
#[component]
pub fn StackedBar(#[prop(into)] title: String, parts: Vec<Part>) -> impl IntoView {
    let total: u64 = parts.iter().map(|p| p.count).sum();
    let share = move |count: u64| match total {
        0 => 0.0,
        _ => 100.0 * count as f64 / total as f64,
    };
    let layout = stack_layout(&parts, WIDTH);
    let rects = parts
        .iter()
        .zip(layout)
        .filter(|(part, _)| part.count > 0)
        .map(|(part, (x, width))| {
            let colour = PALETTE[part.colour % PALETTE.len()];
            let label = (width >= 28.0).then(|| {
                view! {
                    <text x=x + width / 2.0 y=STACK_HEIGHT / 2.0 + 4.0 class="stack-count"
                        text-anchor="middle">{part.count}</text>
                }
            });
            view! {
                <rect x=x y=0.0 width=width height=STACK_HEIGHT fill=colour>
                    <title>{format!("{}: {}", part.label, part.count)}</title>
                </rect>
                {label}
            }
        })
        .collect_view();
    let legend = parts
        .iter()
        .map(|part| {
            let colour = PALETTE[part.colour % PALETTE.len()];
            view! {
                <li><span class="swatch" style=format!("background:{colour}")></span>
                    {format!("{}: {} ({:.0}%)", part.label, part.count, share(part.count))}</li>
            }
        })
        .collect_view();
    let description = parts
        .iter()
        .map(|part| format!("{} {}", part.label, part.count))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <figure class="chart">
            <figcaption>{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {STACK_HEIGHT}") role="img"
                aria-label=format!("{title}: {description}.")
                preserveAspectRatio="xMinYMin meet">{rects}</svg>
            <ul class="legend">{legend}</ul>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(count: u64) -> Part {
        Part {
            label: String::new(),
            count,
            colour: 0,
        }
    }

    #[test]
    fn stacked_parts_share_the_width_by_count() {
        let layout = stack_layout(&[part(1), part(0), part(3)], 100.0);
        assert_eq!(layout, [(0.0, 25.0), (25.0, 0.0), (25.0, 75.0)]);
        let empty = stack_layout(&[part(0), part(0)], 100.0);
        assert_eq!(empty, [(0.0, 0.0), (0.0, 0.0)]);
    }
}
