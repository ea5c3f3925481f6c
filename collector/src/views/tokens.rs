//! `tokens`: `"models":[{"model","calls","input_tokens","output_tokens",
//! "cost"}]`, by cost descending, then model; `"by_day":[{"day","model",
//! "input_tokens","output_tokens","cost"}]`, by day then model.

use super::{agg_sums, rounded, Query};
use crate::day;
use rusqlite::Connection;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Default, Clone, Copy)]
struct Usage {
    calls: f64,
    input: f64,
    output: f64,
    cost: f64,
}

pub fn answer(connection: &Connection, scope: &Query) -> rusqlite::Result<Map<String, Value>> {
    let mut models: BTreeMap<String, Usage> = BTreeMap::new();
    let mut by_day: BTreeMap<(i64, String), Usage> = BTreeMap::new();
    scope.rows(
        connection,
        "SELECT name, day, weight, n1, n2, n3 FROM records WHERE {scope} AND event = 'token'",
        |row| {
            let model: String = row.get(0)?;
            let day: i64 = row.get(1)?;
            let weight: f64 = row.get(2)?;
            let usage = Usage {
                calls: weight,
                input: weight * row.get::<_, Option<f64>>(3)?.unwrap_or(0.0),
                output: weight * row.get::<_, Option<f64>>(4)?.unwrap_or(0.0),
                cost: weight * row.get::<_, Option<f64>>(5)?.unwrap_or(0.0),
            };
            for total in [
                models.entry(model.clone()).or_default(),
                by_day.entry((day, model)).or_default(),
            ] {
                total.calls += usage.calls;
                total.input += usage.input;
                total.output += usage.output;
                total.cost += usage.cost;
            }
            Ok(())
        },
    )?;
    for (day, model, key, value) in agg_sums(connection, scope, "token")? {
        for total in [
            models.entry(model.clone()).or_default(),
            by_day.entry((day, model)).or_default(),
        ] {
            match key.as_str() {
                "calls" => total.calls += value,
                "input" => total.input += value,
                "output" => total.output += value,
                "cost" => total.cost += value,
                _ => {}
            }
        }
    }
    let mut list: Vec<(String, Usage)> = models.into_iter().collect();
    list.sort_by(|(a_model, a), (b_model, b)| {
        b.cost.total_cmp(&a.cost).then_with(|| a_model.cmp(b_model))
    });
    let models: Vec<Value> = list
        .into_iter()
        .map(|(model, usage)| {
            json!({
                "model": model,
                "calls": rounded(usage.calls),
                "input_tokens": rounded(usage.input),
                "output_tokens": rounded(usage.output),
                "cost": usage.cost,
            })
        })
        .collect();
    let by_day: Vec<Value> = by_day
        .into_iter()
        .map(|((day, model), usage)| {
            json!({
                "day": day::format(day),
                "model": model,
                "input_tokens": rounded(usage.input),
                "output_tokens": rounded(usage.output),
                "cost": usage.cost,
            })
        })
        .collect();
    Ok(Map::from_iter([
        ("models".to_owned(), Value::Array(models)),
        ("by_day".to_owned(), Value::Array(by_day)),
    ]))
}
