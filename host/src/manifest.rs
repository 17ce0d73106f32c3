//! The workspace's spin.toml, compiled in: the host routes and reads variable defaults from
//! the very manifest that `spin up` uses, so the two cannot drift apart.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use serde::Deserialize;

pub const SPIN_TOML: &str = include_str!("../../spin.toml");

#[derive(Debug, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Deserialize)]
pub struct Variable {
    pub default: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Triggers {
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
pub struct HttpTrigger {
    pub route: String,
    pub component: String,
}

impl Manifest {
    pub fn parse(text: &str) -> anyhow::Result<Manifest> {
        toml::from_str(text).context("spin.toml")
    }

    pub fn embedded() -> anyhow::Result<Manifest> {
        Manifest::parse(SPIN_TOML)
    }

    /// The variables that have a default in `[variables]`, as Spin resolves them.
    pub fn variable_defaults(&self) -> HashMap<String, String> {
        self.variables
            .iter()
            .filter_map(|(name, v)| Some((name.clone(), v.default.clone()?)))
            .collect()
    }
}
