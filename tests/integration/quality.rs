//! Data quality on the real folder (exact counts per rule, and the findings
//! of named files), rules that the real folder does not trigger shown on
//! edited copies, and the quarantine: a rejected file is kept with its error,
//! listed, and resolved when its fixed copy is stored.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use backend::ingest::batch::Outcome;
use backend::service::quality::{self, Rule};
use backend::service::quarantine;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tests::pg;

use super::support::{count, data, graphql, ingest, options, real_postgres};

static COPIES: AtomicUsize = AtomicUsize::new(0);

fn scratch() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "yardstick-quality-{}-{}",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn findings(db: &DatabaseConnection) -> anyhow::Result<Vec<quality::Finding>> {
    quality::check(db, None)
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))
}

#[tokio::test]
async fn the_real_folder_has_exactly_these_findings() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let found = findings(&db).await?;
    let counts: Vec<(&str, usize)> = quality::counts(&found)
        .into_iter()
        .map(|(rule, n)| (rule.code(), n))
        .collect();
    assert_eq!(
        counts,
        [
            ("out_of_range", 0),
            // The polymer run's mae and its stderr; Inspect's log_with_nan.
            ("non_finite", 3),
            ("negative_stderr", 0),
            // Only where another run of the task reports a stderr for the
            // metric: 187 AlpacaEval cells whose board has no standard error
            // column while another board of the task has one. Values whose
            // task never comes with one (101 lm-eval values, 741 HELM
            // single-trial stats, 3,781 MTEB values, the Open LLM tables)
            // are not findings.
            ("missing_stderr", 187),
            ("incomplete_samples", 0),
            // log_streaming.eval ran two epochs; each item once per epoch
            // is no duplicate.
            ("duplicate_samples", 0),
            // 105 lm-eval runs, two Inspect `popularity` runs of one
            // configuration that scored differently, and 276 Open LLM
            // Leaderboard runs whose model another snapshot lists with
            // other numbers.
            ("conflicting_results", 107 + 276),
            ("copied_results", 20),
        ]
    );
    let of = |rule: Rule, suffix: &str| -> Vec<String> {
        found
            .iter()
            .filter(|f| f.rule == rule && f.source_path.ends_with(suffix))
            .map(|f| f.detail.clone())
            .collect()
    };
    // The polymer run's mae is Infinity and its stderr NaN, as the file says.
    assert_eq!(
        of(Rule::NonFinite, "results_2025-06-30T19-40-09.461247.json"),
        [
            "the stderr of `mae,none` is nan",
            "the value of `mae,none` is positive infinity"
        ]
    );
    // LLaMA-7B and -13B scored 0 on every arithmetic task, identically.
    let copied = of(Rule::CopiedResults, "llama-13B_arithmetic_5-shot.json");
    assert_eq!(copied.len(), 10);
    assert!(
        copied[0].ends_with("llama-7B_arithmetic_5-shot.json)"),
        "{copied:?}"
    );

    // The API gives the same per run.
    let run_id = found
        .iter()
        .find(|f| {
            f.rule == Rule::NonFinite
                && f.source_path
                    .ends_with("results_2025-06-30T19-40-09.461247.json")
        })
        .map(|f| f.run_id.to_string())
        .unwrap_or_default();
    let warnings = data(
        &db,
        &format!(r#"{{ run(id: "{run_id}") {{ qualityWarnings {{ rule detail }} }} }}"#),
    )
    .await;
    assert_eq!(
        warnings["run"]["qualityWarnings"],
        json!([
            {"rule": "non_finite", "detail": "the stderr of `mae,none` is nan"},
            {"rule": "non_finite", "detail": "the value of `mae,none` is positive infinity"}
        ])
    );
    let report = data(&db, "{ qualityReport { counts { rule count } } }").await;
    assert_eq!(
        report["qualityReport"]["counts"][6],
        json!({"rule": "conflicting_results", "count": 107 + 276})
    );
    let unknown = graphql(
        &db,
        r#"{ qualityReport { findings(rule: "nope") { rule } } }"#,
    )
    .await;
    assert_eq!(
        unknown["errors"][0]["extensions"],
        json!({"code": "invalid_argument", "field": "rule"})
    );
    Ok(())
}

/// Edits of a real Pythia file and the real asdiv run trigger the rules the
/// real folder does not: out of range, incomplete and duplicate samples.
#[tokio::test]
async fn edited_copies_trigger_the_other_rules() -> anyhow::Result<()> {
    let database = pg::fresh_database().await?;
    let db = backend::db::connect_and_migrate(&database.url).await?;
    let dir = scratch()?;
    let pythia = pg::data_dir().join("pythia-evals-v0.3/pythia-70m/zero-shot/70m_step143000.json");
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&pythia)?)?;
    file["results"]["arc_easy"]["acc"] = json!(1.5);
    file["results"]["arc_easy"]["acc_stderr"] = json!(-0.01);
    std::fs::write(dir.join("pythia-70m-edited.json"), file.to_string())?;

    let asdiv = pg::data_dir()
        .join("lm-eval-harness-v0.4-samples/pr2236-asdiv/meta-llama__Meta-Llama-3-8B-Instruct");
    let results = "results_2024-08-21T03-44-09.494230.json";
    let log = "samples_asdiv_2024-08-21T03-44-09.494230.jsonl";
    std::fs::copy(asdiv.join(results), dir.join(results))?;
    let lines: Vec<String> = std::fs::read_to_string(asdiv.join(log))?
        .lines()
        .map(str::to_string)
        .collect();
    // 47 lines kept of 50, and the first one twice: 48 samples, one repeated.
    let mut edited: Vec<String> = lines[..47].to_vec();
    edited.push(lines[0].clone());
    std::fs::write(dir.join(log), edited.join("\n") + "\n")?;

    let (summary, _) = ingest(&db, std::slice::from_ref(&dir), &options()).await?;
    assert_eq!((summary.rejected, summary.samples), (0, 48));
    let found = findings(&db).await?;
    let details = |rule: Rule| -> Vec<String> {
        found
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.detail.clone())
            .collect()
    };
    assert_eq!(
        details(Rule::OutOfRange),
        ["`acc,none` is 1.5, outside [0, 1]"]
    );
    assert_eq!(
        details(Rule::NegativeStderr),
        ["the stderr of `acc,none` is -0.01, below 0"]
    );
    assert_eq!(
        details(Rule::IncompleteSamples),
        ["48 samples stored, the results claim 50"]
    );
    assert_eq!(
        details(Rule::DuplicateSamples),
        ["1 sample(s) repeat an item already in the run"]
    );
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

#[tokio::test]
async fn rejected_files_wait_in_quarantine_until_fixed() -> anyhow::Result<()> {
    let database = pg::fresh_database().await?;
    let db = backend::db::connect_and_migrate(&database.url).await?;
    let dir = scratch()?;
    let file = dir.join("results_broken.json");
    let real = pg::data_dir().join("pythia-evals-v0.3/pythia-70m/zero-shot/70m_step143000.json");
    let text = std::fs::read_to_string(&real)?;
    // The first acc becomes a string: JSON still, but not a number.
    std::fs::write(
        &file,
        text.replacen("\"acc\": ", "\"acc\": \"high\", \"was\": ", 1),
    )?;

    let (summary, recorder) = ingest(&db, std::slice::from_ref(&file), &options()).await?;
    assert_eq!(summary.rejected, 1);
    assert!(matches!(
        recorder.outcome_of("results_broken.json"),
        Some(Outcome::Rejected(_))
    ));
    let listed = data(
        &db,
        "{ quarantine { totalCount nodes { code location sourcePath resolvedAt } } }",
    )
    .await;
    let entry = &listed["quarantine"]["nodes"][0];
    assert_eq!(listed["quarantine"]["totalCount"], 1);
    assert_eq!(entry["code"], "invalid_field");
    assert_eq!(
        entry["location"],
        r#"$.results["hendrycksTest-global_facts"].acc"#
    );
    assert_eq!(entry["resolvedAt"], Value::Null);

    // Retrying before the fix adds no second entry for the same refusal.
    ingest(&db, std::slice::from_ref(&file), &options()).await?;
    assert_eq!(count(&db, "SELECT count(*) FROM quarantine").await, 1);
    // Changed bytes refused again replace the entry: one stays open.
    std::fs::write(
        &file,
        text.replacen("\"acc\": ", "\"acc\": \"low\", \"was\": ", 1),
    )?;
    ingest(&db, std::slice::from_ref(&file), &options()).await?;
    let open = "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL";
    assert_eq!(count(&db, open).await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM quarantine").await, 2);

    // Fix the file, then retry what is quarantined.
    std::fs::write(&file, text)?;
    let paths: Vec<PathBuf> = quarantine::open_paths(&db, &[])
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?
        .into_iter()
        .map(PathBuf::from)
        .collect();
    assert_eq!(paths.len(), 1);
    let (retried, _) = ingest(&db, &paths, &options()).await?;
    assert_eq!((retried.stored, retried.rejected), (1, 0));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL"
        )
        .await,
        0
    );
    let all = data(
        &db,
        "{ open: quarantine { totalCount } all: quarantine(includeResolved: true) { totalCount } }",
    )
    .await;
    assert_eq!(
        (
            all["open"]["totalCount"].as_i64(),
            all["all"]["totalCount"].as_i64()
        ),
        (Some(0), Some(2))
    );
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
