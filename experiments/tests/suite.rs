//! End-to-end runs of `experiments suite`: the quick suite, resume, shards + merge, and
//! config errors. Each test runs the real binary in a temporary directory.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_experiments"));
    // The data and the font live in the workspace's .data folder.
    c.env(
        "GO_DATA_DIR",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../.data"),
    );
    c
}

fn run_ok(args: &[&str]) -> Output {
    let out = bin().args(args).output().expect("the binary should start");
    assert!(
        out.status.success(),
        "experiments {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The only run directory under `out`.
fn run_dir(out: &Path) -> PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cell_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("cells"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn quick_suite_writes_a_complete_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().to_str().unwrap();
    run_ok(&["suite", "--quick", "--quiet", "--out", out]);
    let dir = run_dir(tmp.path());
    let report = json(&dir.join("report.json"));
    let expected = report["cells_expected"].as_u64().unwrap();
    assert!(expected >= 10, "{report}");
    assert_eq!(report["cells_finished"].as_u64(), Some(expected));
    // One table per experiment of the quick suite (caravan has two targets).
    let experiments: std::collections::BTreeSet<_> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["experiment"].as_str().unwrap().to_string())
        .collect();
    for e in [
        "toy",
        "fashion-bag",
        "fashion-inverted",
        "stardist",
        "caravan",
    ] {
        assert!(experiments.contains(e), "{e} missing from {experiments:?}");
    }
    // Every row has finite metrics in [0, 1].
    for t in report["tables"].as_array().unwrap() {
        for r in t["rows"].as_array().unwrap() {
            for f in ["ap", "roc_auc", "achieved"] {
                let v = r[f]["mean"].as_f64().unwrap_or(f64::NAN);
                assert!((0.0..=1.0).contains(&v), "{f} = {v} in {r}");
            }
        }
    }
    // The toy shows the reference effect even at one seed (reference §8).
    let toy = &report["tables"][0];
    assert_eq!(toy["experiment"], "toy");
    let by = |loss: &str| {
        toy["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["loss"] == loss)
            .unwrap()["metric"]["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(by("P@R(0.98)") >= 0.75, "{toy}");
    assert!(by("BCE") <= 0.3, "{toy}");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("## Headline") && md.contains("| toy | linear |"),
        "{md}"
    );
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    config.parse::<toml::Table>().unwrap();
    json(&dir.join("config.json"));
    for png in [
        "toy-linear-pr.png",
        "toy-linear-multipliers.png",
        "fashion-bag-tiny-loss.png",
    ] {
        let bytes = std::fs::read(dir.join("plots").join(png)).unwrap();
        assert!(
            bytes.len() > 5_000 && bytes.starts_with(b"\x89PNG"),
            "{png}"
        );
    }
    // Epoch logs: one JSON object per line.
    for cell in cell_files(&dir) {
        let key = cell.file_stem().unwrap().to_str().unwrap();
        let epochs =
            std::fs::read_to_string(dir.join("epochs").join(format!("{key}.jsonl"))).unwrap();
        assert!(epochs.lines().count() >= 1);
        for l in epochs.lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }
    assert!(
        std::fs::read_to_string(dir.join("log.txt"))
            .unwrap()
            .contains("cell finished")
    );
}

#[test]
fn rerun_resumes_only_the_missing_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().to_str().unwrap();
    let args = [
        "suite",
        "--quick",
        "--quiet",
        "--parts",
        "toy,tabular",
        "--out",
        out,
    ];
    run_ok(&args);
    let dir = run_dir(tmp.path());
    let report = std::fs::read(dir.join("report.json")).unwrap();
    let cells = cell_files(&dir);
    assert!(cells.len() >= 4);
    let before: Vec<_> = cells.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let victim = &cells[1];
    std::fs::remove_file(victim).unwrap();
    let log_len = std::fs::read_to_string(dir.join("log.txt")).unwrap().len();
    run_ok(&args);
    let log = std::fs::read_to_string(dir.join("log.txt")).unwrap();
    let second = &log[log_len..];
    let started: Vec<_> = second
        .lines()
        .filter(|l| l.contains("cell started"))
        .collect();
    assert_eq!(started.len(), 1, "{second}");
    let key = victim.file_stem().unwrap().to_str().unwrap();
    assert!(started[0].contains(key), "{second}");
    // The other cells were not rewritten, the missing one is back with the same
    // metrics, and the report is byte-identical.
    for (p, b) in cells.iter().zip(&before) {
        if p != victim {
            assert_eq!(&std::fs::read(p).unwrap(), b, "{} changed", p.display());
        }
    }
    assert!(victim.is_file());
    assert_eq!(std::fs::read(dir.join("report.json")).unwrap(), report);
    // A third run has nothing to do.
    let log_len = log.len();
    run_ok(&args);
    let log = std::fs::read_to_string(dir.join("log.txt")).unwrap();
    assert!(!log[log_len..].contains("cell started"));
}

#[test]
fn shards_merge_into_the_unsharded_report() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |s: &str| tmp.path().join(s).to_str().unwrap().to_string();
    let base = ["suite", "--quick", "--quiet", "--parts", "toy,tabular"];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run_ok(&refs);
    };
    run(with(&["--run-dir", &p("all")]));
    run(with(&["--run-dir", &p("s1"), "--shard", "1/2"]));
    run(with(&["--run-dir", &p("s2"), "--shard", "2/2"]));
    let n1 = cell_files(&tmp.path().join("s1")).len();
    let n2 = cell_files(&tmp.path().join("s2")).len();
    let all = cell_files(&tmp.path().join("all"));
    assert!(
        n1 > 0 && n2 > 0 && n1 + n2 == all.len(),
        "{n1} + {n2} vs {}",
        all.len()
    );
    run_ok(&["merge", &p("s1"), &p("s2"), "--out", &p("merged")]);
    let merged = cell_files(&tmp.path().join("merged"));
    let names = |v: &[PathBuf]| {
        v.iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&merged), names(&all));
    assert_eq!(
        json(&tmp.path().join("merged/report.json")),
        json(&tmp.path().join("all/report.json"))
    );
    // `report` rebuilds the same report from the stored files.
    let before = std::fs::read(tmp.path().join("all/report.md")).unwrap();
    std::fs::remove_file(tmp.path().join("all/report.md")).unwrap();
    run_ok(&["report", &p("all")]);
    assert_eq!(
        std::fs::read(tmp.path().join("all/report.md")).unwrap(),
        before
    );
}

fn config_error(toml: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("suite.toml");
    std::fs::write(&file, toml).unwrap();
    let out = bin()
        .args([
            "suite",
            "--quiet",
            "--config",
            file.to_str().unwrap(),
            "--out",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const TOY: &str = r#"
name = "bad"
[[experiment]]
name = "toy"
seeds = SEEDS
losses = ["bce", "precision_at_recall"]
recall_targets = [0.98]
data = { kind = "toy" }
models = [{ name = "linear", arch = { kind = "linear" } }]
train = { epochs = 10, learning_rate = 1.0, dual_rate = 15.0 }
"#;

#[test]
fn invalid_configs_name_the_field() {
    let e = config_error(&TOY.replace("SEEDS", "0"));
    assert!(e.contains("seeds") && e.contains("got 0"), "{e}");
    let e = config_error(&TOY.replace("SEEDS", "\"three\""));
    assert!(e.contains("seeds"), "{e}");
    let e = config_error(
        &TOY.replace("SEEDS", "1")
            .replace("recall_targets", "recal_targets"),
    );
    assert!(e.contains("recal_targets"), "{e}");
    let e = config_error(&TOY.replace("SEEDS", "1").replace("[0.98]", "[1.5]"));
    assert!(e.contains("recall_targets") && e.contains("1.5"), "{e}");
    let e = config_error(
        &TOY.replace("SEEDS", "1")
            .replace("\"bce\"", "\"hinge_bce\""),
    );
    assert!(e.contains("hinge_bce"), "{e}");
    let e = config_error(&TOY.replace("SEEDS", "1").replace(
        "kind = \"linear\"",
        "kind = \"unet\", depth = 2, base_channels = 4",
    ));
    assert!(e.contains("models[0].kind"), "{e}");
    // A valid config runs.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("suite.toml");
    std::fs::write(&file, TOY.replace("SEEDS", "1").replace("bad", "good")).unwrap();
    run_ok(&[
        "suite",
        "--quiet",
        "--config",
        file.to_str().unwrap(),
        "--out",
        tmp.path().to_str().unwrap(),
    ]);
}
