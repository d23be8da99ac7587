//! PNG plots (plotters, pure-Rust text through ab_glyph and DejaVu Sans).
//!
//! Per experiment and model: `-pr.png` (test PR curves, one per loss, seed 0),
//! `-multipliers.png` (largest multiplier λ and smallest slack over epochs, global losses,
//! seed 0) and `-loss.png` (training loss over epochs, one per loss, seed 0).
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use plotters::prelude::*;

use crate::config::SuiteConfig;
use crate::rundir::{CellResult, EpochLog, RunDir};

const FONT: &str = "sans-serif";

/// Where the font is looked for: `$GO_FONT`, `.data/fonts/` under the working directory,
/// then under the workspace this binary was built from.
fn font_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os("GO_FONT") {
        v.push(PathBuf::from(p));
    }
    v.push(PathBuf::from(".data/fonts/DejaVuSans.ttf"));
    v.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.data/fonts/DejaVuSans.ttf"));
    v
}

/// Registers DejaVu Sans once; an error says where it was looked for.
fn ensure_font() -> anyhow::Result<()> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let candidates = font_candidates();
        let path = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
            format!(
                "font DejaVuSans.ttf not found (looked in {candidates:?}); run scripts/setup-data.sh"
            )
        })?;
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font(FONT, FontStyle::Normal, bytes)
            .map_err(|_| format!("{} is not a valid font", path.display()))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

/// One line of a plot.
struct Series {
    label: String,
    points: Vec<(f64, f64)>,
}

/// Writes every plot of the run. A missing font skips the plots with a logged warning.
pub fn write_all(run: &RunDir, suite: &SuiteConfig, results: &[CellResult]) -> anyhow::Result<()> {
    if let Err(e) = ensure_font() {
        tracing::warn!("plots skipped: {e:#}");
        return Ok(());
    }
    for e in &suite.experiments {
        for m in &e.models {
            let cells: Vec<&CellResult> = results
                .iter()
                .filter(|r| r.spec.experiment == e.name && r.spec.model.name == m.name)
                .filter(|r| r.spec.seed == 0)
                .collect();
            if cells.is_empty() {
                continue;
            }
            let stem = format!("{}-{}", e.name, m.name);
            let pr: Vec<Series> = cells
                .iter()
                .map(|c| Series {
                    label: c.spec.loss_label(),
                    points: c.pr_curve.iter().map(|p| (p[0], p[1])).collect(),
                })
                .collect();
            let file = run.root.join("plots").join(format!("{stem}-pr.png"));
            line_plot(
                &file,
                &format!("{stem}: test PR curves (seed 0)"),
                "recall",
                "precision",
                &pr,
                Some((0.0, 1.0)),
            )?;
            let mut losses = Vec::new();
            let mut lambdas = Vec::new();
            let mut slacks = Vec::new();
            for c in &cells {
                let epochs: Vec<EpochLog> = run.load_epochs(&c.key)?;
                let label = c.spec.loss_label();
                losses.push(Series {
                    label: label.clone(),
                    points: epochs.iter().map(|r| (r.epoch as f64, r.loss)).collect(),
                });
                if epochs.iter().any(|r| !r.multipliers.is_empty()) {
                    lambdas.push(Series {
                        label: label.clone(),
                        points: epochs
                            .iter()
                            .filter_map(|r| max(&r.multipliers).map(|v| (r.epoch as f64, v)))
                            .collect(),
                    });
                    slacks.push(Series {
                        label,
                        points: epochs
                            .iter()
                            .filter_map(|r| min(&r.slack).map(|v| (r.epoch as f64, v)))
                            .collect(),
                    });
                }
            }
            let file = run.root.join("plots").join(format!("{stem}-loss.png"));
            line_plot(
                &file,
                &format!("{stem}: training loss (seed 0)"),
                "epoch",
                "loss",
                &losses,
                None,
            )?;
            if !lambdas.is_empty() {
                let file = run
                    .root
                    .join("plots")
                    .join(format!("{stem}-multipliers.png"));
                two_panel(&file, &stem, &lambdas, &slacks)?;
            }
        }
    }
    Ok(())
}

fn max(v: &[f64]) -> Option<f64> {
    v.iter().copied().filter(|x| x.is_finite()).reduce(f64::max)
}

fn min(v: &[f64]) -> Option<f64> {
    v.iter().copied().filter(|x| x.is_finite()).reduce(f64::min)
}

fn bounds(series: &[Series]) -> ((f64, f64), (f64, f64)) {
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return ((0.0, 1.0), (0.0, 1.0));
    }
    let pad = |a: f64, b: f64| {
        if (b - a).abs() < 1e-12 {
            (a - 0.5, b + 0.5)
        } else {
            (a - 0.03 * (b - a), b + 0.03 * (b - a))
        }
    };
    (pad(x0, x1), pad(y0, y1))
}

fn draw_series<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
    fixed: Option<(f64, f64)>,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let ((x0, x1), (y0, y1)) = match fixed {
        Some(r) => (r, r),
        None => bounds(series),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| anyhow!("{e:?}"))?;
    chart
        .configure_mesh()
        .x_desc(xlabel)
        .y_desc(ylabel)
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba().stroke_width(2);
        chart
            .draw_series(LineSeries::new(
                s.points
                    .iter()
                    .copied()
                    .filter(|p| p.0.is_finite() && p.1.is_finite()),
                color,
            ))
            .map_err(|e| anyhow!("{e:?}"))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerLeft)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

fn line_plot(
    file: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
    fixed: Option<(f64, f64)>,
) -> anyhow::Result<()> {
    let root = BitMapBackend::new(file, (800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    draw_series(&root, title, xlabel, ylabel, series, fixed)
        .with_context(|| format!("cannot draw {}", file.display()))?;
    root.present()
        .map_err(|e| anyhow!("{e:?}"))
        .with_context(|| format!("cannot write {}", file.display()))
}

fn two_panel(file: &Path, stem: &str, lambdas: &[Series], slacks: &[Series]) -> anyhow::Result<()> {
    let root = BitMapBackend::new(file, (1200, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let (left, right) = root.split_horizontally(600);
    draw_series(
        &left,
        &format!("{stem}: largest multiplier λ"),
        "epoch",
        "λ",
        lambdas,
        None,
    )?;
    draw_series(
        &right,
        &format!("{stem}: smallest slack"),
        "epoch",
        "slack",
        slacks,
        None,
    )?;
    root.present()
        .map_err(|e| anyhow!("{e:?}"))
        .with_context(|| format!("cannot write {}", file.display()))
}
