//! The demo city: a deterministic Xiamen-scale map (6 districts → 45 streets → 551 communities
//! → 4,103 cells) over Xiamen's real extent, with the departments and categories a city
//! starts with, its asset signs and one staff account a role. [`seed`] puts it into a deployment:
//! the native host on first start, `POST /api/admin/demo` on Spin; `onegrid demo-city` prints the
//! map alone as GeoJSON. Nothing generated is committed, and seeding never changes what exists.
//!
//! Layout: districts are west-to-east strips, streets north-south bands of a district,
//! communities strips of a street, and cells slanted bands of a community. Every split is a
//! shared straight segment, so neighbouring cells share their edges exactly. A few cells are
//! shrunk (leaving thin gaps) or carry a hole (a pond), so that "nearest cell" is exercised.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::directory::{self, CategoryInput, DepartmentInput};
use crate::grid::code::GridCode;
use crate::grid::{self, GridFeature};
use crate::{Env, Problem};

/// Xiamen's extent (WGS-84): the island and the mainland districts around it.
pub const SOUTH: f64 = 24.40;
pub const NORTH: f64 = 24.75;
pub const WEST: f64 = 117.85;
pub const EAST: f64 = 118.45;

/// Xiamen's six districts with their GB/T 2260 codes, west to east as the strips lie.
const DISTRICTS: [(&str, &str); 6] = [
    ("350205", "海沧区"),
    ("350211", "集美区"),
    ("350203", "思明区"),
    ("350206", "湖里区"),
    ("350212", "同安区"),
    ("350213", "翔安区"),
];
pub const STREETS: usize = 45;
pub const COMMUNITIES: usize = 551;
pub const CELLS: usize = 4103;

/// A small deterministic generator (SplitMix64), so a seed always gives the same city (and the
/// same registry, `demo_registry`).
pub(crate) struct Rng(pub(crate) u64);
impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }
    /// Uniform in 0..n.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True `percent` times in a hundred.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Splits `total` items over `parts` as evenly as possible, the larger shares first.
fn shares(total: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

/// `n` + 1 split positions from `lo` to `hi`, each part 70–130 % of the even share.
fn splits(rng: &mut Rng, lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let weights: Vec<f64> = (0..n).map(|_| rng.range(0.7, 1.3)).collect();
    let sum: f64 = weights.iter().sum();
    let mut at = lo;
    let mut out = vec![lo];
    for w in &weights[..n - 1] {
        at += (hi - lo) * w / sum;
        out.push(at);
    }
    out.push(hi);
    out
}

fn ring(points: &[(f64, f64)]) -> LineString<f64> {
    let mut coords: Vec<Coord<f64>> = points.iter().map(|&(x, y)| Coord { x, y }).collect();
    coords.push(coords[0]);
    LineString(coords)
}

/// The demo map: areas (without shapes) and cells (with shapes).
pub fn city(seed: u64) -> Vec<GridFeature> {
    let mut rng = Rng(seed ^ 0x0E6D_0C17);
    let mut out = Vec::with_capacity(6 + STREETS + COMMUNITIES + CELLS);
    let street_counts = shares(STREETS, DISTRICTS.len());
    let community_counts = shares(COMMUNITIES, STREETS);
    let cell_counts = shares(CELLS, COMMUNITIES);
    let (mut street_no, mut community_no, mut cell_no) = (0, 0, 0);
    let xs = splits(&mut rng, WEST, EAST, DISTRICTS.len());
    for (d, (code, name)) in DISTRICTS.iter().enumerate() {
        let district = GridCode::parse(code).expect("district codes are 6 digits");
        out.push(GridFeature {
            code: district.clone(),
            name: (*name).into(),
            shape: None,
            workers: None,
        });
        let ys = splits(&mut rng, SOUTH, NORTH, street_counts[d]);
        for s in 0..street_counts[d] {
            let street = GridCode::parse(&format!("{code}{:03}", s + 1)).expect("9 digits");
            let street_name = format!("{}{}街道", name.trim_end_matches('区'), s + 1);
            out.push(GridFeature {
                code: street.clone(),
                name: street_name,
                shape: None,
                workers: None,
            });
            let cxs = splits(&mut rng, xs[d], xs[d + 1], community_counts[street_no]);
            for c in 0..community_counts[street_no] {
                let community = GridCode::parse(&format!("{}{:03}", street.as_str(), c + 1))
                    .expect("12 digits");
                out.push(GridFeature {
                    code: community.clone(),
                    name: format!("第{}社区", c + 1),
                    shape: None,
                    workers: None,
                });
                let (x0, x1) = (cxs[c], cxs[c + 1]);
                let n = cell_counts[community_no];
                // Slanted splits: each one's ends are placed independently on the two sides.
                let left = splits(&mut rng, ys[s], ys[s + 1], n);
                let right = splits(&mut rng, ys[s], ys[s + 1], n);
                for k in 0..n {
                    let cell = GridCode::parse(&format!("{}{:03}", community.as_str(), k + 1))
                        .expect("15 digits");
                    let mut corners = [
                        (x0, left[k]),
                        (x1, right[k]),
                        (x1, right[k + 1]),
                        (x0, left[k + 1]),
                    ];
                    let mut holes = Vec::new();
                    let (cx, cy) = (
                        corners.iter().map(|p| p.0).sum::<f64>() / 4.0,
                        corners.iter().map(|p| p.1).sum::<f64>() / 4.0,
                    );
                    if cell_no % 701 == 350 {
                        // A gap: this cell keeps 90 % of its size, leaving a thin strip uncovered.
                        for p in &mut corners {
                            *p = (cx + (p.0 - cx) * 0.9, cy + (p.1 - cy) * 0.9);
                        }
                    } else if cell_no % 499 == 250 {
                        // A pond inside the cell: a hole no cell covers.
                        let (hx, hy) = (
                            (x1 - x0) * 0.15,
                            (right[k + 1] - right[k]).min(left[k + 1] - left[k]) * 0.15,
                        );
                        holes.push(ring(&[
                            (cx - hx, cy - hy),
                            (cx - hx, cy + hy),
                            (cx + hx, cy + hy),
                            (cx + hx, cy - hy),
                        ]));
                    }
                    let shape = MultiPolygon(vec![Polygon::new(ring(&corners), holes)]);
                    out.push(GridFeature {
                        code: cell,
                        name: format!("第{}网格", k + 1),
                        shape: Some(shape),
                        workers: Some(Vec::new()),
                    });
                    cell_no += 1;
                }
                community_no += 1;
            }
            street_no += 1;
        }
    }
    assign_workers(seed, &mut out);
    out
}

/// Grid workers of the demo city, as the article counts them (8,200+).
pub const WORKERS: usize = 8200;
const SURNAMES: [&str; 20] = [
    "陈", "林", "黄", "张", "李", "王", "吴", "刘", "蔡", "杨", "郑", "许", "谢", "洪", "郭", "曾",
    "庄", "苏", "叶", "周",
];
const GIVEN_NAMES: [&str; 24] = [
    "志强", "丽华", "建国", "秀英", "海燕", "文杰", "晓明", "美玲", "国华", "淑芬", "伟", "芳",
    "静", "敏", "磊", "思远", "雅婷", "俊杰", "金水", "阿明", "玉兰", "振华", "丽娟", "建平",
];
/// Mobile prefixes of the three carriers.
const PHONE_PREFIXES: [&str; 12] = [
    "138", "139", "135", "136", "137", "150", "151", "158", "159", "186", "188", "189",
];

/// Gives every cell 1 to 3 workers, [`WORKERS`] in all, named and numbered deterministically.
/// Its own random stream, so the shapes of a seed do not depend on it.
fn assign_workers(seed: u64, features: &mut [GridFeature]) {
    let mut rng = Rng(seed ^ 0x5EED_6E1D);
    let cells: Vec<usize> = (0..features.len())
        .filter(|&i| features[i].workers.is_some())
        .collect();
    // Mostly two a cell, some one or three; then nudged until the total is exact.
    let mut counts: Vec<usize> = cells
        .iter()
        .map(|_| [1, 2, 2, 3][(rng.next() % 4) as usize])
        .collect();
    let target = WORKERS.clamp(cells.len(), cells.len() * 3);
    let mut total: usize = counts.iter().sum();
    for i in (0..counts.len()).cycle() {
        if total == target {
            break;
        }
        if total > target && counts[i] > 1 {
            counts[i] -= 1;
            total -= 1;
        } else if total < target && counts[i] < 3 {
            counts[i] += 1;
            total += 1;
        }
    }
    let mut number = 0;
    for (&i, &n) in cells.iter().zip(&counts) {
        let list = (0..n)
            .map(|_| {
                number += 1;
                let name = format!(
                    "{}{}",
                    SURNAMES[(rng.next() % SURNAMES.len() as u64) as usize],
                    GIVEN_NAMES[(rng.next() % GIVEN_NAMES.len() as u64) as usize]
                );
                let prefix = PHONE_PREFIXES[(rng.next() % PHONE_PREFIXES.len() as u64) as usize];
                let phone = format!("{prefix}{:08}", rng.next() % 100_000_000);
                grid::GridWorker {
                    id: format!("gw{number:05}"),
                    name,
                    phone,
                }
            })
            .collect();
        features[i].workers = Some(list);
    }
}

/// A larger region for benchmarks at national scale: `cols` × `rows` demo cities (seeds
/// `seed`, `seed + 1`, …) side by side, each moved by the demo city's extent and given its own
/// district codes (`10`…`99` for the first two digits), so that codes stay unique.
pub fn region(seed: u64, cols: usize, rows: usize) -> Vec<GridFeature> {
    assert!(cols * rows <= 90, "two digits of district code per city");
    let (width, height) = (EAST - WEST, NORTH - SOUTH);
    let mut out = Vec::with_capacity(cols * rows * (6 + STREETS + COMMUNITIES + CELLS));
    for n in 0..cols * rows {
        let (dx, dy) = ((n % cols) as f64 * width, (n / cols) as f64 * height);
        for mut f in city(seed + n as u64) {
            let code = format!("{}{}", 10 + n, &f.code.as_str()[2..]);
            f.code = GridCode::parse(&code).expect("same length, digits");
            if let Some(shape) = &mut f.shape {
                shape.0.iter_mut().for_each(|poly| {
                    poly.exterior_mut(|r| {
                        r.0.iter_mut()
                            .for_each(|c| (c.x, c.y) = (c.x + dx, c.y + dy))
                    });
                    poly.interiors_mut(|rs| {
                        rs.iter_mut().for_each(|r| {
                            r.0.iter_mut()
                                .for_each(|c| (c.x, c.y) = (c.x + dx, c.y + dy))
                        })
                    });
                });
            }
            out.push(f);
        }
    }
    out
}

/// The demo map as a GeoJSON FeatureCollection, the format `POST /api/admin/grids` takes.
pub fn city_geojson(seed: u64) -> String {
    let features: Vec<Json> = city(seed)
        .into_iter()
        .map(|f| {
            let geometry = match &f.shape {
                Some(shape) => {
                    json!({"type": "MultiPolygon", "coordinates": grid::index::rings_of(shape)})
                }
                None => Json::Null,
            };
            let mut properties = json!({
                "code": f.code.as_str(), "name": f.name, "level": f.code.level(),
                "parent": f.code.parent().map(String::from),
            });
            if let Some(workers) = &f.workers {
                properties["workers"] = json!(workers);
            }
            json!({"type": "Feature", "properties": properties, "geometry": geometry})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// The departments a demo city starts with: (code, name). They have no webhook endpoint until
/// an administrator sets one; until then they work in the console.
pub const DEPARTMENTS: [(&str, &str); 6] = [
    ("gardens", "市政园林局 Municipal Gardens Bureau"),
    ("municipal", "市政公用事业中心 Municipal Utilities Centre"),
    ("water", "水务集团 Water Supply Group"),
    ("urban", "城市管理行政执法局 Urban Management Bureau"),
    ("traffic", "交警支队 Traffic Police"),
    ("justice", "司法所 Judicial Office (mediation)"),
];

/// Categories after the digital city-management classification (部件 components: 01 public
/// utilities, 02 roads and traffic, 03 street environment, 04 landscaping, 05 buildings and land,
/// 06 other; 事件 events: 01 street environment, 02 advertising, 03 construction,
/// 04 emergencies, 05 street order, 06 other), plus mediation of disputes.
/// (code, zh, en, kind, major class, department, priority, sign-for / handle / verify hours).
/// (code, zh, en, kind, major class, department, priority, [sign-for, handle, verify] hours).
pub type DemoCategory = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    [f64; 3],
);

pub const CATEGORIES: [DemoCategory; 13] = [
    (
        "utilities.manhole_cover",
        "井盖破损或缺失",
        "Broken or missing manhole cover",
        "component",
        "C01 公用设施 Public utilities",
        "municipal",
        1,
        [1.0, 24.0, 12.0],
    ),
    (
        "utilities.streetlight",
        "路灯不亮",
        "Streetlight out",
        "component",
        "C01 公用设施 Public utilities",
        "municipal",
        2,
        [4.0, 72.0, 24.0],
    ),
    (
        "utilities.water_leak",
        "供水管道漏水",
        "Water pipe leak",
        "component",
        "C01 公用设施 Public utilities",
        "water",
        1,
        [1.0, 24.0, 12.0],
    ),
    (
        "roads.pothole",
        "道路坑洼",
        "Pothole",
        "component",
        "C02 道路交通 Roads and traffic",
        "municipal",
        2,
        [2.0, 72.0, 24.0],
    ),
    (
        "landscape.greenway_sign",
        "绿道标识损坏",
        "Damaged greenway sign",
        "component",
        "C04 园林绿化 Landscaping",
        "gardens",
        3,
        [4.0, 120.0, 48.0],
    ),
    (
        "landscape.fallen_tree",
        "树木倒伏",
        "Fallen tree",
        "component",
        "C04 园林绿化 Landscaping",
        "gardens",
        1,
        [1.0, 12.0, 12.0],
    ),
    (
        "environment.litter",
        "暴露垃圾",
        "Exposed rubbish",
        "event",
        "E01 市容环境 Street environment",
        "urban",
        2,
        [2.0, 24.0, 24.0],
    ),
    (
        "advertising.illegal_ad",
        "违规广告张贴",
        "Illegal advertising",
        "event",
        "E02 宣传广告 Advertising",
        "urban",
        3,
        [4.0, 72.0, 48.0],
    ),
    (
        "construction.noise",
        "施工噪音扰民",
        "Construction noise",
        "event",
        "E03 施工管理 Construction",
        "urban",
        2,
        [2.0, 24.0, 24.0],
    ),
    (
        "emergency.road_collapse",
        "路面塌陷",
        "Road collapse",
        "event",
        "E04 突发事件 Emergencies",
        "municipal",
        1,
        [0.5, 12.0, 6.0],
    ),
    (
        "order.street_vendor",
        "占道经营",
        "Street vending on the road",
        "event",
        "E05 街面秩序 Street order",
        "urban",
        2,
        [2.0, 24.0, 24.0],
    ),
    (
        "order.illegal_parking",
        "违章停车",
        "Illegal parking",
        "event",
        "E05 街面秩序 Street order",
        "traffic",
        2,
        [1.0, 8.0, 12.0],
    ),
    (
        "dispute.neighbourhood",
        "邻里纠纷",
        "Neighbourhood dispute",
        "dispute",
        "D01 矛盾纠纷 Disputes",
        "justice",
        2,
        [24.0, 720.0, 168.0],
    ),
];

/// What [`seed`] found and made: `POST /api/admin/demo` answers it as it is.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Seeded {
    /// Whether this call created anything at all.
    pub created: bool,
    pub map: MapSeeded,
    pub departments: Tally,
    pub categories: Tally,
    pub assets: Tally,
    /// The demo staff, one account a role, in [`STAFF`] order.
    pub staff: Vec<StaffSeeded>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MapSeeded {
    /// False when the demo map was already the current map.
    pub created: bool,
    pub map_version: i64,
}

/// How many of a kind this call created, and how many were there already (and left as they were).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Tally {
    pub created: usize,
    pub existing: usize,
}

impl Tally {
    fn count(&mut self, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.existing += 1;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StaffSeeded {
    pub username: String,
    pub role: String,
    pub created: bool,
    /// The password it was created with: only in the answer of the call that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The demo city's staff, one account a role, so every staff page can be tried at once:
/// (username, display name, role, scope). The district operator has the first district, the
/// department account the gardens bureau, the grid worker roster's first worker.
pub const STAFF: [(&str, &str, &str, &str); 5] = [
    ("operator", "市综治中心值班员", "city_operator", ""),
    (
        "district",
        "区综治中心值班员",
        "district_operator",
        "district",
    ),
    ("gardens", "园林局受理员", "department", "gardens"),
    ("worker", "网格员", "grid_worker", "worker"),
    ("admin", "系统管理员", "admin", ""),
];

/// Seeds the whole demo city of `seed` (map, departments, categories, assets, staff accounts),
/// creating only what is missing and leaving what exists as it is (an administrator's webhook
/// URL, a changed password): a second call creates nothing. `password` gives the password of
/// each staff account it creates, by username. A deployment whose current map is not this demo
/// city is refused (409): the directory, assets and accounts belong to its cells. Every part is
/// idempotent, so a call that failed half-way is completed by the next one.
pub async fn seed<E: Env>(
    env: &E,
    seed: u64,
    password: impl Fn(&str) -> String,
) -> Result<Seeded, Problem> {
    crate::app::schema::ensure(env).await?;
    let now = env.now_ms();
    let map = city(seed);
    let map_seeded = match grid::current_version(env).await? {
        None => MapSeeded {
            created: true,
            map_version: grid::import(env, map.clone()).await?.map_version,
        },
        Some(version) => {
            let first_cell = map.iter().find(|f| f.shape.is_some()).map(|f| &f.code);
            let found = match first_cell {
                Some(code) => grid::detail(env, code).await?.is_some(),
                None => false,
            };
            if !found {
                return Err(Problem::conflict(format!(
                    "map version {version} is not the demo city of seed {seed}: the demo's \
                     directory, assets and accounts belong to its cells"
                )));
            }
            MapSeeded {
                created: false,
                map_version: version,
            }
        }
    };
    let mut departments = Tally::default();
    for (code, input) in demo_departments(&map) {
        let missing = directory::department(env, &code).await?.is_none();
        if missing {
            directory::upsert_department(env, &code, &input, now).await?;
        }
        departments.count(missing);
    }
    let mut categories = Tally::default();
    for (code, zh, en, kind, major, department, priority, [sign_for, handle, verify]) in CATEGORIES
    {
        let missing = directory::category(env, code).await?.is_none();
        if missing {
            let input = CategoryInput {
                major: major.into(),
                priority,
                sign_for_hours: sign_for,
                handle_hours: handle,
                verify_hours: verify,
                ..CategoryInput::new(zh, en, kind, department)
            };
            directory::upsert_category(env, code, &input).await?;
        }
        categories.count(missing);
    }
    let mut new_assets = Vec::new();
    let mut asset_tally = Tally::default();
    for asset in assets(&map) {
        let missing = crate::assets::get(env, &asset.id).await?.is_none();
        asset_tally.count(missing);
        if missing {
            new_assets.push(asset);
        }
    }
    crate::assets::store(env, &new_assets, now).await?;
    let staff = staff(env, &map, password, now).await?;
    let created = map_seeded.created
        || departments.created > 0
        || categories.created > 0
        || asset_tally.created > 0
        || staff.iter().any(|s| s.created);
    Ok(Seeded {
        created,
        map: map_seeded,
        departments,
        categories,
        assets: asset_tally,
        staff,
    })
}

/// The departments of the demo city: [`DEPARTMENTS`], then each street's office (where its
/// events go first), without webhook endpoints.
fn demo_departments(map: &[GridFeature]) -> Vec<(String, DepartmentInput)> {
    let plain = |name: String, area_code: Option<String>| DepartmentInput {
        name,
        webhook_url: None,
        secret: None,
        area_code,
        secret_overlap_hours: None,
    };
    let offices = map
        .iter()
        .filter(|f| f.code.level() == crate::grid::code::Level::Street)
        .map(|street| {
            (
                format!("street-{}", street.code.as_str()),
                plain(
                    format!("{}办事处", street.name),
                    Some(street.code.as_str().to_owned()),
                ),
            )
        });
    DEPARTMENTS
        .iter()
        .map(|(code, name)| ((*code).to_owned(), plain((*name).into(), None)))
        .chain(offices)
        .collect()
}

/// Creates the [`STAFF`] accounts that do not exist, each with `password(username)`.
async fn staff<E: Env>(
    env: &E,
    map: &[GridFeature],
    password: impl Fn(&str) -> String,
    now: i64,
) -> Result<Vec<StaffSeeded>, Problem> {
    use crate::access::accounts::{self, NewAccount};
    let district = map
        .iter()
        .find(|f| f.code.level() == crate::grid::code::Level::District)
        .map(|f| f.code.as_str().to_owned());
    let first_worker = map
        .iter()
        .find_map(|f| f.workers.as_ref()?.first())
        .map(|w| w.id.clone());
    let mut out = Vec::with_capacity(STAFF.len());
    for (username, name, role, scope) in STAFF {
        let exists = accounts::by_username(env, username).await?.is_some();
        let mut seeded = StaffSeeded {
            username: username.into(),
            role: role.into(),
            created: !exists,
            password: None,
        };
        if !exists {
            let secret = password(username);
            let mut account = NewAccount {
                username: username.into(),
                display_name: name.into(),
                password: secret.clone(),
                role: role.into(),
                area_code: None,
                department: None,
                cells: Vec::new(),
                worker_id: None,
            };
            match scope {
                "district" => account.area_code = district.clone(),
                "gardens" => account.department = Some("gardens".into()),
                "worker" => account.worker_id = first_worker.clone(),
                _ => {}
            }
            accounts::create(env, account, now).await?;
            seeded.password = Some(secret);
        }
        out.push(seeded);
    }
    Ok(out)
}

/// Every how many cells the demo city has a greenway marker, and a streetlight half-way.
pub const ASSET_EVERY: usize = 10;

/// The demo city's assets: in every [`ASSET_EVERY`]th cell a greenway marker, and in the cell
/// half-way between a streetlight, each at a point inside its cell (the centroid when it is
/// inside; an irregular cell's centroid may not be). Deterministic: ids follow the cell order.
pub fn assets(map: &[GridFeature]) -> Vec<crate::assets::Asset> {
    use crate::assets::{Asset, AssetKind};
    use geo::{Centroid, Contains, InteriorPoint};
    let cells = map
        .iter()
        .filter(|f| f.code.level() == crate::grid::code::Level::Cell);
    let mut out = Vec::new();
    for (i, cell) in cells.enumerate() {
        let (kind, prefix, department, name) = match i % ASSET_EVERY {
            0 => (AssetKind::GreenwayMarker, "GW", "gardens", "绿道标识"),
            5 => (AssetKind::Streetlight, "SL", "municipal", "路灯"),
            _ => continue,
        };
        let Some(shape) = &cell.shape else { continue };
        let point = shape
            .centroid()
            .filter(|c| shape.contains(c))
            .or_else(|| shape.interior_point());
        let Some(point) = point else { continue };
        out.push(Asset {
            id: format!("{prefix}-{:06}", i / ASSET_EVERY + 1),
            kind,
            name: format!("{name} {}", cell.name),
            lat: point.y(),
            lng: point.x(),
            grid_code: cell.code.as_str().to_owned(),
            department: department.to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::code::Level;

    #[test]
    fn the_demo_city_has_xiamens_counts_and_is_deterministic() {
        let city = city(1);
        let count = |l: Level| city.iter().filter(|f| f.code.level() == l).count();
        assert_eq!(count(Level::District), 6);
        assert_eq!(count(Level::Street), STREETS);
        assert_eq!(count(Level::Community), COMMUNITIES);
        assert_eq!(count(Level::Cell), CELLS);
        assert!(grid::check_hierarchy(&city).is_ok());
        let workers: Vec<usize> = city
            .iter()
            .filter_map(|f| f.workers.as_ref())
            .map(Vec::len)
            .collect();
        assert_eq!(workers.len(), CELLS, "every cell has its list");
        assert_eq!(workers.iter().sum::<usize>(), WORKERS);
        assert!(workers.iter().all(|n| (1..=3).contains(n)), "1 to 3 a cell");
        let first = &city.iter().find_map(|f| f.workers.as_ref()).unwrap()[0];
        assert_eq!(first.id, "gw00001");
        assert_eq!(first.phone.len(), 11);
        assert!(
            SURNAMES.iter().any(|s| first.name.starts_with(s)),
            "{}",
            first.name
        );
        assert_eq!(city_geojson(7), city_geojson(7));
        assert_ne!(city_geojson(7), city_geojson(8));
    }

    #[test]
    fn a_region_repeats_the_city_with_its_own_codes() {
        let region = region(1, 2, 1);
        let cells: Vec<&GridFeature> = region
            .iter()
            .filter(|f| f.code.level() == Level::Cell)
            .collect();
        assert_eq!(cells.len(), 2 * CELLS);
        let codes: std::collections::HashSet<&str> =
            region.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes.len(), region.len(), "codes are unique");
        assert!(grid::check_hierarchy(&region).is_ok());
        use geo::BoundingRect;
        let east = cells[CELLS]
            .shape
            .as_ref()
            .unwrap()
            .bounding_rect()
            .unwrap();
        assert!(
            east.min().x >= EAST - 1e-9,
            "the second city lies east of the first"
        );
    }

    #[test]
    fn the_geojson_parses_back_to_the_same_map() {
        let parsed = grid::parse_feature_collection(city_geojson(3).as_bytes()).unwrap();
        // Compared without printing: a diff of 4,700 features helps nobody.
        assert!(
            parsed == city(3),
            "the parsed map differs from the generated one"
        );
    }
}
