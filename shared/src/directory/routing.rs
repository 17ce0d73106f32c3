//! Who gets a case: routing rules as data. A rule names a category (or any), an area (a
//! district, street, community or cell code, or anywhere) and a time window of the day (or
//! always), and gives a lead department (主办) and helpers (协办). The most specific matching
//! rule wins: the narrower area first, then a named category, then a time window. Without a
//! rule, the principle of the field decides: a component goes to its owner, an event to its
//! locality (the street office). Rule sets are versioned; the current one is cached in the
//! key-value store, so routing a case costs two key reads.

use serde::{Deserialize, Serialize};

use crate::directory::{self, Category};
use crate::http::problem::FieldError;
use crate::time::local_minute;
use crate::{Database, Env, KeyValue, Problem, StoreError};

const CURRENT_KEY: &str = "routing_current";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub area_code: Option<String>,
    /// "HH:MM" local times; a window may cross midnight ("22:00"–"06:00").
    #[serde(default)]
    pub window_start: Option<String>,
    #[serde(default)]
    pub window_end: Option<String>,
    pub lead: String,
    #[serde(default)]
    pub helpers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleSet {
    pub version: i64,
    pub rules: Vec<Rule>,
}

fn minutes(hhmm: &str) -> Option<i64> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && hhmm.len() == 5).then_some(h * 60 + m)
}

impl Rule {
    fn in_window(&self, minute: i64) -> bool {
        match (
            self.window_start.as_deref().and_then(minutes),
            self.window_end.as_deref().and_then(minutes),
        ) {
            (Some(a), Some(b)) if a <= b => (a..b).contains(&minute),
            (Some(a), Some(b)) => minute >= a || minute < b,
            _ => true,
        }
    }
    fn matches(&self, category: &str, grid_code: &str, minute: i64) -> bool {
        self.category.as_deref().is_none_or(|c| c == category)
            && self
                .area_code
                .as_deref()
                .is_none_or(|a| grid_code.starts_with(a))
            && self.in_window(minute)
    }
    /// Narrower area, then a named category, then a time window.
    fn specificity(&self) -> (usize, bool, bool) {
        (
            self.area_code.as_ref().map_or(0, String::len),
            self.category.is_some(),
            self.window_start.is_some(),
        )
    }
}

/// The most specific rule that matches; on a tie, the one listed first.
pub fn choose<'a>(
    rules: &'a [Rule],
    category: &str,
    grid_code: &str,
    minute: i64,
) -> Option<(usize, &'a Rule)> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.matches(category, grid_code, minute))
        .max_by(|(ia, a), (ib, b)| a.specificity().cmp(&b.specificity()).then(ib.cmp(ia)))
}

/// Checks a rule set before it becomes current.
pub async fn validate<D: Database>(db: &D, rules: &[Rule]) -> Result<(), Problem> {
    let mut errors = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let at = |f: &str| format!("rules[{i}].{f}");
        if let Some(c) = &r.category
            && directory::category(db, c).await?.is_none()
        {
            errors.push(FieldError::new(&at("category"), format!("no category {c}")));
        }
        if let Some(a) = &r.area_code
            && crate::grid::code::GridCode::parse(a).is_err()
        {
            errors.push(FieldError::new(
                &at("area_code"),
                "a grid code of 6, 9, 12 or 15 digits",
            ));
        }
        match (&r.window_start, &r.window_end) {
            (None, None) => {}
            (Some(a), Some(b)) if minutes(a).is_some() && minutes(b).is_some() && a != b => {}
            _ => errors.push(FieldError::new(
                &at("window_start"),
                "both window_start and window_end as HH:MM, different",
            )),
        }
        for (field, dept) in
            std::iter::once(("lead", &r.lead)).chain(r.helpers.iter().map(|h| ("helpers", h)))
        {
            if directory::department(db, dept).await?.is_none() {
                errors.push(FieldError::new(&at(field), format!("no department {dept}")));
            }
        }
        if r.helpers.contains(&r.lead) {
            errors.push(FieldError::new(
                &at("helpers"),
                "the lead department is not also a helper",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

/// Stores a new rule set as the current version and refreshes the cache.
pub async fn replace<E: Env>(env: &E, rules: &[Rule], note: &str) -> Result<RuleSet, Problem> {
    validate(env, rules).await?;
    let now = env.now_ms();
    let version = crate::db::in_transaction(env, async {
        let rows = env
            .execute(
                "INSERT INTO routing_versions (created_at, note, is_current) VALUES (?, ?, 0) RETURNING version",
                &[now.into(), note.into()],
            )
            .await?;
        let version = rows.first().ok_or_else(Problem::internal)?.i64("version")?;
        for (i, r) in rules.iter().enumerate() {
            env.execute(
                "INSERT INTO routing_rules (version, position, category, area_code, window_start, window_end, lead, helpers) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    version.into(),
                    (i as i64).into(),
                    r.category.clone().into(),
                    r.area_code.clone().into(),
                    r.window_start.clone().into(),
                    r.window_end.clone().into(),
                    r.lead.as_str().into(),
                    serde_json::to_string(&r.helpers).unwrap_or_else(|_| "[]".into()).into(),
                ],
            )
            .await?;
        }
        env.execute("UPDATE routing_versions SET is_current = (version = ?)", &[version.into()]).await?;
        Ok(version)
    })
    .await?;
    let set = RuleSet {
        version,
        rules: rules.to_vec(),
    };
    cache(env, &set).await?;
    Ok(set)
}

async fn cache<K: KeyValue>(kv: &K, set: &RuleSet) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(set).map_err(|e| StoreError(e.to_string()))?;
    kv.set(CURRENT_KEY, &bytes).await
}

/// The current rule set: from the cache, or from SQL (and then cached).
pub async fn current<E: Env>(env: &E) -> Result<RuleSet, StoreError> {
    if let Some(bytes) = env.get(CURRENT_KEY).await?
        && let Ok(set) = serde_json::from_slice::<RuleSet>(&bytes)
    {
        return Ok(set);
    }
    let version = env
        .execute(
            "SELECT version FROM routing_versions WHERE is_current = 1",
            &[],
        )
        .await?
        .first()
        .map(|r| r.i64("version"))
        .transpose()?
        .unwrap_or(0);
    let rows = env
        .execute(
            "SELECT category, area_code, window_start, window_end, lead, helpers FROM routing_rules WHERE version = ? ORDER BY position",
            &[version.into()],
        )
        .await?;
    let rules = rows
        .iter()
        .map(|r| {
            Ok(Rule {
                category: r.opt_text("category")?,
                area_code: r.opt_text("area_code")?,
                window_start: r.opt_text("window_start")?,
                window_end: r.opt_text("window_end")?,
                lead: r.text("lead")?,
                helpers: serde_json::from_str(&r.text("helpers")?).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let set = RuleSet { version, rules };
    cache(env, &set).await?;
    Ok(set)
}

/// Who gets a case, and why.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Routing {
    pub lead: String,
    pub helpers: Vec<String>,
    /// `rule`, `component_owner`, `locality` or `category_default`.
    pub basis: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RuleRef {
    pub version: i64,
    pub position: usize,
    pub rule: Rule,
}

/// Routes a case of `category` in `grid_code` at `now_ms`.
pub async fn route<E: Env>(
    env: &E,
    category: &Category,
    grid_code: &str,
    now_ms: i64,
) -> Result<Routing, Problem> {
    let set = current(env).await?;
    if let Some((position, rule)) =
        choose(&set.rules, &category.code, grid_code, local_minute(now_ms))
    {
        return Ok(Routing {
            lead: rule.lead.clone(),
            helpers: rule.helpers.clone(),
            basis: "rule",
            rule: Some(RuleRef {
                version: set.version,
                position,
                rule: rule.clone(),
            }),
        });
    }
    if category.kind != "component" && grid_code.len() >= 9 {
        // An event goes to its locality first: the office of its street, if it has one.
        let street = &grid_code[..9];
        let rows = env
            .execute(
                "SELECT code FROM departments WHERE area_code = ? ORDER BY code LIMIT 1",
                &[street.into()],
            )
            .await?;
        if let Some(row) = rows.first() {
            return Ok(Routing {
                lead: row.text("code")?,
                helpers: vec![],
                basis: "locality",
                rule: None,
            });
        }
    }
    let basis = if category.kind == "component" {
        "component_owner"
    } else {
        "category_default"
    };
    Ok(Routing {
        lead: category.department.clone(),
        helpers: vec![],
        basis,
        rule: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        category: Option<&str>,
        area: Option<&str>,
        window: Option<(&str, &str)>,
        lead: &str,
    ) -> Rule {
        Rule {
            category: category.map(Into::into),
            area_code: area.map(Into::into),
            window_start: window.map(|w| w.0.into()),
            window_end: window.map(|w| w.1.into()),
            lead: lead.into(),
            helpers: vec![],
        }
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rules = vec![
            rule(Some("roads.pothole"), None, None, "city-roads"),
            rule(None, Some("350203"), None, "siming"),
            rule(Some("roads.pothole"), Some("350203004"), None, "street-4"),
            rule(
                Some("roads.pothole"),
                Some("350203004"),
                Some(("22:00", "06:00")),
                "night-crew",
            ),
        ];
        let lead = |cat: &str, cell: &str, minute: i64| {
            choose(&rules, cat, cell, minute).map(|(_, r)| r.lead.as_str())
        };
        assert_eq!(
            lead("roads.pothole", "350203004001001", 12 * 60),
            Some("street-4")
        );
        assert_eq!(
            lead("roads.pothole", "350203004001001", 23 * 60),
            Some("night-crew")
        );
        assert_eq!(
            lead("roads.pothole", "350203004001001", 5 * 60 + 59),
            Some("night-crew")
        );
        assert_eq!(
            lead("roads.pothole", "350203005001001", 12 * 60),
            Some("siming")
        );
        assert_eq!(
            lead("roads.pothole", "350206001001001", 12 * 60),
            Some("city-roads")
        );
        assert_eq!(lead("environment.litter", "350206001001001", 12 * 60), None);
    }

    #[test]
    fn local_time_is_utc_plus_eight() {
        // 2026-11-27 15:30 UTC is 23:30 in Xiamen.
        assert_eq!(local_minute(1_795_793_400_000), 23 * 60 + 30);
        assert_eq!(minutes("24:00"), None);
        assert_eq!(minutes("7:00"), None);
    }
}
