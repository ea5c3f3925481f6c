//! Inline SVG charts: lines and stacked bars over days, stacked shares over
//! days (areas), and horizontal bars over names.
//!
//! Each chart is one `<svg role="img" aria-label="…">` that scales to its
//! box (a `viewBox`, no fixed size), with a `<title>` tooltip on each of its
//! marks. Colours come from the stylesheet (classes `c0`…`c7`, the
//! Okabe–Ito palette), never from a `style` attribute, so that the page's
//! Content-Security-Policy holds and the dark theme can adjust them. The
//! page puts a legend naming every series and a table of the same numbers
//! under each chart.

use super::html::escape;
use crate::overview::calendar::Day;
use crate::overview::figures;
use crate::overview::series::Series;
use std::fmt::Write as _;

/// Okabe–Ito colour classes in the order series take them: blue, orange,
/// bluish green, vermillion, reddish purple, sky blue, yellow, and black
/// (grey in the dark theme) for "other".
pub const COLOURS: usize = 8;

/// The colour class for failures, everywhere: vermillion.
pub const FAILURE: usize = 3;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;
const PLOT_WIDTH: f64 = WIDTH - LEFT - RIGHT;
const PLOT_HEIGHT: f64 = HEIGHT - TOP - BOTTOM;

/// One series to draw and its colour class (0 to 7).
#[derive(Debug, Clone, Copy)]
pub struct Plot<'a> {
    /// The series.
    pub series: &'a Series,
    /// Its colour class, `c0` to `c7`.
    pub colour: usize,
}

impl<'a> Plot<'a> {
    /// `series` drawn in colour class `colour`.
    #[must_use]
    pub fn new(series: &'a Series, colour: usize) -> Plot<'a> {
        Plot { series, colour }
    }
}

/// One line per series over `days`, with a tooltip per day listing every
/// series' value.
#[must_use]
pub fn lines(label: &str, days: &[Day], plots: &[Plot<'_>]) -> String {
    let top = nice_ceiling(max_of(
        plots
            .iter()
            .flat_map(|plot| plot.series.values.iter().copied()),
    ));
    let mut svg = open(label, HEIGHT);
    axes(&mut svg, days, top);
    for plot in plots {
        let points: Vec<String> = plot
            .series
            .values
            .iter()
            .enumerate()
            .map(|(index, value)| {
                format!("{:.1},{:.1}", x_at(index, days.len()), y_at(*value, top))
            })
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="line c{}" points="{}"><title>{}</title></polyline>"#,
            plot.colour,
            points.join(" "),
            escape(&plot.series.name)
        );
        if days.len() == 1 {
            let _ = write!(
                svg,
                r#"<circle class="dot c{}" cx="{:.1}" cy="{:.1}" r="3"/>"#,
                plot.colour,
                x_at(0, 1),
                y_at(plot.series.values.first().copied().unwrap_or(0.0), top)
            );
        }
    }
    day_tooltips(&mut svg, days, plots);
    svg.push_str("</svg>");
    svg
}

/// Bars over `days`, the series stacked in order, a tooltip on each part.
#[must_use]
pub fn stacked_bars(label: &str, days: &[Day], plots: &[Plot<'_>]) -> String {
    let totals = totals(days.len(), plots);
    let top = nice_ceiling(max_of(totals.iter().copied()));
    let mut svg = open(label, HEIGHT);
    axes(&mut svg, days, top);
    let slot = PLOT_WIDTH / days.len().max(1) as f64;
    let width = (slot * 0.8).max(0.5);
    for (index, day) in days.iter().enumerate() {
        let x = LEFT + slot * index as f64 + (slot - width) / 2.0;
        let mut below = 0.0;
        for plot in plots {
            let value = value_at(plot.series, index);
            if value <= 0.0 {
                continue;
            }
            let (y_top, y_bottom) = (y_at(below + value, top), y_at(below, top));
            below += value;
            let _ = write!(
                svg,
                r#"<rect class="c{}" x="{x:.1}" y="{y_top:.1}" width="{width:.1}" height="{:.1}"><title>{} · {}: {}</title></rect>"#,
                plot.colour,
                (y_bottom - y_top).max(0.5),
                day,
                escape(&plot.series.name),
                figures::rounded(value)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Each day's values as shares of that day's total (0 to 100%), stacked as
/// areas; a tooltip per day lists every series' share.
#[must_use]
pub fn stacked_shares(label: &str, days: &[Day], plots: &[Plot<'_>]) -> String {
    let totals = totals(days.len(), plots);
    let mut svg = open(label, HEIGHT);
    axes_percent(&mut svg, days);
    // With one day, the areas span the plot's width.
    let xs: Vec<f64> = if days.len() == 1 {
        vec![LEFT, LEFT + PLOT_WIDTH]
    } else {
        (0..days.len())
            .map(|index| x_at(index, days.len()))
            .collect()
    };
    let day_of = |point: usize| if days.len() == 1 { 0 } else { point };
    let mut below = vec![0.0; xs.len()];
    for plot in plots {
        let above: Vec<f64> = below
            .iter()
            .enumerate()
            .map(|(point, under)| {
                let day = day_of(point);
                let share = if totals[day] > 0.0 {
                    value_at(plot.series, day) / totals[day]
                } else {
                    0.0
                };
                under + share
            })
            .collect();
        let mut path = String::new();
        for (point, share) in above.iter().enumerate() {
            let _ = write!(
                path,
                "{}{:.1},{:.1} ",
                if point == 0 { "M" } else { "L" },
                xs[point],
                y_at(*share, 1.0)
            );
        }
        for (point, share) in below.iter().enumerate().rev() {
            let _ = write!(path, "L{:.1},{:.1} ", xs[point], y_at(*share, 1.0));
        }
        let _ = write!(
            svg,
            r#"<path class="area c{}" d="{}Z"><title>{}</title></path>"#,
            plot.colour,
            path,
            escape(&plot.series.name)
        );
        below = above;
    }
    let shares: Vec<Series> = plots
        .iter()
        .map(|plot| Series {
            name: plot.series.name.clone(),
            values: (0..days.len())
                .map(|day| {
                    if totals[day] > 0.0 {
                        value_at(plot.series, day) / totals[day] * 100.0
                    } else {
                        0.0
                    }
                })
                .collect(),
        })
        .collect();
    let share_plots: Vec<Plot<'_>> = shares
        .iter()
        .zip(plots)
        .map(|(series, plot)| Plot {
            series,
            colour: plot.colour,
        })
        .collect();
    day_tooltips_with(&mut svg, days, &share_plots, |value| format!("{value:.1}%"));
    svg.push_str("</svg>");
    svg
}

/// One horizontal bar per name, the series stacked in order (for example
/// succeeded, then failed calls), the total written after the bar.
#[must_use]
pub fn bars(label: &str, names: &[&str], plots: &[Plot<'_>]) -> String {
    const ROW: f64 = 24.0;
    const NAME_WIDTH: f64 = 150.0;
    const VALUE_WIDTH: f64 = 56.0;
    let bar_space = WIDTH - NAME_WIDTH - VALUE_WIDTH;
    let totals = totals(names.len(), plots);
    let top = max_of(totals.iter().copied()).max(f64::MIN_POSITIVE);
    let height = ROW * names.len().max(1) as f64 + 4.0;
    let mut svg = open(label, height);
    for (index, name) in names.iter().enumerate() {
        let y = 2.0 + ROW * index as f64;
        let _ = write!(
            svg,
            r#"<text class="name" x="{:.1}" y="{:.1}" text-anchor="end">{}<title>{}</title></text>"#,
            NAME_WIDTH - 6.0,
            y + ROW / 2.0 + 4.0,
            escape(&shorten(name, 18)),
            escape(name)
        );
        let mut x = NAME_WIDTH;
        for plot in plots {
            let value = value_at(plot.series, index);
            if value <= 0.0 {
                continue;
            }
            let width = (value / top * bar_space).max(1.0);
            let _ = write!(
                svg,
                r#"<rect class="c{}" x="{x:.1}" y="{:.1}" width="{width:.1}" height="{:.1}"><title>{} · {}: {}</title></rect>"#,
                plot.colour,
                y + 4.0,
                ROW - 8.0,
                escape(name),
                escape(&plot.series.name),
                figures::rounded(value)
            );
            x += width;
        }
        let _ = write!(
            svg,
            r#"<text class="value" x="{:.1}" y="{:.1}">{}</text>"#,
            x + 4.0,
            y + ROW / 2.0 + 4.0,
            figures::rounded(totals[index])
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open(label: &str, height: f64) -> String {
    format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(label)
    )
}

/// Grid lines at 0, half and the top, and the first, middle and last day.
fn axes(svg: &mut String, days: &[Day], top: f64) {
    for step in [0.0, 0.5, 1.0] {
        let value = top * step;
        let y = y_at(value, top);
        grid_line(svg, y, &axis_number(value));
    }
    day_labels(svg, days);
}

fn axes_percent(svg: &mut String, days: &[Day]) {
    for (step, text) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        grid_line(svg, y_at(step, 1.0), text);
    }
    day_labels(svg, days);
}

fn grid_line(svg: &mut String, y: f64, text: &str) {
    let _ = write!(
        svg,
        r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{text}</text>"#,
        WIDTH - RIGHT,
        LEFT - 4.0,
        y + 4.0
    );
}

fn day_labels(svg: &mut String, days: &[Day]) {
    let count = days.len();
    let mut picks = vec![0];
    if count >= 3 {
        picks.push(count / 2);
    }
    if count >= 2 {
        picks.push(count - 1);
    }
    for (position, index) in picks.iter().enumerate() {
        let anchor = match (position, picks.len()) {
            (0, 1) => "middle",
            (0, _) => "start",
            (last, len) if last + 1 == len => "end",
            _ => "middle",
        };
        let x = match anchor {
            "start" => LEFT,
            "end" => WIDTH - RIGHT,
            _ => x_at(*index, count),
        };
        let _ = write!(
            svg,
            r#"<text class="axis" x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            HEIGHT - 6.0,
            short_day(days[*index])
        );
    }
}

/// One transparent column per day whose tooltip lists every series' value.
fn day_tooltips(svg: &mut String, days: &[Day], plots: &[Plot<'_>]) {
    day_tooltips_with(svg, days, plots, figures::rounded);
}

fn day_tooltips_with(
    svg: &mut String,
    days: &[Day],
    plots: &[Plot<'_>],
    show: impl Fn(f64) -> String,
) {
    let slot = PLOT_WIDTH / days.len().max(1) as f64;
    for (index, day) in days.iter().enumerate() {
        let values: Vec<String> = plots
            .iter()
            .map(|plot| {
                format!(
                    "{}: {}",
                    escape(&plot.series.name),
                    show(value_at(plot.series, index))
                )
            })
            .collect();
        let x = if days.len() == 1 {
            LEFT
        } else {
            (x_at(index, days.len()) - slot / 2.0).max(LEFT)
        };
        let _ = write!(
            svg,
            r#"<rect class="hover" x="{x:.1}" y="{TOP}" width="{:.1}" height="{PLOT_HEIGHT}"><title>{day}&#10;{}</title></rect>"#,
            slot.min(LEFT + PLOT_WIDTH - x),
            values.join("&#10;")
        );
    }
}

fn x_at(index: usize, count: usize) -> f64 {
    if count <= 1 {
        LEFT + PLOT_WIDTH / 2.0
    } else {
        LEFT + PLOT_WIDTH * index as f64 / (count - 1) as f64
    }
}

fn y_at(value: f64, top: f64) -> f64 {
    let share = if top > 0.0 {
        (value / top).clamp(0.0, 1.0)
    } else {
        0.0
    };
    TOP + PLOT_HEIGHT * (1.0 - share)
}

/// The sum of the plots' values at each of `count` positions.
fn totals(count: usize, plots: &[Plot<'_>]) -> Vec<f64> {
    (0..count)
        .map(|index| plots.iter().map(|plot| value_at(plot.series, index)).sum())
        .collect()
}

fn value_at(series: &Series, index: usize) -> f64 {
    series
        .values
        .get(index)
        .copied()
        .filter(|value| value.is_finite())
        .unwrap_or(0.0)
}

fn max_of(values: impl Iterator<Item = f64>) -> f64 {
    values.filter(|value| value.is_finite()).fold(0.0, f64::max)
}

/// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `max`
/// (1 for an empty chart), so that the grid lines fall on round numbers.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|step| step * magnitude)
        .find(|candidate| *candidate >= max * (1.0 - 1e-12))
        .unwrap_or(10.0 * magnitude)
}

/// An axis number, short: `0`, `2.5`, `0.05`, `1.5k`, `2M`.
fn axis_number(value: f64) -> String {
    let (scaled, suffix) = if value >= 1e6 {
        (value / 1e6, "M")
    } else if value >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = format!("{scaled:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{suffix}")
}

fn short_day(day: Day) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let text = day.to_string();
    let month: usize = text
        .get(5..7)
        .and_then(|month| month.parse().ok())
        .unwrap_or(1);
    let date = text.get(8..10).unwrap_or("").trim_start_matches('0');
    format!("{} {date}", MONTHS[(month - 1) % 12])
}

fn shorten(name: &str, limit: usize) -> String {
    if name.chars().count() <= limit {
        name.to_owned()
    } else {
        let kept: String = name.chars().take(limit - 1).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, values: &[f64]) -> Series {
        Series {
            name: name.to_owned(),
            values: values.to_vec(),
        }
    }

    fn days(count: i64) -> Vec<Day> {
        let from = Day::parse("2026-12-01").unwrap();
        Day::span(from, from.plus(count - 1)).collect()
    }

    #[test]
    fn grid_lines_fall_on_round_numbers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(10.0), 10.0);
        assert_eq!(nice_ceiling(11.0), 20.0);
        assert_eq!(nice_ceiling(0.03), 0.05);
        assert_eq!(nice_ceiling(2100.0), 2500.0);
        assert_eq!(axis_number(1250.0), "1.25k");
        assert_eq!(axis_number(0.025), "0.025");
        assert_eq!(axis_number(2_000_000.0), "2M");
        assert_eq!(axis_number(0.0), "0");
    }

    #[test]
    fn every_chart_is_an_image_with_a_label_and_tooltips() {
        let a = series("active <installs>", &[1.0, 3.0, 2.0]);
        let b = series("new", &[1.0, 0.0, 2.0]);
        let both = [Plot::new(&a, 0), Plot::new(&b, 1)];
        for svg in [
            lines("Installs & more", &days(3), &both),
            stacked_bars("Installs & more", &days(3), &both),
            stacked_shares("Installs & more", &days(3), &both),
            bars("Installs & more", &["x", "y", "z"], &[Plot::new(&a, 0)]),
        ] {
            assert!(
                svg.starts_with(r#"<svg class="chart" viewBox="0 0 480 "#),
                "{svg}"
            );
            assert!(
                svg.contains(r#"role="img" aria-label="Installs &amp; more""#),
                "{svg}"
            );
            assert!(svg.contains("<title>"), "{svg}");
            assert!(svg.ends_with("</svg>"));
            assert!(!svg.contains("<installs>"), "names are escaped: {svg}");
            assert!(!svg.contains("style="), "colours come from classes: {svg}");
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
    }

    #[test]
    fn stacked_bars_stack_in_order_and_say_each_part() {
        let ok = series("succeeded", &[3.0]);
        let failed = series("failed", &[1.0]);
        let svg = stacked_bars(
            "calls",
            &days(1),
            &[Plot::new(&ok, 0), Plot::new(&failed, FAILURE)],
        );
        assert!(
            svg.contains("<title>2026-12-01 · succeeded: 3</title>"),
            "{svg}"
        );
        assert!(
            svg.contains("<title>2026-12-01 · failed: 1</title>"),
            "{svg}"
        );
        // The top is 5 (the nice ceiling of 4): succeeded fills 3/5 of the
        // plot's height from the bottom, failed the next 1/5.
        let height = |value: f64| format!("height=\"{:.1}\"", PLOT_HEIGHT * value / 5.0);
        assert!(
            svg.contains(&height(3.0)) && svg.contains(&height(1.0)),
            "{svg}"
        );
    }

    #[test]
    fn shares_say_percentages_per_day_and_survive_empty_days() {
        let a = series("1.0.0", &[1.0, 0.0]);
        let b = series("1.1.0", &[3.0, 0.0]);
        let svg = stacked_shares("versions", &days(2), &[Plot::new(&a, 0), Plot::new(&b, 1)]);
        assert!(
            svg.contains("2026-12-01&#10;1.0.0: 25.0%&#10;1.1.0: 75.0%"),
            "{svg}"
        );
        assert!(
            svg.contains("2026-12-02&#10;1.0.0: 0.0%&#10;1.1.0: 0.0%"),
            "{svg}"
        );
    }

    #[test]
    fn an_empty_or_single_day_chart_still_draws_inside_its_box() {
        let none = series("x", &[]);
        for svg in [
            lines("x", &days(1), &[Plot::new(&none, 0)]),
            stacked_bars("x", &days(1), &[Plot::new(&none, 0)]),
            stacked_shares("x", &days(1), &[Plot::new(&none, 0)]),
            bars("x", &[], &[]),
        ] {
            assert!(svg.ends_with("</svg>") && !svg.contains("NaN"), "{svg}");
        }
    }

    #[test]
    fn long_names_are_shortened_with_the_full_name_in_the_tooltip() {
        let calls = series("calls", &[2.0]);
        let name = "a_tool_with_a_very_long_name_indeed";
        let svg = bars("tools", &[name], &[Plot::new(&calls, 0)]);
        assert!(
            svg.contains(">a_tool_with_a_ver…<title>a_tool_with_a_very_long_name_indeed</title>"),
            "{svg}"
        );
    }
}
