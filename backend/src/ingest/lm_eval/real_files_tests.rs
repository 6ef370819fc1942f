//! Reads every lm-eval file of the reference data, pins exact values from a
//! few of them, and checks that the HELM, Inspect and MTEB files beside them
//! are skipped rather than misread.
//!
//! The data folder is `YARDSTICK_DATA_DIR`, else `shared/data/real` next to the
//! workspace. A missing folder fails these tests: skipping them silently would
//! hide that the importer was never run against real files.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::{NotLmEval, Outcome, Shape, parse_bytes};
use crate::ingest::parsed::{
    Measured, ModelRef, ModelSource, Number, ParsedFile, ParsedResult, ParsedRun, SourceFormat,
};
use crate::ingest::real_data;

fn data_dir() -> PathBuf {
    real_data::folder("")
}

fn outcome(path: &Path) -> Outcome {
    let bytes = std::fs::read(path).unwrap_or_else(|error| {
        panic!("cannot read `{}`: {error}", path.display());
    });
    parse_bytes(&bytes).unwrap_or_else(|error| panic!("`{}`: {error}", path.display()))
}

/// Reads the file at the path made of `segments`, inside the data folder.
fn read(segments: &[&str]) -> (Shape, ParsedFile) {
    let path = segments
        .iter()
        .fold(data_dir(), |path, segment| path.join(segment));
    match outcome(&path) {
        Outcome::Results { shape, file } => (shape, file),
        Outcome::NotLmEval(reason) => {
            panic!("`{}` skipped: {}", path.display(), reason.reason())
        }
    }
}

/// Returns the only run of `task`; a second one would mean a duplicated group.
fn run<'a>(file: &'a ParsedFile, task: &str) -> &'a ParsedRun {
    let mut runs = file.runs.iter().filter(|run| run.task == task);
    let found = runs.next().unwrap_or_else(|| panic!("no run for `{task}`"));
    assert!(runs.next().is_none(), "`{task}` is read more than once");
    found
}

fn result<'a>(run: &'a ParsedRun, metric: &str, filter: &str) -> &'a ParsedResult {
    run.results
        .iter()
        .find(|result| result.metric == metric && result.filter == filter)
        .unwrap_or_else(|| panic!("no `{metric},{filter}` in `{}`", run.task))
}

fn finite(value: f64) -> Measured {
    Measured::Present(Number::Finite(value))
}

fn hub(name: &str, revision: Option<&str>) -> Option<ModelRef> {
    Some(ModelRef {
        source: ModelSource::Hub(name.to_owned()),
        revision: revision.map(str::to_owned),
    })
}

fn local(path: &str) -> Option<ModelRef> {
    Some(ModelRef {
        source: ModelSource::LocalPath(path.to_owned()),
        revision: None,
    })
}

/// Lists the files under `folder` whose extension is one of `extensions`, sorted.
fn files(folder: &str, extensions: &[&str]) -> Vec<PathBuf> {
    let root = data_dir().join(folder);
    assert!(
        root.is_dir(),
        "reference data folder `{}` is missing",
        root.display()
    );
    let mut found: Vec<PathBuf> = WalkDir::new(&root)
        .into_iter()
        .map(|entry| entry.unwrap_or_else(|error| panic!("cannot walk `{folder}`: {error}")))
        .filter(|entry| entry.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|path| {
            let extension = path.extension().and_then(|extension| extension.to_str());
            extension.is_some_and(|extension| extensions.contains(&extension))
        })
        .collect();
    found.sort();
    found
}

/// Counts results files, summaries and bare maps among the JSON files of a
/// folder; a file that fails, is skipped or holds no run fails the test.
fn shapes(folder: &str) -> [usize; 3] {
    let mut counts = [0; 3];
    for path in files(folder, &["json"]) {
        let Outcome::Results { shape, file } = outcome(&path) else {
            panic!("`{}` was not read as lm-eval", path.display());
        };
        assert!(!file.runs.is_empty(), "`{}` has no runs", path.display());
        assert!(
            file.model.is_some() || shape == Shape::BareResults,
            "`{}` has no model",
            path.display()
        );
        let slot = match shape {
            Shape::ResultsFile => 0,
            Shape::Summary => 1,
            Shape::BareResults => 2,
        };
        counts[slot] += 1;
    }
    counts
}

#[test]
fn every_lm_eval_file_is_read() {
    assert_eq!(shapes("lm-eval-harness-v0.3-results"), [166, 0, 0]);
    assert_eq!(shapes("pythia-evals-v0.3"), [58, 0, 0]);
    assert_eq!(shapes("lm-eval-harness-v0.4-pr2809"), [80, 5, 2]);
    assert_eq!(shapes("lm-eval-harness-v0.4-samples"), [5, 0, 0]);
    assert_eq!(
        shapes("lm-eval-harness-v0.4-leaderboard-v2-tasks"),
        [2, 0, 0]
    );
}

#[test]
fn other_formats_beside_lm_eval_files_are_skipped() {
    let folders = [
        "helm-safety-v3-bbq",
        "inspect-ai-logs",
        "mteb-results",
        "opencompass-subjective-corev2",
    ];
    let mut checked = 0;
    for folder in folders {
        for path in files(folder, &["json", "txt"]) {
            let Outcome::NotLmEval(reason) = outcome(&path) else {
                panic!("`{}` was read as lm-eval", path.display());
            };
            if let Some(expected) = expected_reason(folder, &path) {
                assert_eq!(reason, expected, "`{}`", path.display());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 179);
}

/// Returns the reason a file must be skipped with, where it is certain.
fn expected_reason(folder: &str, path: &Path) -> Option<NotLmEval> {
    let name = path.file_name().and_then(|name| name.to_str())?;
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())?;
    match folder {
        "inspect-ai-logs" => Some(NotLmEval::InspectLog),
        "mteb-results" if name == "model_meta.json" => Some(NotLmEval::MtebModelMeta),
        "mteb-results" => Some(NotLmEval::MtebResult),
        "helm-safety-v3-bbq" if parent.starts_with("bbq:") => Some(NotLmEval::HelmRun),
        _ => None,
    }
}

#[test]
fn v03_llama_is_a_local_path_and_mc_taco_has_no_stderr() {
    let (_, file) = read(&[
        "lm-eval-harness-v0.3-results",
        "llama/llama-7B",
        "llama-7B_common_sense_reasoning_0-shot.json",
    ]);
    assert_eq!(file.format, Some(SourceFormat::LmEvalV03));
    assert_eq!(file.harness_version.as_deref(), Some("0.3"));
    assert_eq!(
        file.model,
        local("/gaueko1/hizkuntza-ereduak/LLaMA/lm/huggingface/7B")
    );
    let mc_taco = run(&file, "mc_taco");
    assert_eq!(
        (mc_taco.task_version.as_deref(), mc_taco.n_shot),
        (Some("0"), Some(0))
    );
    let em = result(mc_taco, "em", "none");
    assert_eq!(
        (em.value, em.stderr),
        (finite(0.11261261261261261), Measured::Missing)
    );
    let f1 = result(mc_taco, "f1", "none");
    assert_eq!(
        (f1.value, f1.stderr),
        (finite(0.4827075067316446), Measured::Missing)
    );
    assert_eq!(f1.higher_is_better, None);
}

#[test]
fn v03_opt_is_named_by_model_args_not_by_the_gpt2_loader() {
    let (_, file) = read(&[
        "lm-eval-harness-v0.3-results",
        "opt/opt-125m",
        "opt-125m.json",
    ]);
    assert_eq!(file.model, hub("facebook/opt-125m", None));
    let lambada = run(&file, "lambada_openai");
    let ppl = result(lambada, "ppl", "none");
    assert_eq!(
        (ppl.value, ppl.stderr),
        (finite(26.02103896885129), finite(0.9418773107503278))
    );
}

#[test]
fn v03_bloom_gsm8k_keeps_each_files_n_shot() {
    let folder = "lm-eval-harness-v0.3-results/bloom/bloom-560m";
    let (_, eight) = read(&[folder, "bloom-560m_gsm8k_8-shot.json"]);
    let (_, five) = read(&[
        folder,
        "bloom-560m_mathematical_reasoning_few_shot_5-shot.json",
    ]);
    let eight = run(&eight, "gsm8k");
    assert_eq!(eight.n_shot, Some(8));
    assert_eq!(
        result(eight, "acc", "none").value,
        finite(0.00530705079605762)
    );
    let five = run(&five, "gsm8k");
    assert_eq!(five.n_shot, Some(5));
    assert_eq!(result(five, "acc", "none").value, finite(0.0));
}

#[test]
fn pythia_checkpoints_carry_their_revision() {
    let (_, file) = read(&[
        "pythia-evals-v0.3",
        "pythia-160m/zero-shot",
        "160m_step3000.json",
    ]);
    assert_eq!(
        file.model,
        hub("EleutherAI/pythia-v1.1-160m", Some("step3000"))
    );
    let arc = result(run(&file, "arc_easy"), "acc", "none");
    assert_eq!(
        (arc.value, arc.stderr),
        (finite(0.3926767676767677), finite(0.010020646555538687))
    );

    // Here `use_accelerate=True` comes before `pretrained=`.
    let (_, file) = read(&[
        "pythia-evals-v0.3",
        "pythia-160m/zero-shot",
        "160m_step0.json",
    ]);
    assert_eq!(
        file.model,
        hub("EleutherAI/pythia-v1.1-160m", Some("step0"))
    );
    assert_eq!(
        result(run(&file, "piqa"), "acc", "none").value,
        finite(0.5244831338411317)
    );

    let (_, file) = read(&[
        "pythia-evals-v0.3",
        "pythia-1.4b/five-shot",
        "1.4b-5shot_step143000.json",
    ]);
    assert_eq!(
        file.model,
        hub("EleutherAI/pythia-v1.1-1.4b", Some("step143000"))
    );
    let arc = run(&file, "arc_challenge");
    assert_eq!(arc.n_shot, Some(5));
    assert_eq!(
        result(arc, "acc_norm", "none").value,
        finite(0.32849829351535836)
    );
}

#[test]
fn v04_mmlu_group_is_read_once_with_its_subtasks() {
    let (shape, file) = read(&[
        "lm-eval-harness-v0.4-pr2809",
        "results/Qwen__Qwen2.5-3B",
        "results_2025-03-03T00-58-03.320716.json",
    ]);
    assert_eq!(
        (shape, file.format),
        (Shape::ResultsFile, Some(SourceFormat::LmEvalV04))
    );
    assert_eq!(file.model, hub("Qwen/Qwen2.5-3B", None));
    assert_eq!(file.runs.len(), 78);
    assert_eq!(file.harness_version, None);
    assert_eq!(file.harness_commit.as_deref(), Some("93ef6ca"));
    let millis = file.evaluated_at.map(|at| at.timestamp_millis());
    assert_eq!(millis, Some(1_740_962_652_174));
    assert_eq!(file.duration_seconds, Some(842.6999094970524));

    let mmlu = run(&file, "mmlu");
    let subtasks = [
        "mmlu_stem",
        "mmlu_other",
        "mmlu_social_sciences",
        "mmlu_humanities",
    ];
    assert_eq!(mmlu.subtasks, subtasks);
    assert_eq!(
        (mmlu.task_version.as_deref(), mmlu.n_shot),
        (Some("2"), None)
    );
    assert_eq!(
        (mmlu.samples_original, mmlu.samples_effective),
        (None, None)
    );
    let acc = result(mmlu, "acc", "none");
    assert_eq!(
        (acc.value, acc.stderr),
        (finite(0.6504059250818972), finite(0.0037790187864517643))
    );
    assert_eq!(acc.higher_is_better, Some(true));

    let logic = run(&file, "mmlu_formal_logic");
    assert_eq!(
        (logic.task_version.as_deref(), logic.n_shot),
        (Some("1"), Some(0))
    );
    assert_eq!(
        (logic.samples_original, logic.samples_effective),
        (Some(126), Some(126))
    );
    assert!(logic.subtasks.is_empty());
    assert_eq!(
        result(logic, "acc", "none").value,
        finite(0.49206349206349204)
    );
    let config = logic
        .task_config
        .as_ref()
        .and_then(|config| config.get("task"));
    assert_eq!(
        config.and_then(|task| task.as_str()),
        Some("mmlu_formal_logic")
    );
}

#[test]
fn polymer_mae_is_infinite_with_a_nan_stderr() {
    let (_, file) = read(&[
        "lm-eval-harness-v0.4-samples",
        "pr3144-polymer/tgpred.json/gpt-4o-mini",
        "results_2025-06-30T19-40-09.461247.json",
    ]);
    assert_eq!(file.model, hub("gpt-4o-mini", None));
    assert_eq!(file.harness_version.as_deref(), Some("0.4.8"));
    assert_eq!(file.harness_commit.as_deref(), Some("cffb9ad0"));
    assert_eq!(file.duration_seconds, Some(13.477185819298029));
    let millis = file.evaluated_at.map(|at| at.timestamp_millis());
    assert_eq!(millis, Some(1_751_326_796_890));
    let polymer = run(&file, "polymer_tg_prediction");
    assert_eq!(polymer.task_version.as_deref(), Some("Yaml"));
    assert_eq!((polymer.n_shot, polymer.limit), (Some(0), Some(200.0)));
    assert_eq!(
        (polymer.samples_original, polymer.samples_effective),
        (Some(24), Some(24))
    );
    let mae = result(polymer, "mae", "none");
    let expected = (
        Measured::Present(Number::PositiveInfinity),
        Measured::Present(Number::NaN),
        Some(false),
    );
    assert_eq!((mae.value, mae.stderr, mae.higher_is_better), expected);
}

#[test]
fn asdiv_records_its_limit_and_truncated_sample_count() {
    let (_, file) = read(&[
        "lm-eval-harness-v0.4-samples",
        "pr2236-asdiv/meta-llama__Meta-Llama-3-8B-Instruct",
        "results_2024-08-21T03-44-09.494230.json",
    ]);
    assert_eq!(file.model, hub("meta-llama/Meta-Llama-3-8B-Instruct", None));
    let asdiv = run(&file, "asdiv");
    assert_eq!((asdiv.n_shot, asdiv.limit), (Some(8), Some(50.0)));
    assert_eq!(
        (asdiv.samples_original, asdiv.samples_effective),
        (Some(2305), Some(50))
    );
    let acc = result(asdiv, "acc", "none");
    assert_eq!(
        (acc.value, acc.stderr),
        (finite(0.92), finite(0.0387561713321444))
    );
}

#[test]
fn leaderboard_v2_groups_have_not_available_stderrs() {
    let (_, file) = read(&[
        "lm-eval-harness-v0.4-leaderboard-v2-tasks",
        "evaluations/Qwen3-8B_2025-10-09_150315",
        "results.json",
    ]);
    assert_eq!(file.model, hub("Qwen/Qwen3-8B", None));
    assert_eq!(file.harness_version.as_deref(), Some("0.4.9.1"));
    assert_eq!(file.runs.len(), 44);
    let top = run(&file, "leaderboard");
    assert_eq!(top.subtasks.len(), 6);
    assert_eq!((top.task_version.as_deref(), top.n_shot), (Some("1"), None));
    let bbh = run(&file, "leaderboard_bbh");
    assert_eq!(bbh.subtasks.len(), 24);
    assert_eq!(bbh.subtasks[0], "leaderboard_bbh_boolean_expressions");
    assert_eq!((bbh.task_version.as_deref(), bbh.limit), (None, Some(1.0)));
    let acc_norm = result(bbh, "acc_norm", "none");
    let expected = (
        finite(0.5833333333333334),
        Measured::NotAvailable,
        Some(true),
    );
    assert_eq!(
        (acc_norm.value, acc_norm.stderr, acc_norm.higher_is_better),
        expected
    );
    let ifeval = run(&file, "leaderboard_ifeval");
    assert_eq!(
        (ifeval.samples_original, ifeval.samples_effective),
        (Some(541), Some(1))
    );
    let strict = result(ifeval, "inst_level_strict_acc", "none");
    assert_eq!(
        (strict.value, strict.stderr),
        (finite(0.3333333333333333), Measured::NotAvailable)
    );
}

#[test]
fn leaderboard_v2_without_model_name_uses_model_args() {
    let (_, file) = read(&[
        "lm-eval-harness-v0.4-leaderboard-v2-tasks",
        "results",
        concat!(
            "results_Qwen2.5-7B-Instruct_hf_leaderboard_bbh_",
            "boolean_expressions_l..._20250401_081149.json"
        ),
    ]);
    assert_eq!(file.model, hub("Qwen/Qwen2.5-7B-Instruct", None));
    let mmlu_pro = run(&file, "leaderboard_mmlu_pro");
    assert_eq!(
        (mmlu_pro.task_version.as_deref(), mmlu_pro.n_shot),
        (Some("0.1"), Some(5))
    );
    assert_eq!(
        result(mmlu_pro, "acc", "none").stderr,
        Measured::NotAvailable
    );
}

#[test]
fn versions_written_as_float_and_int_read_alike() {
    let (_, v04) = read(&[
        "lm-eval-harness-v0.4-samples",
        "pr3032-truthfulqa",
        "results_gpt2.json",
    ]);
    assert_eq!(v04.model, hub("gpt2", None));
    assert_eq!(
        run(&v04, "tmmluplus_dentistry").task_version.as_deref(),
        Some("2")
    );
    let (_, v03) = read(&[
        "pythia-evals-v0.3",
        "pythia-70m/zero-shot",
        "70m_step143000.json",
    ]);
    assert_eq!(run(&v03, "arc_easy").task_version.as_deref(), Some("0"));
}

#[test]
fn local_checkpoint_in_model_name_is_a_local_path() {
    let (_, file) = read(&[
        "lm-eval-harness-v0.4-pr2809",
        "results/RWKV-block__rwkv7-1.5B-world-fla",
        "results_2025-02-25T19-55-56.987927.json",
    ]);
    assert_eq!(
        file.model,
        local("/workspace/RWKV-block/test/v7_goose/.hf_build/v7-1B5-world/")
    );
    let lambada = run(&file, "lambada_openai");
    let perplexity = result(lambada, "perplexity", "none");
    assert_eq!(perplexity.value, finite(4.256701720453929));
}

#[test]
fn hand_saved_summary_keeps_model_n_shot_and_alias_hierarchy() {
    let (shape, file) = read(&[
        "lm-eval-harness-v0.4-pr2809",
        "results-0.4.3/VisualRWKV__rwkv7-pile",
        "results-2025-03-06-T9-18-05.json",
    ]);
    assert_eq!(shape, Shape::Summary);
    assert_eq!(
        file.model,
        local("/workspace/RWKV-x070-Pile-1.47B-20241210-ctx4096")
    );
    assert_eq!(file.runs.len(), 62);
    let mmlu = run(&file, "mmlu");
    let subtasks = [
        "mmlu_humanities",
        "mmlu_other",
        "mmlu_social_sciences",
        "mmlu_stem",
    ];
    assert_eq!(
        (mmlu.subtasks.as_slice(), mmlu.n_shot),
        (&subtasks.map(String::from)[..], Some(5))
    );
    let acc = result(mmlu, "acc", "none");
    assert_eq!(
        (acc.value, acc.stderr),
        (finite(0.2528129896026207), finite(0.003662413587625758))
    );
    let humanities = run(&file, "mmlu_humanities");
    assert_eq!(
        humanities.subtasks.first().map(String::as_str),
        Some("mmlu_formal_logic")
    );
    let logic = result(run(&file, "mmlu_formal_logic"), "acc", "none");
    assert_eq!(logic.value, finite(0.21428571428571427));
}

#[test]
fn bare_glue_map_has_runs_but_no_model() {
    let (shape, file) = read(&[
        "lm-eval-harness-v0.4-pr2809",
        "results-0.4.3/VisualRWKV__rwkv7-pile",
        "results_2025-03-04T10-35-04.json",
    ]);
    assert_eq!((shape, file.model.as_ref()), (Shape::BareResults, None));
    let glue = run(&file, "glue");
    let members = [
        "cola",
        "mnli",
        "mnli_mismatch",
        "mrpc",
        "qnli",
        "qqp",
        "rte",
        "sst2",
        "wnli",
    ];
    assert_eq!(glue.subtasks, members);
    let mcc = result(glue, "mcc", "none");
    assert_eq!(
        (mcc.value, mcc.stderr),
        (finite(-0.0035622805992487597), finite(0.030901804261871967))
    );
    assert_eq!(
        result(run(&file, "rte"), "acc", "none").value,
        finite(0.5776173285198556)
    );
}
