//! The page's filters: what the GET form sends (`app`, `range`, `from`,
//! `to`, `version`, `ci`), read with safe defaults, and written back into
//! links and API queries.

use super::html::{encode, query_pairs};
use crate::overview::calendar::Day;

/// The ranges the form offers besides from–to.
pub const PRESETS: [i64; 3] = [7, 30, 90];

/// The default: the 30 days ending today, as the API's default.
pub const DEFAULT_DAYS: i64 = 30;

/// The longest range the page draws; a longer one is cut to its last days.
pub const MAX_DAYS: i64 = 366;

/// How the range was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The last N days, ending today.
    Last(i64),
    /// From one day to another, as typed.
    Custom,
}

/// What the page shows: one app (or none chosen yet), a range of days, and
/// optionally one version and CI or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The app; `None` until chosen (the page picks the store's only app).
    pub app: Option<String>,
    /// How the range was chosen.
    pub range: Range,
    /// The first day, included.
    pub from: Day,
    /// The last day, included.
    pub to: Day,
    /// Only this version.
    pub version: Option<String>,
    /// Only runs in CI (`true`) or only outside it (`false`).
    pub ci: Option<bool>,
}

impl Filter {
    /// The default filter: no app, the 30 days ending `today`.
    #[must_use]
    pub fn new(today: Day) -> Filter {
        Filter {
            app: None,
            range: Range::Last(DEFAULT_DAYS),
            from: today.plus(1 - DEFAULT_DAYS),
            to: today,
            version: None,
            ci: None,
        }
    }

    /// Reads a query string. What cannot be used is replaced by its default
    /// and said in the returned notes (shown on the page), never an error.
    #[must_use]
    pub fn parse(query: &str, today: Day) -> (Filter, Vec<String>) {
        let mut filter = Filter::new(today);
        let mut notes = Vec::new();
        let (mut range, mut from, mut to, mut shown) = (None, None, None, None);
        for (name, value) in query_pairs(query) {
            let value = value.trim().to_owned();
            match name.as_str() {
                "app" if !value.is_empty() => filter.app = Some(value),
                "version" if !value.is_empty() => filter.version = Some(value),
                "ci" => match value.as_str() {
                    "true" => filter.ci = Some(true),
                    "false" => filter.ci = Some(false),
                    "" => filter.ci = None,
                    _ => notes.push(format!("CI “{value}” is not yes or no: showing both.")),
                },
                "range" if !value.is_empty() => range = Some(value),
                "from" if !value.is_empty() => from = Some(value),
                "to" if !value.is_empty() => to = Some(value),
                "shown" => shown = Some(value),
                _ => {}
            }
        }
        let preset = match range.as_deref() {
            None => None,
            Some("custom") => Some(Range::Custom),
            Some(text) => {
                match text.parse::<i64>() {
                    Ok(days) if PRESETS.contains(&days) => Some(Range::Last(days)),
                    _ => {
                        notes.push(format!("Range “{text}” is not 7, 30 or 90 days: showing the last {DEFAULT_DAYS}."));
                        Some(Range::Last(DEFAULT_DAYS))
                    }
                }
            }
        };
        // The form sends its preset and its days together: days edited
        // under an unchanged preset (`shown` holds what the form showed)
        // mean the days the user typed.
        let edited_days = shown.as_deref().is_some_and(|shown| {
            let mut parts = shown.split(':');
            let (shown_range, shown_from, shown_to) = (parts.next(), parts.next(), parts.next());
            shown_range == range.as_deref()
                && (shown_from != from.as_deref() || shown_to != to.as_deref())
        });
        let preset = if edited_days {
            Some(Range::Custom)
        } else {
            preset
        };
        match preset {
            Some(Range::Last(days)) => filter.set_last(days, today),
            // from/to without a range (a link), or a custom range.
            _ if from.is_some() || to.is_some() || preset == Some(Range::Custom) => {
                filter.range = Range::Custom;
                let mut day = |text: Option<String>, which: &str| {
                    let text = text?;
                    let day = Day::parse(&text);
                    if day.is_none() {
                        notes.push(format!(
                            "“{text}” is not a day (YYYY-MM-DD): using the default {which} day."
                        ));
                    }
                    day
                };
                let (from, to) = (day(from, "first"), day(to, "last"));
                filter.to = to.unwrap_or(today);
                filter.from = from.unwrap_or(filter.to.plus(1 - DEFAULT_DAYS));
                if filter.from > filter.to {
                    notes.push("The first day was after the last: they were swapped.".to_owned());
                    std::mem::swap(&mut filter.from, &mut filter.to);
                }
                if filter.from.days_until(filter.to) >= MAX_DAYS {
                    notes.push(format!("The page shows at most {MAX_DAYS} days: the range was cut to its last {MAX_DAYS}."));
                    filter.from = filter.to.plus(1 - MAX_DAYS);
                }
            }
            _ => {}
        }
        (filter, notes)
    }

    fn set_last(&mut self, days: i64, today: Day) {
        self.range = Range::Last(days);
        self.to = today;
        self.from = today.plus(1 - days);
    }

    /// What the form shows, sent back as `shown` so that [`Filter::parse`]
    /// can tell days the user edited from the preset's own:
    /// `RANGE:FROM:TO`.
    #[must_use]
    pub fn shown(&self) -> String {
        let range = match self.range {
            Range::Last(days) => days.to_string(),
            Range::Custom => "custom".to_owned(),
        };
        format!("{range}:{}:{}", self.from, self.to)
    }

    /// The number of days in the range.
    #[must_use]
    pub fn days(&self) -> i64 {
        self.from.days_until(self.to) + 1
    }

    /// This filter for another app (version filter dropped: versions differ).
    #[must_use]
    pub fn for_app(&self, app: &str) -> Filter {
        Filter {
            app: Some(app.to_owned()),
            version: None,
            ..self.clone()
        }
    }

    /// This filter over another range, from–to.
    #[must_use]
    pub fn over(&self, from: Day, to: Day) -> Filter {
        Filter {
            range: Range::Custom,
            from,
            to,
            ..self.clone()
        }
    }

    /// This filter without its version and CI filters.
    #[must_use]
    pub fn unfiltered(&self) -> Filter {
        Filter {
            version: None,
            ci: None,
            ..self.clone()
        }
    }

    /// The query the JSON API takes for this filter:
    /// `app=A&from=F&to=T[&version=V][&ci=true|false]`.
    #[must_use]
    pub fn api_query(&self) -> String {
        let mut query = String::new();
        if let Some(app) = &self.app {
            query.push_str(&format!("app={}&", encode(app)));
        }
        query.push_str(&format!("from={}&to={}", self.from, self.to));
        if let Some(version) = &self.version {
            query.push_str(&format!("&version={}", encode(version)));
        }
        if let Some(ci) = self.ci {
            query.push_str(&format!("&ci={ci}"));
        }
        query
    }

    /// A link to the page with this filter (`/?…`); a preset range stays a
    /// preset, so that the link keeps ending today.
    #[must_use]
    pub fn link(&self) -> String {
        let mut parts = Vec::new();
        if let Some(app) = &self.app {
            parts.push(format!("app={}", encode(app)));
        }
        match self.range {
            Range::Last(days) => parts.push(format!("range={days}")),
            Range::Custom => {
                parts.push("range=custom".to_owned());
                parts.push(format!("from={}&to={}", self.from, self.to));
            }
        }
        if let Some(version) = &self.version {
            parts.push(format!("version={}", encode(version)));
        }
        if let Some(ci) = self.ci {
            parts.push(format!("ci={ci}"));
        }
        format!("/?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Day {
        Day::parse("2026-12-06").unwrap()
    }

    fn parse(query: &str) -> (Filter, Vec<String>) {
        Filter::parse(query, today())
    }

    #[test]
    fn the_default_is_the_30_days_ending_today() {
        let (filter, notes) = parse("");
        assert_eq!(filter, Filter::new(today()));
        assert_eq!(
            (filter.from.to_string(), filter.to.to_string()),
            ("2026-11-07".into(), "2026-12-06".into())
        );
        assert_eq!(filter.days(), 30);
        assert!(notes.is_empty());
    }

    #[test]
    fn a_preset_wins_over_the_days_the_form_also_sent() {
        let (filter, notes) = parse("app=agent&range=7&from=2026-01-01&to=2026-01-31&version=&ci=");
        assert_eq!(filter.range, Range::Last(7));
        assert_eq!(
            (filter.from.to_string(), filter.to.to_string()),
            ("2026-11-30".into(), "2026-12-06".into())
        );
        assert_eq!(
            (filter.app.as_deref(), filter.version.as_deref(), filter.ci),
            (Some("agent"), None, None)
        );
        assert!(notes.is_empty());
    }

    #[test]
    fn days_edited_under_an_unchanged_preset_are_the_days_used() {
        let (shown, _) = parse("range=30");
        let form = |range: &str, from: &str, to: &str| {
            format!("range={range}&from={from}&to={to}&shown={}", shown.shown())
        };
        // Only the days changed: they win.
        let (filter, _) = parse(&form("30", "2026-10-01", "2026-10-10"));
        assert_eq!((filter.range, filter.days()), (Range::Custom, 10));
        // The preset changed: it wins over the days the form still held.
        let (filter, _) = parse(&form("7", "2026-11-07", "2026-12-06"));
        assert_eq!((filter.range, filter.days()), (Range::Last(7), 7));
        // Nothing changed: the preset, still ending today.
        let (filter, _) = parse(&form("30", "2026-11-07", "2026-12-06"));
        assert_eq!(filter.range, Range::Last(30));
    }

    #[test]
    fn custom_and_bare_from_to_use_the_days_given() {
        for query in [
            "range=custom&from=2026-01-01&to=2026-01-31",
            "from=2026-01-01&to=2026-01-31",
        ] {
            let (filter, notes) = parse(query);
            assert_eq!(filter.range, Range::Custom);
            assert_eq!(filter.days(), 31, "{query}");
            assert!(notes.is_empty(), "{notes:?}");
        }
        let (filter, _) = parse("from=2026-12-01");
        assert_eq!(
            (filter.from.to_string(), filter.to),
            ("2026-12-01".into(), today())
        );
    }

    #[test]
    fn bad_values_fall_back_to_defaults_and_say_so() {
        let (filter, notes) = parse("range=12&ci=maybe");
        assert_eq!((filter.range, filter.ci), (Range::Last(30), None));
        assert_eq!(notes.len(), 2, "{notes:?}");
        let (filter, notes) = parse("from=yesterday&to=2026-02-30");
        assert_eq!((filter.to, filter.days()), (today(), 30));
        assert_eq!(notes.len(), 2, "{notes:?}");
        let (filter, notes) = parse("from=2026-12-06&to=2026-12-01");
        assert_eq!(
            (filter.from.to_string(), filter.to.to_string()),
            ("2026-12-01".into(), "2026-12-06".into())
        );
        assert_eq!(notes.len(), 1);
        let (filter, notes) = parse("from=2000-01-01&to=2026-12-06");
        assert_eq!(filter.days(), MAX_DAYS);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn links_and_api_queries_round_trip() {
        let (filter, _) = parse(
            "app=my+app%26co&range=custom&from=2026-10-01&to=2026-10-31&version=1.2.0&ci=false",
        );
        assert_eq!(
            filter.api_query(),
            "app=my%20app%26co&from=2026-10-01&to=2026-10-31&version=1.2.0&ci=false"
        );
        let link = filter.link();
        assert_eq!(parse(link.trim_start_matches("/?")).0, filter);
        let (preset, _) = parse("app=a&range=90&ci=true");
        assert_eq!(preset.link(), "/?app=a&range=90&ci=true");
    }
}
