//! What a staff member may see: the [`Principal`] a bearer token stands for (found by `auth`),
//! its role and the part of the city it covers. Every staff route asks it before reading or
//! moving a case, so that scope is enforced in the domain, not only in the pages.

use serde::Serialize;

use crate::case::Role;
use crate::case::store::Case;

/// The kinds of staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    CityOperator,
    DistrictOperator,
    StreetOperator,
    Department,
    GridWorker,
    Admin,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::CityOperator => "city_operator",
            StaffRole::DistrictOperator => "district_operator",
            StaffRole::StreetOperator => "street_operator",
            StaffRole::Department => "department",
            StaffRole::GridWorker => "grid_worker",
            StaffRole::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<StaffRole> {
        [
            StaffRole::CityOperator,
            StaffRole::DistrictOperator,
            StaffRole::StreetOperator,
            StaffRole::Department,
            StaffRole::GridWorker,
            StaffRole::Admin,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
    pub fn is_operator(self) -> bool {
        matches!(
            self,
            StaffRole::CityOperator | StaffRole::DistrictOperator | StaffRole::StreetOperator
        )
    }
}

/// An authenticated staff member (or service token) and the part of the city it covers.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Principal {
    pub role: StaffRole,
    /// The account id, or `operator` / `admin` for the service tokens.
    pub id: String,
    pub name: String,
    /// Operators: the district or street code they cover (`None`: the whole city).
    pub area: Option<String>,
    /// Department staff: their department's code.
    pub department: Option<String>,
    /// Grid workers: the cells they own.
    pub cells: Vec<String>,
}

impl Principal {
    pub fn city_operator() -> Principal {
        Principal {
            role: StaffRole::CityOperator,
            id: "operator".into(),
            name: "operator".into(),
            area: None,
            department: None,
            cells: Vec::new(),
        }
    }
    pub fn admin() -> Principal {
        Principal {
            role: StaffRole::Admin,
            id: "admin".into(),
            name: "admin".into(),
            ..Principal::city_operator()
        }
    }

    /// The role this principal plays in the case state machine.
    pub fn case_role(&self) -> Option<Role> {
        match self.role {
            r if r.is_operator() => Some(Role::Operator),
            StaffRole::Department => Some(Role::Department),
            StaffRole::GridWorker => Some(Role::GridWorker),
            _ => None,
        }
    }

    /// The escalation level an operator works at.
    pub fn level(&self) -> Option<&'static str> {
        match self.role {
            StaffRole::CityOperator => Some("city"),
            StaffRole::DistrictOperator => Some("district"),
            StaffRole::StreetOperator => Some("street"),
            _ => None,
        }
    }

    /// Whether a grid code (a cell, or an area) lies in this principal's part of the city:
    /// everywhere for the city and the administrator, under their area for district and street
    /// operators, their own cells for a grid worker, nowhere for a department (whose scope is
    /// its cases, not a place).
    pub fn covers(&self, grid_code: &str) -> bool {
        match self.role {
            StaffRole::CityOperator | StaffRole::Admin => true,
            StaffRole::DistrictOperator | StaffRole::StreetOperator => self
                .area
                .as_deref()
                .is_none_or(|area| grid_code.starts_with(area)),
            StaffRole::Department => false,
            StaffRole::GridWorker => self.cells.iter().any(|c| c == grid_code),
        }
    }

    /// Whether this principal may see (and so act on) a case at all: by place, or for a
    /// department by being its lead or a helper.
    pub fn may_see(&self, case: &Case) -> bool {
        match (self.role, self.department.as_ref()) {
            (StaffRole::Department, Some(d)) => {
                case.department.as_ref() == Some(d) || case.helpers.contains(d)
            }
            (StaffRole::Department, None) => false,
            _ => self.covers(&case.grid_code),
        }
    }

    /// A SQL condition (on table alias `c`) and its parameters that keep a listing in scope.
    pub fn scope_filter(&self) -> (String, Vec<crate::Value>) {
        match self.role {
            StaffRole::Department => (
                "c.department = ?".into(),
                vec![self.department.clone().unwrap_or_default().into()],
            ),
            _ => self.place_filter("c.grid_code"),
        }
    }

    /// A SQL condition on a grid code column and its parameters that keep rows inside this
    /// principal's part of the city, as [`Principal::covers`] says: nothing for a department.
    pub fn place_filter(&self, column: &str) -> (String, Vec<crate::Value>) {
        match self.role {
            StaffRole::CityOperator | StaffRole::Admin => ("1 = 1".into(), vec![]),
            StaffRole::DistrictOperator | StaffRole::StreetOperator => match &self.area {
                // Grid codes extend their parents', so a prefix range is an index range.
                Some(area) => (
                    format!("{column} >= ? AND {column} < ?"),
                    vec![area.as_str().into(), format!("{area}~").into()],
                ),
                None => ("1 = 1".into(), vec![]),
            },
            StaffRole::Department => ("0 = 1".into(), vec![]),
            StaffRole::GridWorker => {
                let marks = vec!["?"; self.cells.len().max(1)].join(", ");
                let mut params: Vec<crate::Value> =
                    self.cells.iter().map(|c| c.as_str().into()).collect();
                if params.is_empty() {
                    params.push("".into());
                }
                (format!("{column} IN ({marks})"), params)
            }
        }
    }
}

pub const OPERATORS: &[StaffRole] = &[
    StaffRole::CityOperator,
    StaffRole::DistrictOperator,
    StaffRole::StreetOperator,
];
pub const ADMINS: &[StaffRole] = &[StaffRole::Admin];
/// City-wide system work: the outbox of every department, the sweep.
pub const CITY: &[StaffRole] = &[StaffRole::CityOperator];
/// Everyone who works on cases (the administrator manages accounts and the directory, not cases).
pub const CASE_STAFF: &[StaffRole] = &[
    StaffRole::CityOperator,
    StaffRole::DistrictOperator,
    StaffRole::StreetOperator,
    StaffRole::Department,
    StaffRole::GridWorker,
];
