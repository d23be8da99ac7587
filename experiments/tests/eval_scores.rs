//! `experiments eval-scores`: runs the built binary on temporary CSV files.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value as Json;

fn run(file: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_experiments"))
        .arg("eval-scores")
        .arg(file)
        .args(extra)
        .output()
        .expect("the experiments binary should start")
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("temp file should be writable");
    path
}

fn json_of(out: &Output) -> Json {
    assert!(
        out.status.success(),
        "eval-scores failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout should be JSON")
}

fn close(v: &Json, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-12)
}

const ROWS: &str = "0.9,1\n0.8,0\n0.7,1\n0.3,0\n0.2,1\n";

#[test]
fn good_file_gives_metrics_and_operating_points() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "scores.csv", ROWS);
    let j = json_of(&run(
        &path,
        &[
            "--at-recall",
            "0.5",
            "--at-recall",
            "1",
            "--at-precision",
            "0.9",
        ],
    ));
    assert_eq!(j["n"], 5);
    assert_eq!(j["positives"], 3);
    assert_eq!(j["negatives"], 2);
    // Pairs (pos > neg): 0.9 beats both, 0.7 beats 0.3 → 3 of 6.
    assert!(close(&j["roc_auc"], 0.5));
    // Positives at ranks 1, 3, 5: (1 + 2/3 + 3/5) / 3.
    assert!(close(
        &j["average_precision"],
        (1.0 + 2.0 / 3.0 + 0.6) / 3.0
    ));
    let p = &j["precision_at_recall"];
    assert!(close(&p[0]["target"], 0.5) && close(&p[0]["value"], 2.0 / 3.0));
    assert!(close(&p[0]["threshold"], 0.7) && p[0]["feasible"] == true);
    assert!(close(&p[1]["value"], 0.6) && close(&p[1]["threshold"], 0.2));
    let r = &j["recall_at_precision"][0];
    assert!(close(&r["value"], 1.0 / 3.0) && close(&r["threshold"], 0.9));
}

#[test]
fn header_is_optional() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(&dir, "plain.csv", ROWS);
    let header = write(&dir, "header.csv", &format!("score,label\n{ROWS}"));
    let a = json_of(&run(&plain, &["--at-recall", "0.5"]));
    let b = json_of(&run(&header, &["--at-recall", "0.5"]));
    assert_eq!(a["n"], 5);
    assert_eq!(a["roc_auc"], b["roc_auc"]);
    assert_eq!(a["precision_at_recall"], b["precision_at_recall"]);
}

#[test]
fn weights_scale_counts_and_zero_means_absent() {
    let dir = tempfile::tempdir().unwrap();
    // The 0.8 negative has weight 0: it vanishes, and the 0.9 positive counts twice.
    let path = write(
        &dir,
        "w.csv",
        "score,label,weight\n0.9,1,2\n0.8,0,0\n0.7,1,1\n0.3,0,1\n0.2,1,1\n",
    );
    let j = json_of(&run(&path, &["--at-precision", "1"]));
    assert_eq!(j["n"], 5);
    assert!(close(&j["positive_weight"], 4.0) && close(&j["negative_weight"], 1.0));
    // Positive weight above the only negative: 3 of 4.
    assert!(close(&j["roc_auc"], 0.75));
    let r = &j["recall_at_precision"][0];
    assert!(close(&r["value"], 0.75) && close(&r["threshold"], 0.7));
}

#[test]
fn logits_must_be_declared() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "logits.csv", "2.5,1\n-1,0\n0.3,1\n");
    let out = run(&path, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":1:") && err.contains("2.5"), "{err}");
    let j = json_of(&run(&path, &["--scores", "logits"]));
    assert_eq!(j["scores"], "logits");
    assert!(close(&j["roc_auc"], 1.0));
}

#[test]
fn bad_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for (text, line, what) in [
        ("score,label\n0.9,1\n0.8,x\n", 3, "label"),
        ("0.9,1\n0.8,0\n0.5,2\n", 3, "label 2"),
        ("0.9,1\nnan,0\n", 2, "NaN"),
        ("0.9,1,1\n0.8,0,-1\n", 2, "weight -1"),
        ("0.9,1\n0.8,0,1\n", 2, "columns"),
    ] {
        let path = write(&dir, "bad.csv", text);
        let out = run(&path, &[]);
        assert!(!out.status.success(), "{text:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("bad.csv:{line}:")) && err.contains(what),
            "{text:?}: {err}"
        );
    }
}

#[test]
fn single_class_reports_undefined_not_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "neg.csv", "0.9,0\n0.1,0\n");
    let j = json_of(&run(&path, &["--at-recall", "0.5"]));
    assert!(j["roc_auc"].is_null());
    assert_eq!(j["roc_auc_undefined"], "no_positives");
    assert_eq!(j["precision_at_recall"][0]["undefined"], "no_positives");
    assert_eq!(j["precision_at_recall"][0]["feasible"], false);
}

#[test]
fn infinite_logit_threshold_is_not_printed_as_null() {
    // The best R@P(1) threshold is the +∞ logit; JSON has no ∞, and `null` would read
    // as "no threshold" next to `feasible: true`.
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "inf.csv", "inf,1\n0.1,0\n-inf,1\n");
    let out = json_of(&run(
        &file,
        &[
            "--scores",
            "logits",
            "--at-precision",
            "1",
            "--at-recall",
            "1",
        ],
    ));
    let p = &out["recall_at_precision"][0];
    assert_eq!(p["feasible"], true);
    assert_eq!(p["threshold"], "inf");
    assert!(close(&p["value"], 0.5));
    // Recall 1 needs the −∞ positive: threshold −∞, precision 2/3.
    let p = &out["precision_at_recall"][0];
    assert_eq!(p["threshold"], "-inf");
    assert!(close(&p["value"], 2.0 / 3.0));
}

#[test]
fn malformed_first_row_is_an_error_not_a_header() {
    // Only a row with no numeric field is a header; `x,1` is a damaged data row.
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "bad.csv", &format!("0.9x,1\n{ROWS}"));
    let out = run(&file, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:1") && err.contains("0.9x"), "{err}");
    // A real header still works, also with a weight column.
    let file = write(&dir, "h.csv", "score,label,weight\n0.9,1,1\n0.1,0,2\n");
    assert_eq!(json_of(&run(&file, &[]))["n"], 2);
}

#[test]
fn empty_file_says_it_has_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("empty.csv", ""), ("header.csv", "score,label\n\n")] {
        let out = run(&write(&dir, name, text), &[]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no data rows"), "{err}");
    }
    // Rows that all weigh 0 are a different message.
    let out = run(&write(&dir, "w0.csv", "0.2,0,0\n0.4,1,0\n"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("every weight is 0"), "{err}");
}

#[test]
fn line_numbers_count_blank_lines_and_crlf() {
    // The csv crate's own line count skips blank lines (and CRLF lines entirely).
    let dir = tempfile::tempdir().unwrap();
    for (name, text, line) in [
        ("lf.csv", "0.9,1\n\n\n0.2,x\n", 4),
        ("crlf.csv", "0.9,1\r\n\r\n\r\n0.2,x\r\n", 4),
        ("crlf2.csv", "score,label\r\n0.9,1\r\n0.1,0\r\n0.2,x\r\n", 4),
        ("header.csv", "score,label\n\n0.9,1\n0.2,x\n", 4),
        ("quoted.csv", "0.9,1\n\"0.5\n\",1\n\n0.2,x\n", 5),
        ("spaces.csv", "0.9,1\n   \n0.2,x\n", 3),
    ] {
        let out = run(&write(&dir, name, text), &[]);
        assert!(!out.status.success(), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{name}:{line}: ")), "{name}: {err}");
    }
}
