//! The "compare samples with…" choice on a run's samples tab: the other
//! runs of the same task that have samples, each opening the per-item
//! comparison of the two runs.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::samples::{self, SampleRun};
use crate::format;
use crate::url_state::samples::SampleDiffView;

/// Names a run in the choice: model, configuration, date and sample count.
fn choice_label(run: &SampleRun) -> String {
    let revision = run
        .revision
        .as_deref()
        .map(|r| format!(" @ {r}"))
        .unwrap_or_default();
    format!(
        "{}{revision} · {} · {} · {} · {} samples",
        run.model,
        format::version(run.version.as_deref()),
        format::n_shot(run.n_shot),
        format::date(&run.effective_at),
        run.samples
    )
}

/// The choice of another run of `task` to compare run `run_id` with.
#[component]
pub fn CompareWith(run_id: String, task: String) -> impl IntoView {
    let runs = {
        let task = task.clone();
        LocalResource::new(move || samples::sample_runs(task.clone()))
    };
    let choice = move || {
        let (run_id, task) = (run_id.clone(), task.clone());
        Suspend::new(async move {
            match runs.await {
                Ok(runs) => {
                    let others: Vec<SampleRun> =
                        runs.into_iter().filter(|r| r.id != run_id).collect();
                    picker(run_id, &task, others)
                }
                Err(error) => view! {
                    <p class="muted">{format!("Other runs could not be listed: {error}")}</p>
                }
                .into_any(),
            }
        })
    };
    view! {
        <div class="panel compare-with" data-test="compare-with">
            <Suspense fallback=|| view! { <p class="muted">"Finding other runs…"</p> }>
                {choice}
            </Suspense>
        </div>
    }
}

fn picker(run_id: String, task: &str, others: Vec<SampleRun>) -> AnyView {
    if others.is_empty() {
        return view! {
            <p class="muted">{format!("No other run of {task} has samples to compare with.")}</p>
        }
        .into_any();
    }
    let navigate = use_navigate();
    let on_change = move |ev: leptos::ev::Event| {
        let second = event_target_value(&ev);
        if second.is_empty() {
            return;
        }
        let diff = SampleDiffView {
            first: run_id.clone(),
            second,
            ..SampleDiffView::default()
        };
        navigate(&diff.href(), Default::default());
    };
    let options = others
        .iter()
        .map(|run| view! { <option value=run.id.clone()>{choice_label(run)}</option> })
        .collect_view();
    view! {
        <form class="controls inline" on:submit=|ev| ev.prevent_default()>
            <div class="field wide">
                <label for="compare-with">
                    {format!("Compare samples with another run of {task}")}
                </label>
                <select id="compare-with" on:change=on_change>
                    <option value="" selected>"Choose a run…"</option>
                    {options}
                </select>
            </div>
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_names_the_model_configuration_and_size() {
        let run = SampleRun {
            id: "r".into(),
            model: "EleutherAI/pythia-160m".into(),
            version: Some("1".into()),
            n_shot: Some(0),
            revision: Some("step1000".into()),
            effective_at: "2024-08-21T03:44:09Z".into(),
            samples: 50,
        };
        assert_eq!(
            choice_label(&run),
            "EleutherAI/pythia-160m @ step1000 · version 1 · 0-shot · 2024-08-21 · 50 samples"
        );
    }
}
