//! The demo city's registry: standard addresses, households and residents for every one of its
//! 4,103 cells, deterministic like the map (`demo::city`): the same seed and size, the same
//! people. About 2.5 residents a household in buildings of three units, ages and tags drawn so
//! that the targeted lists are not empty (the elderly, people living alone, hardship…). Names,
//! ID numbers (with valid check digits) and phone numbers are made up; they are sealed and
//! hashed like real ones. Loaded by `onegrid import demo-registry` and the registry benchmark.

use crate::demo::{self, Rng};
use crate::grid::code::Level;
use crate::registry::keys::RegistryKeys;
use crate::registry::{self, Address, BulkPerson, Household};
use crate::{Database, Problem, db};

/// Xiamen's registered population at the demo city's scale.
pub const DEFAULT_RESIDENTS: usize = 1_000_000;
/// Cells written per transaction.
const CELLS_PER_TRANSACTION: usize = 40;

const SURNAMES: &[&str] = &[
    "陈", "林", "黄", "张", "李", "王", "吴", "刘", "蔡", "杨", "郑", "许", "谢", "洪", "郭", "邱",
    "曾", "廖", "赖", "徐", "周", "叶", "苏", "庄", "吕", "江", "何", "萧", "罗", "高",
];
const GIVEN: &[&str] = &[
    "志", "强", "明", "华", "建", "国", "文", "丽", "芳", "敏", "静", "伟", "秀", "英", "军", "平",
    "玲", "俊", "杰", "红", "海", "燕", "辉", "婷", "鹏", "琳", "宇", "欣", "峰", "梅", "雪", "涛",
];
const ROADS: &[&str] = &[
    "嘉禾路",
    "湖滨南路",
    "莲前西路",
    "厦禾路",
    "仙岳路",
    "吕岭路",
    "环岛路",
    "思明南路",
    "中山路",
    "集美大道",
    "杏林湾路",
    "海沧大道",
    "同安大道",
    "翔安南路",
];

/// One cell's generated registry.
pub struct CellRegistry {
    pub addresses: Vec<Address>,
    pub households: Vec<Household>,
    pub people: Vec<BulkPerson>,
}

/// The cells of the demo city and the centre of each (WGS-84).
fn cells(seed: u64) -> Vec<(String, f64, f64)> {
    demo::city(seed)
        .into_iter()
        .filter(|f| f.code.level() == Level::Cell)
        .filter_map(|f| {
            let shape = f.shape?;
            let ring = &shape.0.first()?.exterior().0;
            let n = ring.len().saturating_sub(1).max(1) as f64;
            let (x, y) = ring[..ring.len().saturating_sub(1).max(1)]
                .iter()
                .fold((0.0, 0.0), |(x, y), c| (x + c.x, y + c.y));
            Some((f.code.as_str().to_owned(), y / n, x / n))
        })
        .collect()
}

/// The registry of cell number `index` (of `count`), holding its share of `residents`.
fn cell_registry(
    seed: u64,
    index: usize,
    count: usize,
    cell: &(String, f64, f64),
    residents: usize,
    this_year: i64,
) -> CellRegistry {
    let (code, lat, lng) = cell;
    let mut rng = Rng(seed ^ 0x5EED_0FBE_0B1E ^ (index as u64).wrapping_mul(0x1000_0001));
    let share = residents / count + usize::from(index < residents % count);
    // The residents of the cells before this one.
    let before = index * (residents / count) + index.min(residents % count);
    let road = ROADS[index % ROADS.len()];
    let number = 1 + index % 300;
    let mut out = CellRegistry {
        addresses: Vec::new(),
        households: Vec::new(),
        people: Vec::new(),
    };
    let mut placed = 0;
    let mut household_no = 0;
    while placed < share {
        let size = (1 + rng.below(4)).min(share - placed);
        let (building, unit, floor, room) = (
            1 + household_no / 36,
            1 + household_no / 12 % 3,
            1 + household_no / 2 % 6,
            1 + household_no % 2,
        );
        let address_id = format!("A-{code}-{household_no:04}");
        let household_id = format!("H-{code}-{household_no:04}");
        let (building, unit, room) = (
            format!("{building}号楼"),
            format!("{unit}单元"),
            format!("{floor}0{room}"),
        );
        let road = format!("{road} {number} 号");
        out.addresses.push(Address {
            id: address_id.clone(),
            grid_code: code.clone(),
            label: format!("{road} {building} {unit} {room}"),
            road,
            building,
            unit,
            room,
            lat: lat + (rng.below(200) as f64 - 100.0) * 1e-6,
            lng: lng + (rng.below(200) as f64 - 100.0) * 1e-6,
        });
        out.households.push(Household {
            id: household_id.clone(),
            address_id,
            grid_code: code.clone(),
        });
        for member in 0..size {
            let age = match member {
                0 if size == 1 => 30 + rng.below(66),
                0 | 1 => 25 + rng.below(60),
                _ => rng.below(25),
            } as i64;
            let birth_year = this_year - age;
            let surname = SURNAMES[rng.below(SURNAMES.len())];
            let given: String = (0..1 + rng.below(2))
                .map(|_| GIVEN[rng.below(GIVEN.len())])
                .collect();
            // Month, day, serial and the region's last digits come from the person's number
            // in the whole city, so that no two people share an ID number.
            let g = before + placed;
            let first17 = format!(
                "3502{:02}{birth_year:04}{:02}{:02}{:03}",
                g / 336_000 % 100,
                1 + g % 12,
                1 + g / 12 % 28,
                g / 336 % 1000
            );
            let check = registry::resident_id_check_char(&first17);
            let mut tags = Vec::new();
            if age >= 80 {
                tags.push("elderly");
            }
            if size == 1 && age >= 60 {
                tags.push("living_alone");
            }
            if rng.chance(3) {
                tags.push("hardship");
            }
            if rng.chance(2) {
                tags.push("disability");
            }
            if rng.chance(10) {
                tags.push("migrant");
            }
            out.people.push(BulkPerson {
                id: format!("P-{code}-{:05}", placed),
                household_id: household_id.clone(),
                grid_code: code.clone(),
                name: format!("{surname}{given}"),
                relation: match member {
                    0 => "户主",
                    1 => "配偶",
                    _ => "子女",
                },
                birth_year,
                id_number: format!("{first17}{check}"),
                phone: format!("13{:09}", rng.next() % 1_000_000_000),
                tags,
            });
            placed += 1;
        }
        household_no += 1;
    }
    out
}

/// What a load wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub cells: usize,
    pub addresses: usize,
    pub households: usize,
    pub residents: usize,
}

/// Loads the demo registry of `residents` people into an empty registry, `CELLS_PER_TRANSACTION`
/// cells a transaction; `progress` hears the cells done so far. Refused (409) when residents
/// are registered already: a demo load never mixes with real data.
pub async fn load<D: Database>(
    db: &D,
    keys: &RegistryKeys,
    seed: u64,
    residents: usize,
    now: i64,
    mut progress: impl FnMut(usize, usize),
) -> Result<Loaded, Problem> {
    let existing = registry::resident_count(db).await?;
    if existing > 0 {
        return Err(Problem::conflict(format!(
            "the registry holds {existing} residents already; the demo registry loads only into an empty one"
        )));
    }
    let this_year = crate::time::civil_from_days(crate::time::city_day(now)).0;
    let cells = cells(seed);
    let mut loaded = Loaded {
        cells: cells.len(),
        addresses: 0,
        households: 0,
        residents: 0,
    };
    for (batch, chunk) in cells.chunks(CELLS_PER_TRANSACTION).enumerate() {
        let first = batch * CELLS_PER_TRANSACTION;
        let made: Vec<CellRegistry> = chunk
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                cell_registry(seed, first + i, cells.len(), cell, residents, this_year)
            })
            .collect();
        db::in_transaction(db, async {
            for cell in &made {
                registry::bulk_insert(
                    db,
                    keys,
                    &cell.addresses,
                    &cell.households,
                    &cell.people,
                    now,
                )
                .await?;
            }
            Ok(())
        })
        .await?;
        for cell in &made {
            loaded.addresses += cell.addresses.len();
            loaded.households += cell.households.len();
            loaded.residents += cell.people.len();
        }
        progress(first + chunk.len(), cells.len());
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_people_with_valid_id_numbers() {
        let cells = cells(1);
        assert_eq!(cells.len(), demo::CELLS);
        let a = cell_registry(1, 7, cells.len(), &cells[7], 1_000_000, 2026);
        let b = cell_registry(1, 7, cells.len(), &cells[7], 1_000_000, 2026);
        assert_eq!(a.people.len(), 1_000_000 / demo::CELLS + 1);
        assert_eq!(
            a.people.iter().map(|p| &p.id_number).collect::<Vec<_>>(),
            b.people.iter().map(|p| &p.id_number).collect::<Vec<_>>()
        );
        for p in &a.people {
            assert_eq!(
                registry::id_number_problem(&p.id_number),
                None,
                "{}",
                p.id_number
            );
            assert!(a.households.iter().any(|h| h.id == p.household_id));
        }
        assert!(a.households.len() * 2 < a.people.len() + a.households.len());
    }
}
