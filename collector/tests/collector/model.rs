//! The views computed again, independently of the collector, from the
//! distinct records a test sent: the reference the API must equal.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const DAY_MS: i64 = 86_400_000;

fn prop<'a>(record: &'a Value, key: &str) -> &'a Value {
    &record["properties"][key]
}

fn text(record: &Value, key: &str) -> String {
    prop(record, key).as_str().unwrap_or("").to_owned()
}

fn weight(record: &Value) -> f64 {
    match prop(record, "sample_rate").as_f64() {
        Some(rate) if rate > 0.0 && rate < 1.0 => 1.0 / rate,
        _ => 1.0,
    }
}

fn install(record: &Value) -> Option<String> {
    let id = text(record, "user_uuid");
    (prop(record, "ephemeral_id") != &json!(true) && !id.is_empty()).then_some(id)
}

fn day_of(record: &Value) -> i64 {
    record["event_timestamp"]
        .as_i64()
        .unwrap()
        .div_euclid(DAY_MS)
}

/// `YYYY-MM-DD` for a day number, by walking the calendar (a method
/// unlike the collector's).
pub fn day_text(day: i64) -> String {
    let (mut year, mut left) = (1970_i64, day);
    loop {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let length = if leap { 366 } else { 365 };
        if left < length {
            let months = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            let mut month = 0;
            while left >= months[month] {
                left -= months[month];
                month += 1;
            }
            return format!("{year:04}-{:02}-{:02}", month + 1, left + 1);
        }
        left -= length;
        year += 1;
    }
}

fn round(sum: f64) -> Value {
    json!(sum.round() as i64)
}

/// Nearest rank: the smallest value with at least p% at or below it.
fn percentile(values: &[i64], p: f64) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    json!(sorted[rank - 1])
}

/// One command's or tool's calls.
#[derive(Default)]
struct Calls {
    calls: f64,
    failures: f64,
    kinds: BTreeMap<String, f64>,
    durations: Vec<i64>,
}

/// The `commands` or `tools` list: by calls descending, then name.
fn listed(calls: BTreeMap<String, Calls>, with_kinds: bool) -> Vec<Value> {
    let mut list: Vec<Value> = calls
        .into_iter()
        .map(|(name, entry)| {
            let mut answer = json!({"name": name, "calls": round(entry.calls),
                "failures": round(entry.failures), "p50_ms": percentile(&entry.durations, 50.0),
                "p95_ms": percentile(&entry.durations, 95.0)});
            if with_kinds {
                for (kind, n) in &entry.kinds {
                    answer["error_kinds"][kind] = round(*n);
                }
                if entry.kinds.is_empty() {
                    answer["error_kinds"] = json!({});
                }
            }
            answer
        })
        .collect();
    by_count(&mut list, "calls", &["name"]);
    list
}

/// Sorts answers by the integer `count` descending, then by the strings
/// `then`, in order.
fn by_count(list: &mut [Value], count: &str, then: &[&str]) {
    list.sort_by(|a, b| {
        let key = |entry: &Value| -> Vec<String> {
            then.iter()
                .map(|field| entry[*field].as_str().unwrap_or("").to_owned())
                .collect()
        };
        b[count]
            .as_i64()
            .cmp(&a[count].as_i64())
            .then_with(|| key(a).cmp(&key(b)))
    });
}

/// The records of one app, days `from..=to`.
pub struct Model<'a> {
    pub app: &'a str,
    pub records: Vec<&'a Value>,
    pub all_of_app: Vec<&'a Value>,
    pub from: i64,
    pub to: i64,
}

impl<'a> Model<'a> {
    pub fn new(records: &'a [Value], app: &'a str, from: i64, to: i64) -> Model<'a> {
        let all_of_app: Vec<&Value> = records.iter().filter(|r| r["source"] == app).collect();
        let records = all_of_app
            .iter()
            .copied()
            .filter(|r| (from..=to).contains(&day_of(r)))
            .collect();
        Model {
            app,
            records,
            all_of_app,
            from,
            to,
        }
    }

    /// `app=A&from=…&to=…`: the API query for this model's app and range.
    pub fn query(&self) -> String {
        format!(
            "app={}&from={}&to={}",
            self.app,
            day_text(self.from),
            day_text(self.to)
        )
    }

    /// The answer of the view `name` (the model's fields of it).
    pub fn view(&self, name: &str) -> Value {
        match name {
            "daily" => self.daily(),
            "commands" => self.commands(),
            "tools" => self.tools(),
            "errors" => self.errors(),
            "tokens" => self.tokens(),
            "sessions" => self.sessions(),
            "versions" => self.versions(),
            "environments" => self.environments(),
            other => panic!("the model has no view {other}"),
        }
    }

    fn of(&self, event: &str) -> impl Iterator<Item = &&'a Value> + '_ {
        let event = event.to_owned();
        self.records
            .iter()
            .filter(move |r| r["event"] == event.as_str())
    }

    pub fn daily(&self) -> Value {
        let mut first_day: BTreeMap<String, i64> = BTreeMap::new();
        for record in &self.all_of_app {
            if let Some(id) = install(record) {
                let day = day_of(record);
                let entry = first_day.entry(id).or_insert(day);
                *entry = (*entry).min(day);
            }
        }
        let mut total_dropped: BTreeMap<String, i64> = BTreeMap::new();
        let days: Vec<Value> = (self.from..=self.to)
            .map(|day| {
                let of_day: Vec<&&Value> =
                    self.records.iter().filter(|r| day_of(r) == day).collect();
                let active: BTreeSet<String> = of_day.iter().filter_map(|r| install(r)).collect();
                let mut dropped: BTreeMap<String, i64> = BTreeMap::new();
                for record in of_day.iter().filter(|r| r["event"] == "client_report") {
                    for (reason, n) in prop(record, "dropped").as_object().unwrap() {
                        *dropped.entry(reason.clone()).or_default() += n.as_i64().unwrap();
                        *total_dropped.entry(reason.clone()).or_default() += n.as_i64().unwrap();
                    }
                }
                json!({
                    "day": day_text(day),
                    "active_installs": active.len(),
                    "new_installs": first_day.values().filter(|first| **first == day).count(),
                    "records": round(of_day.iter().map(|r| weight(r)).sum()),
                    "dropped": dropped,
                })
            })
            .collect();
        json!({"days": days, "dropped": total_dropped, "deletion_requests": 0})
    }

    /// Calls of `event` records per name (the property `name_key`).
    fn calls(&self, event: &str, name_key: &str) -> BTreeMap<String, Calls> {
        let mut calls: BTreeMap<String, Calls> = BTreeMap::new();
        for record in self.of(event) {
            let entry = calls.entry(text(record, name_key)).or_default();
            entry.calls += weight(record);
            entry
                .durations
                .push(prop(record, "duration_ms").as_i64().unwrap());
            if prop(record, "is_success") == &json!(false) {
                entry.failures += weight(record);
                *entry.kinds.entry(text(record, "error")).or_default() += weight(record);
            }
        }
        calls
    }

    pub fn commands(&self) -> Value {
        json!({"commands": listed(self.calls("command", "action"), false)})
    }

    pub fn tools(&self) -> Value {
        let mut tools = self.calls("tool", "tool_name");
        for record in self.of("tool_summary") {
            let tool = tools.entry(text(record, "tool_name")).or_default();
            let w = weight(record);
            tool.calls += w * prop(record, "calls").as_f64().unwrap();
            tool.failures += w * prop(record, "errors").as_f64().unwrap();
            for (kind, n) in prop(record, "error_kinds").as_object().unwrap() {
                *tool.kinds.entry(kind.clone()).or_default() += w * n.as_f64().unwrap();
            }
        }
        json!({"tools": listed(tools, true)})
    }

    pub fn errors(&self) -> Value {
        // (event, name, kind) -> (count, installs, (ts, version) first, last)
        type Group = (f64, BTreeSet<String>, Vec<(i64, String)>);
        let mut groups: BTreeMap<(String, String, String), Group> = BTreeMap::new();
        let mut by_day: BTreeMap<(i64, String), f64> = BTreeMap::new();
        let mut add = |event: &str, name: String, kind: String, n: f64, record: &Value| {
            let group = groups
                .entry((event.to_owned(), name, kind.clone()))
                .or_default();
            group.0 += n;
            if let Some(id) = install(record) {
                group.1.insert(id);
            }
            group.2.push((
                record["event_timestamp"].as_i64().unwrap(),
                text(record, "version"),
            ));
            *by_day.entry((day_of(record), kind)).or_default() += n;
        };
        for event in ["command", "tool"] {
            for record in self.of(event) {
                if prop(record, "is_success") == &json!(false) {
                    let name = text(
                        record,
                        if event == "command" {
                            "action"
                        } else {
                            "tool_name"
                        },
                    );
                    add(event, name, text(record, "error"), weight(record), record);
                }
            }
        }
        for record in self.of("tool_summary") {
            for (kind, n) in prop(record, "error_kinds").as_object().unwrap() {
                let n = n.as_f64().unwrap();
                if n > 0.0 {
                    add(
                        "tool",
                        text(record, "tool_name"),
                        kind.clone(),
                        weight(record) * n,
                        record,
                    );
                }
            }
        }
        let mut list: Vec<Value> = groups
            .into_iter()
            .map(|((event, name, kind), (count, installs, mut seen))| {
                seen.sort_by_key(|(ts, _)| *ts);
                json!({"event": event, "name": name, "kind": kind, "count": round(count),
                       "installs": installs.len(),
                       "first_version": seen.first().unwrap().1, "last_version": seen.last().unwrap().1})
            })
            .collect();
        by_count(&mut list, "count", &["event", "name", "kind"]);
        let by_day: Vec<Value> = by_day
            .into_iter()
            .map(|((day, kind), n)| json!({"day": day_text(day), "kind": kind, "count": round(n)}))
            .collect();
        json!({"errors": list, "by_day": by_day})
    }

    /// Tokens: exact integers, and each cost as a float to compare with a
    /// tolerance.
    pub fn tokens(&self) -> Value {
        let mut models: BTreeMap<String, [f64; 4]> = BTreeMap::new();
        let mut by_day: BTreeMap<(i64, String), [f64; 3]> = BTreeMap::new();
        for record in self.of("token") {
            let w = weight(record);
            let (input, output) = (
                w * prop(record, "input_tokens").as_f64().unwrap(),
                w * prop(record, "output_tokens").as_f64().unwrap(),
            );
            let cost = w * prop(record, "cost").as_f64().unwrap();
            let model = models.entry(text(record, "model_name")).or_default();
            model[0] += w;
            model[1] += input;
            model[2] += output;
            model[3] += cost;
            let day = by_day
                .entry((day_of(record), text(record, "model_name")))
                .or_default();
            day[0] += input;
            day[1] += output;
            day[2] += cost;
        }
        let mut list: Vec<(String, [f64; 4])> = models.into_iter().collect();
        list.sort_by(|(a, x), (b, y)| y[3].total_cmp(&x[3]).then(a.cmp(b)));
        let models: Vec<Value> = list
            .into_iter()
            .map(|(model, t)| {
                json!({"model": model, "calls": round(t[0]), "input_tokens": round(t[1]),
                                      "output_tokens": round(t[2]), "cost": t[3]})
            })
            .collect();
        let by_day: Vec<Value> = by_day
            .into_iter()
            .map(|((day, model), t)| {
                json!({"day": day_text(day), "model": model,
                "input_tokens": round(t[0]), "output_tokens": round(t[1]), "cost": t[2]})
            })
            .collect();
        json!({"models": models, "by_day": by_day})
    }

    pub fn sessions(&self) -> Value {
        let ends: Vec<&&Value> = self
            .of("session")
            .filter(|r| text(r, "action") == "end")
            .collect();
        let with_errors = ends
            .iter()
            .filter(|r| {
                prop(r, "is_success") == &json!(false)
                    || prop(r, "error_count").as_i64().unwrap_or(0) > 0
            })
            .count();
        let calls: Vec<i64> = ends
            .iter()
            .map(|r| prop(r, "tool_calls").as_i64().unwrap())
            .collect();
        let durations: Vec<i64> = ends
            .iter()
            .map(|r| prop(r, "duration_ms").as_i64().unwrap())
            .collect();
        json!({"sessions": {"count": ends.len(), "with_errors": with_errors,
            "tool_calls_p50": percentile(&calls, 50.0), "tool_calls_p95": percentile(&calls, 95.0),
            "duration_p50_ms": percentile(&durations, 50.0), "duration_p95_ms": percentile(&durations, 95.0)}})
    }

    pub fn versions(&self) -> Value {
        let mut over: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut per_day: BTreeMap<(i64, String), BTreeSet<String>> = BTreeMap::new();
        for record in &self.records {
            if let Some(id) = install(record) {
                over.entry(text(record, "version"))
                    .or_default()
                    .insert(id.clone());
                per_day
                    .entry((day_of(record), text(record, "version")))
                    .or_default()
                    .insert(id);
            }
        }
        let mut versions: Vec<(String, usize)> =
            over.into_iter().map(|(v, s)| (v, s.len())).collect();
        versions.sort_by(|(a, x), (b, y)| y.cmp(x).then(a.cmp(b)));
        let versions: Vec<Value> = versions
            .into_iter()
            .map(|(version, n)| json!({"version": version, "active_installs": n}))
            .collect();
        let by_day: Vec<Value> = per_day
            .into_iter()
            .map(|((day, version), s)| json!({"day": day_text(day), "version": version, "active_installs": s.len()}))
            .collect();
        json!({"versions": versions, "by_day": by_day})
    }

    pub fn environments(&self) -> Value {
        let mut answer = Map::new();
        for key in ["os", "arch", "ci_provider", "ai_agent"] {
            let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for record in &self.records {
                if let Some(id) = install(record) {
                    values.entry(text(record, key)).or_default().insert(id);
                }
            }
            let values: Map<String, Value> = values
                .into_iter()
                .map(|(v, s)| (v, json!(s.len())))
                .collect();
            answer.insert(key.to_owned(), Value::Object(values));
        }
        Value::Object(answer)
    }
}

/// The views the model computes: every view of one app.
pub fn views() -> impl Iterator<Item = &'static str> {
    telemetry_collector::overview::VIEWS
        .into_iter()
        .filter(|view| *view != "apps")
}

/// The records whose property `key` is `value`.
pub fn having(records: &[Value], key: &str, value: &Value) -> Vec<Value> {
    records
        .iter()
        .filter(|record| &record["properties"][key] == value)
        .cloned()
        .collect()
}

/// Every field of `expected` equals the answer's, floats within 1e-9.
pub fn assert_matches(view: &str, answer: &Value, expected: &Value) {
    fn close(a: &Value, b: &Value, path: &str) -> Result<(), String> {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                if (x - y).abs() <= 1e-9 * x.abs().max(1.0) {
                    Ok(())
                } else {
                    Err(format!("{path}: {x} != {y}"))
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return Err(format!("{path}: {} items != {}", x.len(), y.len()));
                }
                x.iter()
                    .zip(y)
                    .enumerate()
                    .try_for_each(|(i, (x, y))| close(x, y, &format!("{path}[{i}]")))
            }
            (Value::Object(x), Value::Object(y)) => {
                let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                keys.into_iter().try_for_each(|key| {
                    close(
                        x.get(key).unwrap_or(&Value::Null),
                        y.get(key).unwrap_or(&Value::Null),
                        &format!("{path}.{key}"),
                    )
                })
            }
            _ if a == b => Ok(()),
            _ => Err(format!("{path}: {a} != {b}")),
        }
    }
    for (key, value) in expected.as_object().unwrap() {
        if let Err(difference) = close(&answer[key], value, key) {
            panic!("view {view}: {difference}\nanswer: {answer}\nexpected: {expected}");
        }
    }
}
