//! A view's parameters: `app`, `from`, `to`, `version`, `ci`, `format`.

use super::ViewError;
use crate::day;

/// The longest range a view answers, in days.
pub const MAX_DAYS: i64 = 3_660;

/// What a view is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The app (`source`); may be left out when the store holds one app.
    pub app: Option<String>,
    /// First day, inclusive.
    pub from: i64,
    /// Last day, inclusive.
    pub to: i64,
    /// Only records of this version.
    pub version: Option<String>,
    /// Only records with this `ci`.
    pub ci: Option<bool>,
    /// `ndjson` for `records` as lines.
    pub format: Option<String>,
}

impl Query {
    /// The default query: every app, the 30 days ending `today`.
    pub fn last_30_days(today: i64) -> Query {
        Query {
            app: None,
            from: today - 29,
            to: today,
            version: None,
            ci: None,
            format: None,
        }
    }

    /// Reads a URL query string (`app=A&from=YYYY-MM-DD&…`); `today` fills
    /// the default range. Unknown parameters are ignored.
    pub fn parse(query: &str, today: i64) -> Result<Query, ViewError> {
        let mut result = Query::last_30_days(today);
        let (mut from, mut to) = (None, None);
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value)
                .ok_or_else(|| ViewError::BadQuery(format!("{key}: not valid percent-encoding")))?;
            let parse_day = |value: &str| {
                day::parse(value).ok_or_else(|| {
                    ViewError::BadQuery(format!("{key}={value:?} is not a day (YYYY-MM-DD)"))
                })
            };
            match key {
                "app" => result.app = Some(value).filter(|app| !app.is_empty()),
                "from" => from = Some(parse_day(&value)?),
                "to" => to = Some(parse_day(&value)?),
                "version" => result.version = Some(value),
                "ci" => {
                    result.ci = Some(match value.as_str() {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(ViewError::BadQuery(format!(
                                "ci={other:?}: use true or false"
                            )))
                        }
                    });
                }
                "format" => result.format = Some(value),
                _ => {}
            }
        }
        result.to = to.unwrap_or(today);
        result.from = from.unwrap_or(result.to - 29);
        if result.from > result.to {
            return Err(ViewError::BadQuery(format!(
                "from ({}) is after to ({})",
                day::format(result.from),
                day::format(result.to)
            )));
        }
        if result.to - result.from >= MAX_DAYS {
            return Err(ViewError::BadQuery(format!(
                "the range is longer than {MAX_DAYS} days"
            )));
        }
        Ok(result)
    }
}

/// Decodes `%XX` and `+` (as a space).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' => {
                let hex = text.get(index + 1..index + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                index += 3;
            }
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            byte => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The records a view reads, once its app is known (the empty app: every
/// app). Its SQL ([`Query::WHERE`]) binds `?1`…`?5` to [`Query::params`].
impl Query {
    /// The condition on `records` for this query.
    pub const WHERE: &'static str = "app = ?1 AND day BETWEEN ?2 AND ?3 \
        AND (?4 IS NULL OR version = ?4) AND (?5 IS NULL OR ci = ?5)";

    /// Runs `sql` with the query's parameters bound and maps every row. In
    /// `sql`, `{scope}` stands for [`Query::WHERE`] and `{active}` for the
    /// [`with_active`](super::with_active) prefix.
    pub fn rows<T>(
        &self,
        connection: &rusqlite::Connection,
        sql: &str,
        mut map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        let sql = sql
            .replace("{active}", &super::with_active())
            .replace("{scope}", Query::WHERE);
        let mut statement = connection.prepare_cached(&sql)?;
        let mut rows = statement.query(self.params())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(map(row)?);
        }
        Ok(out)
    }

    /// The values of `?1`…`?5`.
    pub fn params(&self) -> [rusqlite::types::Value; 5] {
        use rusqlite::types::Value as Sql;
        [
            Sql::Text(self.app.clone().unwrap_or_default()),
            Sql::Integer(self.from),
            Sql::Integer(self.to),
            self.version.clone().map_or(Sql::Null, Sql::Text),
            self.ci.map_or(Sql::Null, |ci| Sql::Integer(i64::from(ci))),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_their_defaults() {
        let today = day::parse("2026-12-06").unwrap();
        let query = Query::parse("", today).unwrap();
        assert_eq!((query.from, query.to), (today - 29, today));
        let query = Query::parse(
            "app=my%20app&from=2026-01-01&to=2026-01-31&ci=false&version=1.0",
            today,
        )
        .unwrap();
        assert_eq!(query.app.as_deref(), Some("my app"));
        assert_eq!(day::format(query.from), "2026-01-01");
        assert_eq!(query.ci, Some(false));
        assert_eq!(query.version.as_deref(), Some("1.0"));
        for bad in [
            "from=2026-13-01",
            "ci=yes",
            "from=2026-02-01&to=2026-01-01",
            "app=%zz",
        ] {
            assert!(Query::parse(bad, today).is_err(), "{bad}");
        }
    }
}
