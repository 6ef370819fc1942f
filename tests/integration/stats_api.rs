//! Uncertainty in the API: `n`, `ci95` and `rankInterval` on the real data,
//! pinned to the numbers in the source files.

use serde_json::{Value, json};

use crate::support::{data, real_postgres};

const Z_95: f64 = 1.959963984540054;

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

fn assert_close(actual: &Value, expected: f64) {
    let actual = number(actual);
    assert!(
        (actual - expected).abs() <= 1e-9,
        "{actual} differs from {expected}"
    );
}

#[tokio::test]
async fn leaderboard_entries_carry_intervals() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let query = r#"{ leaderboard(task: "arc_easy", metric: "acc") {
      entries { rank rankInterval { best worst } value stderr n
        ci95 { low high } model { name } } } }"#;
    let entries = data(&db, query).await["leaderboard"]["entries"].clone();

    let top = &entries[0];
    assert_eq!(top["model"]["name"], "huggyllama/llama-30b");
    assert_eq!(top["value"], 0.7533670033670034);
    assert_eq!(top["stderr"], 0.008844984581934908);
    let (value, stderr) = (number(&top["value"]), number(&top["stderr"]));
    assert_close(&top["ci95"]["low"], value - Z_95 * stderr);
    assert_close(&top["ci95"]["high"], value + Z_95 * stderr);
    // 0.7533670033670034 ∓ 1.959963984540054 × 0.008844984581934908.
    assert_close(&top["ci95"]["low"], 0.7360311521425988);
    assert_close(&top["ci95"]["high"], 0.7707028545914079);
    // v0.3 files record no sample counts.
    assert_eq!(top["n"], Value::Null);

    // The top three overlap one another; facebook/opt-66b (4th) lies
    // entirely below llama-30b but overlaps mpt-7b and llama-13b.
    let ranks: Vec<_> = entries
        .as_array()
        .map(|all| all.iter().take(4).map(|e| e["rankInterval"].clone()))
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(
        ranks,
        vec![
            json!({"best": 1, "worst": 3}),
            json!({"best": 1, "worst": 4}),
            json!({"best": 1, "worst": 4}),
            json!({"best": 2, "worst": 8}),
        ]
    );
    assert_eq!(entries[3]["model"]["name"], "facebook/opt-66b");

    Ok(())
}

#[tokio::test]
async fn rank_intervals_always_contain_the_rank() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let query = r#"{ leaderboard(task: "arc_easy", metric: "acc") {
      entries { rank rankInterval { best worst } } } }"#;
    let entries = data(&db, query).await["leaderboard"]["entries"].clone();
    let entries = entries.as_array().cloned().unwrap_or_default();
    assert!(entries.len() > 10, "{entries:?}");
    for entry in &entries {
        let rank = &entry["rank"];
        let interval = &entry["rankInterval"];
        if rank.is_null() {
            assert_eq!(interval, &Value::Null);
            continue;
        }
        let (best, worst) = (&interval["best"], &interval["worst"]);
        assert!(number(best) <= number(rank) && number(rank) <= number(worst));
    }

    Ok(())
}

#[tokio::test]
async fn v04_results_carry_their_sample_count() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    // The file's `n-samples` says arc_challenge: original 1172, effective 1172.
    let query = r#"{
      runs(where: {model: "Qwen/Qwen2.5-3B", task: "arc_challenge"}) {
        edges { node { results { metric { name } n ci95 { low high } } } } }
      leaderboard(task: "arc_challenge", metric: "acc",
        where: {model: "Qwen/Qwen2.5-3B"}) {
        configuration { taskVersion nShot } entries { model { name } n } } }"#;
    let data = data(&db, query).await;

    let results = &data["runs"]["edges"][0]["node"]["results"];
    let acc = &results[0];
    assert_eq!(acc["metric"]["name"], "acc");
    assert_eq!(acc["n"], 1172);
    // 0.447098976109215 ∓ 1.959963984540054 × 0.014529380160526842.
    assert_close(&acc["ci95"]["low"], 0.4186219142768916);
    assert_close(&acc["ci95"]["high"], 0.4755760379415384);
    let entries = data["leaderboard"]["entries"].as_array().cloned();
    let qwen = entries
        .unwrap_or_default()
        .into_iter()
        .find(|entry| entry["model"]["name"] == "Qwen/Qwen2.5-3B");
    assert_eq!(
        qwen.map(|entry| entry["n"].clone()),
        Some(json!(1172)),
        "{}",
        data["leaderboard"]
    );

    Ok(())
}
