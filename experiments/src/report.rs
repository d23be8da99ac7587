//! Builds `report.json` and `report.md` from the stored cell results.
//!
//! The report is a pure function of the suite and the files under `cells/` (it holds no
//! wall times), so rebuilding it, resuming a run or merging shards gives the same bytes.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::cells::{self, loss_label};
use crate::config::{LossKind, SuiteConfig, Target, TargetOn};
use crate::rundir::{CellResult, RunDir, write_atomic};

/// Differences at or below this are ties (not wins): metric noise of float sums.
const TIE: f64 = 1e-6;

/// Mean and sample standard deviation of a few values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for a single value).
    pub std: f64,
    /// Number of values.
    pub n: usize,
}

impl Stat {
    /// Statistics of the finite `values` (undefined ones, e.g. the precision of a
    /// threshold that predicts nothing, are left out: `n` counts the rest).
    pub fn of(values: &[f64]) -> Stat {
        let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = values.len();
        if n == 0 {
            return Stat {
                mean: f64::NAN,
                std: f64::NAN,
                n,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Stat { mean, std, n }
    }

    fn show(&self) -> String {
        if self.n == 0 || !self.mean.is_finite() {
            "–".into()
        } else if self.n == 1 {
            format!("{:.3}", self.mean)
        } else {
            format!("{:.3} ± {:.3}", self.mean, self.std)
        }
    }

    fn show_signed(&self) -> String {
        if self.n == 0 || !self.mean.is_finite() {
            "–".into()
        } else if self.n == 1 {
            format!("{:+.3}", self.mean)
        } else {
            format!("{:+.3} ± {:.3}", self.mean, self.std)
        }
    }
}

/// Paired comparison with BCE over the seeds both finished.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// Per-seed difference (this loss − BCE) of the reported metric.
    pub diff: Stat,
    /// Seeds on which this loss is better by more than 1e-6.
    pub wins: usize,
}

/// One loss in one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Label, e.g. `P@R(0.9)`.
    pub loss: String,
    /// The loss kind.
    pub kind: LossKind,
    /// Finished seeds.
    pub seeds: usize,
    /// The reported metric on test (precision for a recall target, recall for a
    /// precision target) at the threshold chosen on validation.
    pub metric: Stat,
    /// The achieved constrained rate on test.
    pub achieved: Stat,
    /// Seeds whose achieved rate met the target on test.
    pub met: usize,
    /// Test average precision.
    pub ap: Stat,
    /// Test ROC-AUC.
    pub roc_auc: Stat,
    /// Test IoU at the threshold.
    pub iou: Stat,
    /// Paired difference vs BCE (absent for BCE itself or without BCE cells).
    pub vs_bce: Option<Paired>,
    /// Largest final multiplier (global losses only).
    pub final_multiplier: Option<Stat>,
}

/// One table: an experiment, a model and a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Experiment name.
    pub experiment: String,
    /// Model name.
    pub model: String,
    /// The target.
    pub target: Target,
    /// Positive fraction of the test labels.
    pub positive_fraction: f64,
    /// The rows, in suite order.
    pub rows: Vec<Row>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Suite name.
    pub suite: String,
    /// Cells in the suite.
    pub cells_expected: usize,
    /// Cells with a stored result.
    pub cells_finished: usize,
    /// Keys of cells without a result.
    pub missing: Vec<String>,
    /// The tables.
    pub tables: Vec<Table>,
    /// Plain-sentence findings (wins, losses, missed targets).
    pub findings: Vec<String>,
}

/// Collects the stored results of every cell of the suite.
pub fn collect(run: &RunDir, suite: &SuiteConfig) -> (Vec<CellResult>, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for spec in cells::expand(suite) {
        let key = spec.key();
        match run.load_cell(&key) {
            Some(r) => found.push(r),
            None => missing.push(key),
        }
    }
    (found, missing)
}

/// Builds the report from the results.
pub fn build(suite: &SuiteConfig, results: &[CellResult], missing: Vec<String>) -> Report {
    // (experiment, model) in suite order, then targets in experiment order.
    let mut tables = Vec::new();
    for e in &suite.experiments {
        for m in &e.models {
            for target in e.targets() {
                let mine: Vec<&CellResult> = results
                    .iter()
                    .filter(|r| r.spec.experiment == e.name && r.spec.model.name == m.name)
                    .filter(|r| r.evals.iter().any(|ev| ev.target == target))
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                tables.push(table(&e.name, &m.name, target, &mine));
            }
        }
    }
    let findings = tables.iter().flat_map(findings).collect();
    Report {
        suite: suite.name.clone(),
        cells_expected: results.len() + missing.len(),
        cells_finished: results.len(),
        missing,
        tables,
        findings,
    }
}

fn eval_at(r: &CellResult, target: Target) -> &crate::rundir::TargetEval {
    r.evals
        .iter()
        .find(|ev| ev.target == target)
        .expect("filtered on this target")
}

fn table(experiment: &str, model: &str, target: Target, cells: &[&CellResult]) -> Table {
    // Group by loss label, keeping the first-seen order (suite order).
    let mut order: Vec<(LossKind, Option<Target>)> = Vec::new();
    let mut by: BTreeMap<String, Vec<&CellResult>> = BTreeMap::new();
    for &c in cells {
        let id = (c.spec.loss, c.spec.train_target);
        if !order.contains(&id) {
            order.push(id);
        }
        by.entry(loss_label(id.0, id.1)).or_default().push(c);
    }
    let bce: BTreeMap<u64, f64> = by
        .get(LossKind::Bce.label())
        .map(|v| {
            v.iter()
                .map(|c| (c.spec.seed, eval_at(c, target).metric()))
                .collect()
        })
        .unwrap_or_default();
    let rows = order
        .iter()
        .map(|&(kind, tt)| {
            let label = loss_label(kind, tt);
            let cs = &by[&label];
            let evs: Vec<_> = cs.iter().map(|c| eval_at(c, target)).collect();
            let stat =
                |f: &dyn Fn(usize) -> f64| Stat::of(&(0..cs.len()).map(f).collect::<Vec<_>>());
            let vs_bce = (kind != LossKind::Bce && !bce.is_empty()).then(|| {
                let diffs: Vec<f64> = cs
                    .iter()
                    .zip(&evs)
                    .filter_map(|(c, ev)| bce.get(&c.spec.seed).map(|b| ev.metric() - b))
                    .collect();
                Paired {
                    wins: diffs.iter().filter(|&&d| d > TIE).count(),
                    diff: Stat::of(&diffs),
                }
            });
            let final_multiplier = kind.is_global().then(|| {
                stat(&|i| {
                    cs[i]
                        .final_multipliers
                        .iter()
                        .copied()
                        .fold(f64::NAN, f64::max)
                })
            });
            Row {
                loss: label,
                kind,
                seeds: cs.len(),
                metric: stat(&|i| evs[i].metric()),
                achieved: stat(&|i| evs[i].achieved()),
                met: evs
                    .iter()
                    .filter(|ev| ev.achieved() >= target.value)
                    .count(),
                ap: stat(&|i| cs[i].ap),
                roc_auc: stat(&|i| cs[i].roc_auc),
                iou: stat(&|i| evs[i].iou),
                vs_bce,
                final_multiplier,
            }
        })
        .collect();
    Table {
        experiment: experiment.into(),
        model: model.into(),
        target,
        positive_fraction: cells[0].test_positive_fraction,
        rows,
    }
}

fn metric_name(target: Target) -> (&'static str, &'static str) {
    match target.on {
        TargetOn::Recall => ("precision", "recall"),
        TargetOn::Precision => ("recall", "precision"),
    }
}

fn findings(t: &Table) -> Vec<String> {
    let (metric, constrained) = metric_name(t.target);
    let place = format!("{} / {} at {}", t.experiment, t.model, t.target.describe());
    let mut out = Vec::new();
    let bce = t.rows.iter().find(|r| r.kind == LossKind::Bce);
    for r in &t.rows {
        if let (Some(p), Some(b)) = (&r.vs_bce, bce)
            && r.kind.is_global()
        {
            // "Beats" needs a positive paired mean of more than two standard errors
            // and a majority of seeds; a smaller lead is reported as within noise.
            let se = if p.diff.n > 1 {
                p.diff.std / (p.diff.n as f64).sqrt()
            } else {
                0.0
            };
            let verdict = if p.diff.mean > TIE && p.diff.mean > 2.0 * se && 2 * p.wins > p.diff.n {
                "beats"
            } else if p.diff.mean > TIE {
                "does not clearly beat"
            } else {
                "does not beat"
            };
            out.push(format!(
                "{place}: {} {verdict} BCE on test {metric}: {} vs {} (paired difference {}, \
                 better on {}/{} seeds).",
                r.loss,
                r.metric.show(),
                b.metric.show(),
                p.diff.show_signed(),
                p.wins,
                p.diff.n
            ));
        }
    }
    let short: Vec<String> = t
        .rows
        .iter()
        .filter(|r| r.met < r.seeds)
        .map(|r| {
            format!(
                "{} {} (met on {}/{} seeds)",
                r.loss,
                r.achieved.show(),
                r.met,
                r.seeds
            )
        })
        .collect();
    if !short.is_empty() {
        out.push(format!(
            "{place}: the threshold chosen on validation misses the {constrained} target {} on \
             test for {}.",
            t.target.value,
            short.join(", ")
        ));
    }
    out
}

/// Renders the report as Markdown.
pub fn markdown(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Report: suite `{}`\n", report.suite);
    let _ = writeln!(
        s,
        "Cells finished: {}/{}. Every number is on the test split, at the threshold chosen on \
         the validation split as the most precise (or, for a precision target, the highest \
         recall) one that meets the target there; mean ± sample std over seeds. \
         \"Δ vs BCE\" pairs seeds; \"wins\" counts seeds where the loss is better by more \
         than 1e-6. A finding says a loss \"beats\" BCE when its paired mean difference is \
         positive by more than two standard errors and it wins on most seeds, \"does not \
         clearly beat\" when it is ahead by less, and \"does not beat\" otherwise.\n",
        report.cells_finished, report.cells_expected
    );
    if !report.missing.is_empty() {
        let _ = writeln!(
            s,
            "**Incomplete:** {} cells have no result yet (resume with the same command).\n",
            report.missing.len()
        );
    }
    let _ = writeln!(s, "## Headline\n");
    let _ = writeln!(
        s,
        "The loss trained for each table's target (P@R or R@P; PR-AUC when neither) \
         against BCE, and the best loss of the table by mean.\n"
    );
    let _ = writeln!(
        s,
        "| experiment | model | target | metric | BCE | loss | its value | Δ vs BCE | wins | target met | best loss |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    for t in &report.tables {
        let bce = t.rows.iter().find(|r| r.kind == LossKind::Bce);
        let main = t
            .rows
            .iter()
            .find(|r| r.kind.trains_for() == Some(t.target.on))
            .or_else(|| t.rows.iter().find(|r| r.kind.is_global()));
        let best = t
            .rows
            .iter()
            .filter(|r| r.metric.n > 0)
            .max_by(|a, b| a.metric.mean.total_cmp(&b.metric.mean));
        if let Some(g) = main {
            let (metric, _) = metric_name(t.target);
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {}/{} | {} |",
                t.experiment,
                t.model,
                t.target.describe(),
                metric,
                bce.map(|b| b.metric.show()).unwrap_or_else(|| "–".into()),
                g.loss,
                g.metric.show(),
                g.vs_bce
                    .map(|p| p.diff.show_signed())
                    .unwrap_or_else(|| "–".into()),
                g.vs_bce
                    .map(|p| format!("{}/{}", p.wins, p.diff.n))
                    .unwrap_or_else(|| "–".into()),
                g.met,
                g.seeds,
                best.map(|b| format!("{} {}", b.loss, b.metric.show()))
                    .unwrap_or_else(|| "–".into()),
            );
        }
    }
    let _ = writeln!(s);
    if !report.findings.is_empty() {
        let _ = writeln!(s, "## Findings\n");
        for f in &report.findings {
            let _ = writeln!(s, "- {f}");
        }
        let _ = writeln!(s);
    }
    let mut last = String::new();
    for t in &report.tables {
        if t.experiment != last {
            let _ = writeln!(s, "## {}\n", t.experiment);
            last = t.experiment.clone();
        }
        let (metric, constrained) = metric_name(t.target);
        let _ = writeln!(
            s,
            "### model `{}`, {} (test positives {:.1}%)\n",
            t.model,
            t.target.describe(),
            100.0 * t.positive_fraction
        );
        let _ = writeln!(
            s,
            "| loss | seeds | {metric} | {constrained} (target {}) | met | AP | ROC-AUC | IoU | Δ {metric} vs BCE | wins | final λ (max) |",
            t.target.value
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
        for r in &t.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} |",
                r.loss,
                r.seeds,
                r.metric.show(),
                r.achieved.show(),
                r.met,
                r.seeds,
                r.ap.show(),
                r.roc_auc.show(),
                r.iou.show(),
                r.vs_bce
                    .map(|p| p.diff.show_signed())
                    .unwrap_or_else(|| "–".into()),
                r.vs_bce
                    .map(|p| format!("{}/{}", p.wins, p.diff.n))
                    .unwrap_or_else(|| "–".into()),
                r.final_multiplier
                    .map(|m| m.show())
                    .unwrap_or_else(|| "–".into()),
            );
        }
        let _ = writeln!(
            s,
            "\nPlots: `plots/{0}-{1}-pr.png`, `plots/{0}-{1}-multipliers.png`, `plots/{0}-{1}-loss.png`.\n",
            t.experiment, t.model
        );
    }
    s
}

/// Rebuilds report.json, report.md and the plots of a run directory.
pub fn write(run: &RunDir) -> anyhow::Result<Report> {
    let suite = run.suite()?;
    let (results, missing) = collect(run, &suite);
    let report = build(&suite, &results, missing);
    let json = serde_json::to_string_pretty(&report).expect("report should serialize");
    write_atomic(&run.root.join("report.json"), json.as_bytes())?;
    write_atomic(&run.root.join("report.md"), markdown(&report).as_bytes())?;
    crate::plots::write_all(run, &suite, &results)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Preset, SuiteConfig};
    use crate::rundir::TargetEval;

    /// Fake results of the toy experiment: BCE gets `bce`, P@R gets `par` per seed.
    fn results(bce: &[f64], par: &[f64]) -> (SuiteConfig, Vec<CellResult>) {
        let mut suite = SuiteConfig::preset(Preset::Quick);
        suite.restrict_to(&[crate::config::Part::Toy]);
        suite.set_seeds(bce.len());
        let out = cells::expand(&suite)
            .into_iter()
            .map(|spec| {
                let v = if spec.loss == LossKind::Bce { bce } else { par }[spec.seed as usize];
                CellResult {
                    key: spec.key(),
                    evals: vec![TargetEval {
                        target: spec.eval_targets[0],
                        threshold: 0.5,
                        precision: v,
                        recall: 0.97,
                        iou: 0.5,
                        feasible_on_val: true,
                    }],
                    ap: 0.5,
                    roc_auc: 0.5,
                    final_multipliers: vec![2.0],
                    pr_curve: vec![],
                    test_positive_fraction: 0.1,
                    seconds: 1.0,
                    spec,
                }
            })
            .collect();
        (suite, out)
    }

    #[test]
    fn paired_differences_and_verdicts() {
        let (suite, r) = results(&[0.5, 0.6, 0.7], &[0.6, 0.75, 0.8]);
        let rep = build(&suite, &r, vec![]);
        let row = &rep.tables[0].rows[1];
        let p = row.vs_bce.unwrap();
        assert_eq!((p.wins, p.diff.n), (3, 3));
        assert!((p.diff.mean - 0.35 / 3.0).abs() < 1e-12);
        assert!(
            rep.findings[0].contains("P@R(0.98) beats BCE"),
            "{:?}",
            rep.findings
        );
        // Recall 0.97 < 0.98 on every seed: the shortfall is stated.
        assert!(rep.findings[1].contains("misses the recall target 0.98"));
        assert!(rep.findings[1].contains("met on 0/3 seeds"));

        let (suite, r) = results(&[0.5, 0.6, 0.7], &[0.4, 0.65, 0.6]);
        let rep = build(&suite, &r, vec![]);
        assert!(
            rep.findings[0].contains("does not beat BCE"),
            "{:?}",
            rep.findings
        );
        let (suite, r) = results(&[0.5, 0.6, 0.7], &[0.7, 0.5, 0.71]);
        let rep = build(&suite, &r, vec![]);
        assert!(
            rep.findings[0].contains("does not clearly beat"),
            "{:?}",
            rep.findings
        );
        let md = markdown(&rep);
        assert!(
            md.contains("| toy | linear | recall ≥ 0.98 | precision |"),
            "{md}"
        );
    }

    #[test]
    fn stats_skip_undefined_values() {
        let s = Stat::of(&[1.0, f64::NAN, 3.0]);
        assert_eq!(s.n, 2);
        assert!((s.mean - 2.0).abs() < 1e-12 && (s.std - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(Stat::of(&[0.25]).std, 0.0);
    }
}
