//! Retention: raw records whose day is more than N days old are folded into
//! per-day aggregates (`migrations/0002_aggregates.sql`) and removed, at
//! start and hourly; a record that arrives already that old is folded
//! without being stored raw. The aggregates keep every per-day figure of
//! `daily`, `commands`, `tools`, `errors`, `tokens`, `versions` (and the
//! installs of `apps` and `environments`) exact, per version and `ci` too;
//! durations keep a histogram whose buckets are 5% wide, so a percentile
//! over expired days is within 2.5% of the raw value. A folded record's
//! `event_id` is kept (in `folded`), so that a resend is not counted twice.

use super::row::Row;
use rusqlite::{params_from_iter, Connection, ToSql};
use serde_json::Value;

/// The histogram's bucket ratio.
const RATIO: f64 = 1.05;

/// Whether a record of `day` is past retention on `today`.
pub fn is_expired(day: i64, retention_days: u32, today: i64) -> bool {
    retention_days > 0 && day < today - i64::from(retention_days)
}

/// The histogram bucket of a duration.
pub fn bucket_of(ms: i64) -> i64 {
    if ms <= 0 {
        return 0;
    }
    // ln(ms) / ln(1.05) is at most ~900 for any i64: the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let bucket = ((ms as f64).ln() / RATIO.ln()).floor() as i64;
    bucket + 1
}

/// The value a bucket stands for: the geometric middle of its range.
pub fn bucket_value(bucket: i64) -> i64 {
    if bucket <= 0 {
        return 0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let value = (RATIO.powf((bucket - 1) as f64) * RATIO.sqrt()).round() as i64;
    value.max(1)
}

/// `ci` as the aggregates store it: 1, 0, or -1 when absent.
pub fn ci_key(ci: Option<bool>) -> i64 {
    ci.map_or(-1, i64::from)
}

/// Adds one record to the aggregates of its day (once per `event_id`).
pub fn fold(connection: &Connection, row: &Row, record: &Value) -> rusqlite::Result<()> {
    let fresh = connection.execute(
        "INSERT OR IGNORE INTO folded (event_id) VALUES (?1)",
        [&row.event_id],
    )?;
    if fresh == 0 {
        return Ok(());
    }
    let properties = record.get("properties").cloned().unwrap_or(Value::Null);
    let number = |key: &str| properties.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let ci = ci_key(row.ci);
    let w = row.weight;
    // Every aggregate row starts with its day's key: app, day, version, ci
    // (`?1`…`?4`); `rest` binds `?5` on.
    let insert = |sql: &str, rest: &[&dyn ToSql]| -> rusqlite::Result<()> {
        let key: [&dyn ToSql; 4] = [&row.app, &row.day, &row.version, &ci];
        connection
            .prepare_cached(sql)?
            .execute(params_from_iter(key.iter().chain(rest)))?;
        Ok(())
    };
    let sum = |metric: &str, name: &str, key: &str, value: f64| {
        insert(
            "INSERT INTO agg_sums (app, day, version, ci, metric, name, key, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT DO UPDATE SET value = value + excluded.value",
            &[&metric, &name, &key, &value],
        )
    };
    let error = |event: &str, name: &str, kind: &str, count: f64| -> rusqlite::Result<()> {
        insert(
            "INSERT INTO agg_errors (app, day, version, ci, event, name, kind, count,
                first_ts, first_version, last_ts, last_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?3, ?9, ?3)
             ON CONFLICT DO UPDATE SET count = count + excluded.count,
                first_version = CASE WHEN excluded.first_ts < first_ts
                    THEN excluded.first_version ELSE first_version END,
                first_ts = min(first_ts, excluded.first_ts),
                last_version = CASE WHEN excluded.last_ts > last_ts
                    THEN excluded.last_version ELSE last_version END,
                last_ts = max(last_ts, excluded.last_ts)",
            &[&event, &name, &kind, &count, &row.ts],
        )?;
        if row.is_install() {
            insert(
                "INSERT OR IGNORE INTO agg_error_installs
                    (app, day, version, ci, event, name, kind, uid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                &[&event, &name, &kind, &row.uid],
            )?;
        }
        Ok(())
    };
    let duration = |metric: &str| match row.duration_ms {
        Some(ms) => insert(
            "INSERT INTO agg_durations (app, day, version, ci, metric, name, bucket, count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)
             ON CONFLICT DO UPDATE SET count = count + 1",
            &[&metric, &row.name, &bucket_of(ms)],
        ),
        None => Ok(()),
    };

    sum("records", "", "", w)?;
    if row.is_install() {
        insert(
            "INSERT OR IGNORE INTO agg_active
                (app, day, version, ci, uid, os, arch, ci_provider, ai_agent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &[
                &row.uid,
                &row.os,
                &row.arch,
                &row.ci_provider,
                &row.ai_agent,
            ],
        )?;
    }
    let kind = row.error.clone().unwrap_or_default();
    match row.event.as_str() {
        "command" | "tool" => {
            sum(&row.event, &row.name, "calls", w)?;
            if row.ok == Some(false) {
                sum(&row.event, &row.name, "failures", w)?;
                if row.event == "tool" {
                    sum("tool", &row.name, &format!("kind:{kind}"), w)?;
                }
                error(&row.event, &row.name, &kind, w)?;
            }
            duration(&row.event)?;
        }
        "tool_summary" => {
            sum("tool", &row.name, "calls", w * number("calls"))?;
            sum("tool", &row.name, "failures", w * number("errors"))?;
            let kinds = properties.get("error_kinds").and_then(Value::as_object);
            for (kind, count) in kinds.into_iter().flatten() {
                let count = count.as_f64().unwrap_or(0.0);
                if count > 0.0 {
                    sum("tool", &row.name, &format!("kind:{kind}"), w * count)?;
                    error("tool", &row.name, kind, w * count)?;
                }
            }
        }
        "token" => {
            sum("token", &row.name, "calls", w)?;
            sum("token", &row.name, "input", w * number("input_tokens"))?;
            sum("token", &row.name, "output", w * number("output_tokens"))?;
            sum("token", &row.name, "cost", w * number("cost"))?;
        }
        "client_report" => {
            let dropped = properties.get("dropped").and_then(Value::as_object);
            for (reason, count) in dropped.into_iter().flatten() {
                sum("dropped", reason, "", count.as_f64().unwrap_or(0.0))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Folds and removes the raw records past retention; returns how many.
pub fn expire(
    connection: &mut Connection,
    retention_days: u32,
    today: i64,
) -> rusqlite::Result<usize> {
    if retention_days == 0 {
        return Ok(0);
    }
    let first_kept = today - i64::from(retention_days);
    let transaction = connection.transaction()?;
    let mut expired = 0;
    {
        let mut statement = transaction
            .prepare("SELECT body FROM records JOIN bodies USING (seq) WHERE day < ?1")?;
        let mut rows = statement.query([first_kept])?;
        while let Some(stored) = rows.next()? {
            let body: String = stored.get(0)?;
            let Ok(record) = serde_json::from_str::<Value>(&body) else {
                continue;
            };
            let row = Row::of(&record);
            fold(&transaction, &row, &record)?;
            expired += 1;
        }
    }
    transaction.execute(
        "DELETE FROM bodies WHERE seq IN (SELECT seq FROM records WHERE day < ?1)",
        [first_kept],
    )?;
    transaction.execute("DELETE FROM records WHERE day < ?1", [first_kept])?;
    transaction.commit()?;
    Ok(expired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_stand_for_values_within_three_percent() {
        for ms in (1..200_000).step_by(7) {
            let value = bucket_value(bucket_of(ms));
            #[allow(clippy::cast_precision_loss)]
            let error = ((value - ms) as f64 / ms as f64).abs();
            assert!(error <= 0.03 || (value - ms).abs() <= 1, "{ms} -> {value}");
        }
        assert_eq!(bucket_value(bucket_of(0)), 0);
    }

    #[test]
    fn expiry_counts_whole_days_past_retention() {
        assert!(!is_expired(100, 0, 1_000));
        assert!(is_expired(89, 10, 100));
        assert!(!is_expired(90, 10, 100));
    }
}
