//! The GraphQL types of composite rankings: models ranked across a set of
//! tasks on one metric.

use async_graphql::{Enum, Object, Result, SimpleObject};

use super::connection::{list_complexity, list_take};
use super::types::{Configuration, Metric, Model};
use crate::service::composite::{self, Order};

/// Which statistic orders a composite ranking.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompositeOrder {
    /// The mean of the metric's values, best first by the metric's direction.
    MeanScore,
    /// The mean of the per-task leaderboard ranks, smallest first.
    MeanRank,
    /// The mean of per-task values rescaled so each task's best is 1 and its
    /// worst 0.
    NormalizedMean,
    /// The mean over tasks of the share of other models beaten on that task
    /// (a tie counts half), as HELM's "mean win rate".
    WinRate,
}

impl From<CompositeOrder> for Order {
    fn from(order: CompositeOrder) -> Self {
        match order {
            CompositeOrder::MeanScore => Self::MeanScore,
            CompositeOrder::MeanRank => Self::MeanRank,
            CompositeOrder::NormalizedMean => Self::NormalizedMean,
            CompositeOrder::WinRate => Self::WinRate,
        }
    }
}

impl From<Order> for CompositeOrder {
    fn from(order: Order) -> Self {
        match order {
            Order::MeanScore => Self::MeanScore,
            Order::MeanRank => Self::MeanRank,
            Order::NormalizedMean => Self::NormalizedMean,
            Order::WinRate => Self::WinRate,
        }
    }
}

/// One task of a composite and the leaderboard configuration it contributes.
#[derive(SimpleObject)]
pub struct CompositeTask {
    pub name: String,
    /// The configuration with the most models; `null` when the task has no
    /// comparable run with a value of this metric.
    pub configuration: Option<Configuration>,
}

/// Models ranked across a set of tasks.
pub struct CompositeRanking(pub composite::Composite);

#[Object]
impl CompositeRanking {
    async fn metric(&self) -> Metric {
        Metric(self.0.metric.clone())
    }

    async fn order_by(&self) -> CompositeOrder {
        self.0.order.into()
    }

    /// The tasks, in the order asked, each with the configuration used.
    async fn tasks(&self) -> Vec<CompositeTask> {
        self.0
            .tasks
            .iter()
            .map(|task| CompositeTask {
                name: task.name.clone(),
                configuration: task.configuration.clone().map(Configuration::from),
            })
            .collect()
    }

    /// False when the metric has no known direction; `unrankedReason` says why.
    async fn ranked(&self) -> bool {
        self.0.unranked_reason.is_none()
    }

    async fn unranked_reason(&self) -> Option<&str> {
        self.0.unranked_reason.as_deref()
    }

    /// Models with a value on every task first, ranked by `orderBy`; then
    /// models that miss a task, unranked, by the same statistic. `first`
    /// keeps the leading entries.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn entries(&self, first: Option<i32>) -> Result<Vec<CompositeEntry>> {
        let take = list_take(first)?;
        Ok(self
            .0
            .standings
            .iter()
            .take(take)
            .filter_map(|standing| {
                let model = self.0.models.get(&standing.model_id)?.clone();
                Some(CompositeEntry {
                    standing: standing.clone(),
                    model,
                })
            })
            .collect())
    }
}

/// One model's place in a composite ranking.
pub struct CompositeEntry {
    standing: composite::Standing,
    model: entity::ml_model::Model,
}

#[Object]
impl CompositeEntry {
    /// 1-based; tied statistics share a rank. `null` for a model that misses
    /// a task, or when the metric has no direction.
    async fn rank(&self) -> Option<u64> {
        self.standing.rank.map(|rank| rank as u64)
    }

    async fn model(&self) -> Model {
        Model(self.model.clone())
    }

    /// How many tasks of the set have a value for this model.
    async fn tasks_covered(&self) -> u64 {
        self.standing.tasks_covered as u64
    }

    /// How many tasks of the set have no value for this model.
    async fn tasks_missing(&self) -> u64 {
        self.standing.missing_tasks.len() as u64
    }

    /// The tasks without a value for this model, in the order asked.
    async fn missing_tasks(&self) -> &[String] {
        &self.standing.missing_tasks
    }

    /// The mean of the metric over the covered tasks, in the metric's unit.
    async fn mean_score(&self) -> Option<f64> {
        self.standing.mean_score
    }

    /// The mean of the model's leaderboard ranks over the covered tasks;
    /// `null` when the metric has no direction.
    async fn mean_rank(&self) -> Option<f64> {
        self.standing.mean_rank
    }

    /// The mean over covered tasks of the value rescaled to 0 (the task's
    /// worst) .. 1 (its best); `null` when the metric has no direction.
    async fn normalized_mean(&self) -> Option<f64> {
        self.standing.normalized_mean
    }

    /// The mean over covered tasks with another model of the share of other
    /// models beaten (ties count half), from 0 to 1; `null` when no covered
    /// task has another model or the metric has no direction.
    async fn win_rate(&self) -> Option<f64> {
        self.standing.win_rate
    }
}
