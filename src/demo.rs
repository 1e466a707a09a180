//! Made-up personnel and training for demos and benchmarks (`learnmap gen-demo`).
//!
//! Deterministic for a seed: the same `--people` and `--seed` give the same
//! rows, whatever the database. Agencies cover every security level (some
//! change level during 2025), each agency has a tree of divisions and
//! sections, every unit has a head who supervises its people, and each person
//! has a role history, perhaps evidence toward a technical background, and
//! about 30 completions a year over 2024–2026, mostly catalog courses and some
//! outside courses. The dates are fixed, not drawn around today, so the same
//! seed gives the same figures in any year; until the end of 2026 some
//! completions lie in the future. Everything is written in one transaction with
//! `insert_many` in chunks; units and people get explicit ids (after the
//! highest id present) so that parents and supervisors can be set in one pass.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    CertificateCategory, Criterion, Facet, Level, Platform, Role, SecurityCategory, SecurityLevel, agency_level,
    completion, course, evidence, person, role_assignment, unit,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::error::{Error, Result};
use crate::text;

/// The prefix of every demo unit code; the first agency's code tells whether
/// demo data is present already.
pub const CODE_PREFIX: &str = "DEMO";

/// Rows per `INSERT`: at most 14 columns × 1000 rows stays under SQLite's
/// 32,766 and PostgreSQL's 65,535 bind parameters.
const CHUNK: usize = 1000;

#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub people: usize,
    pub seed: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    pub agencies: usize,
    pub units: usize,
    pub people: usize,
    pub roles: usize,
    pub evidence: usize,
    pub completions: usize,
}

/// A tiny deterministic PRNG (splitmix64): good enough for made-up data, the
/// same on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) % n.max(1) as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SURNAMES: &[&str] = &[
    "陳", "林", "黃", "張", "李", "王", "吳", "劉", "蔡", "楊", "許", "鄭", "謝", "郭", "洪", "曾", "邱", "廖", "賴",
    "周",
];
const GIVEN: &[&str] = &[
    "志", "明", "雅", "婷", "俊", "宏", "淑", "芬", "家", "豪", "怡", "君", "建", "安", "美", "玲", "冠", "廷", "佳",
    "蓉", "承", "恩", "宇", "翔",
];
const AGENCY_KINDS: &[&str] = &["局", "處", "所", "中心", "國民小學", "高級中學", "區公所", "醫院"];
const DIVISIONS: &[&str] = &[
    "資訊室",
    "綜合規劃科",
    "系統發展科",
    "網路管理科",
    "資料治理科",
    "資安管理科",
];
const SECTIONS: &[&str] = &["第一股", "第二股", "第三股", "維運組", "開發組"];
const OUTSIDE: &[(&str, Facet, Option<Level>, Option<SecurityCategory>)] = &[
    (
        "ISO 27001 主導稽核員課程",
        Facet::Technical,
        Some(Level::A),
        Some(SecurityCategory::Professional),
    ),
    ("CCNA 認證課程", Facet::Technical, Some(Level::A), None),
    ("雲端架構實務工作坊", Facet::Technical, Some(Level::B), None),
    ("Kubernetes 維運實務", Facet::Technical, Some(Level::B), None),
    ("Python 資料分析入門", Facet::Technical, Some(Level::C), None),
    ("個人資料保護法研習", Facet::Legal, None, None),
    ("政府採購法實務", Facet::Legal, None, None),
    ("數位治理論壇", Facet::Policy, None, None),
    ("專案管理實務", Facet::Management, None, None),
    (
        "資通安全通識講座",
        Facet::Management,
        None,
        Some(SecurityCategory::General),
    ),
    (
        "社交工程防護演練說明會",
        Facet::Policy,
        None,
        Some(SecurityCategory::General),
    ),
    (
        "資安事件應變演練",
        Facet::Technical,
        Some(Level::B),
        Some(SecurityCategory::Professional),
    ),
];

/// Generates the demo data into `db`, which must be migrated and seeded (the
/// completions use the catalog's courses). Refuses when demo data is present.
pub async fn generate(db: &DatabaseConnection, options: DemoOptions) -> Result<DemoReport> {
    let first_code = format!("{CODE_PREFIX}-A01");
    if unit::Entity::find()
        .filter(unit::Column::Code.eq(first_code.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::bad_input(
            "database",
            format!("already holds demo data (unit {first_code}); use an empty database"),
        ));
    }
    let catalog = course::Entity::find()
        .filter(course::Column::ArchivedAt.is_null())
        .order_by_asc(course::Column::Id)
        .all(db)
        .await?;
    if catalog.is_empty() {
        return Err(Error::bad_input(
            "database",
            "has no catalog: run `learnmap seed` first",
        ));
    }

    let unit_base = next_id(
        db,
        unit::Entity::find()
            .select_only()
            .column_as(unit::Column::Id.max(), "m"),
    )
    .await?;
    let person_base = next_id(
        db,
        person::Entity::find()
            .select_only()
            .column_as(person::Column::Id.max(), "m"),
    )
    .await?;
    let mut rng = SplitMix64::new(options.seed);
    let plan = plan(&mut rng, options.people, unit_base, person_base);
    let now = created_at();

    let txn = crate::db::begin_write(db).await?;
    let mut report = DemoReport {
        agencies: plan.agencies,
        units: plan.units.len(),
        people: plan.people.len(),
        ..DemoReport::default()
    };
    insert_chunks(&txn, plan.units.iter().map(|u| u.active(now)).collect()).await?;
    insert_chunks(&txn, plan.levels.clone()).await?;
    insert_chunks(&txn, plan.people.iter().map(|p| p.active(now)).collect()).await?;

    // Roles, evidence and completions, chunk by chunk of people, so memory
    // stays bounded whatever the size.
    for people in plan.people.chunks(2_000) {
        let mut roles = Vec::new();
        let mut evidence = Vec::new();
        let mut completions = Vec::new();
        for p in people {
            let mut rng = SplitMix64::new(options.seed ^ (p.id as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            roles.extend(role_rows(&mut rng, p));
            evidence.extend(evidence_rows(&mut rng, p));
            completions.extend(completion_rows(&mut rng, p, &catalog, now));
        }
        report.roles += roles.len();
        report.evidence += evidence.len();
        report.completions += completions.len();
        insert_chunks(&txn, roles).await?;
        insert_chunks(&txn, evidence).await?;
        insert_chunks(&txn, completions).await?;
    }

    if txn.get_database_backend() == DbBackend::Postgres {
        for table in ["unit", "person"] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .await?;
        }
    }
    txn.commit().await?;

    // Fresh statistics and, on PostgreSQL, a visibility map, as autovacuum
    // would leave them after a real bulk load: without them the planner
    // takes the new tables for empty ones and cannot answer from an index.
    let maintenance = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(maintenance).await?;
    Ok(report)
}

async fn next_id<E: EntityTrait>(db: &DatabaseConnection, query: sea_orm::Select<E>) -> Result<i32> {
    let max: Option<Option<i32>> = query.into_tuple().one(db).await?;
    Ok(max.flatten().unwrap_or(0) + 1)
}

async fn insert_chunks<A>(txn: &sea_orm::DatabaseTransaction, rows: Vec<A>) -> Result<()>
where
    A: ActiveModelTrait + Send + Clone,
{
    for chunk in rows.chunks(CHUNK) {
        <A::Entity as EntityTrait>::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// A fixed instant, so the rows are the same on every run.
fn created_at() -> DateTime<Utc> {
    ymd(2024, 1, 1)
        .and_hms_opt(0, 0, 0)
        .map_or_else(Utc::now, |t| t.and_utc())
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

struct DemoUnit {
    id: i32,
    code: String,
    name: String,
    parent_id: Option<i32>,
}

impl DemoUnit {
    fn active(&self, now: DateTime<Utc>) -> unit::ActiveModel {
        unit::ActiveModel {
            id: Set(self.id),
            code: Set(self.code.clone()),
            name: Set(self.name.clone()),
            parent_id: Set(self.parent_id),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }
}

struct DemoPerson {
    id: i32,
    employee_no: String,
    name: String,
    unit_id: i32,
    supervisor_id: Option<i32>,
    /// Heads a unit: an IT supervisor.
    head: bool,
    joined_on: NaiveDate,
    left_on: Option<NaiveDate>,
    background_override: Option<bool>,
    language: &'static str,
}

impl DemoPerson {
    fn email(&self) -> String {
        format!("{}@demo.gov.taipei", self.employee_no.to_lowercase())
    }

    fn active(&self, now: DateTime<Utc>) -> person::ActiveModel {
        let email = self.email();
        person::ActiveModel {
            id: Set(self.id),
            employee_no: Set(self.employee_no.clone()),
            name: Set(self.name.clone()),
            search_key: Set(text::fold(&format!("{} {} {}", self.name, self.employee_no, email))),
            email: Set(email),
            unit_id: Set(self.unit_id),
            supervisor_id: Set(self.supervisor_id),
            joined_on: Set(Some(self.joined_on)),
            left_on: Set(self.left_on),
            background_override: Set(self.background_override),
            background_reason: Set(self.background_override.map(|_| "人事室認定（示範資料）".to_string())),
            language: Set(self.language.to_string()),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }
}

struct Plan {
    agencies: usize,
    units: Vec<DemoUnit>,
    levels: Vec<agency_level::ActiveModel>,
    people: Vec<DemoPerson>,
}

/// The organisation: agencies (every level, about 800 people each), their
/// unit trees and people, with each unit's head supervising its members and
/// reporting to the parent unit's head.
fn plan(rng: &mut SplitMix64, people: usize, unit_base: i32, person_base: i32) -> Plan {
    let levels_cycle = [
        SecurityLevel::A,
        SecurityLevel::B,
        SecurityLevel::C,
        SecurityLevel::D,
        SecurityLevel::E,
    ];
    let agencies = (people / 800).clamp(5, 250);
    let mut units: Vec<DemoUnit> = Vec::new();
    let mut levels = Vec::new();
    // Per agency, its units in tree order (parents first).
    let mut trees: Vec<Vec<usize>> = Vec::new();
    for a in 0..agencies {
        let id = unit_base + units.len() as i32;
        let level = levels_cycle[a % levels_cycle.len()];
        units.push(DemoUnit {
            id,
            code: format!("{CODE_PREFIX}-A{:02}", a + 1),
            name: format!("臺北市示範{}{}", a + 1, rng.pick(AGENCY_KINDS)),
            parent_id: None,
        });
        levels.push(agency_level::ActiveModel {
            unit_id: Set(id),
            level: Set(level),
            since: Set(ymd(2020, 1, 1)),
            ..Default::default()
        });
        if a % 4 == 3 {
            // Some agencies change level mid-2025.
            levels.push(agency_level::ActiveModel {
                unit_id: Set(id),
                level: Set(levels_cycle[(a + 2) % levels_cycle.len()]),
                since: Set(ymd(2025, 7, 1)),
                ..Default::default()
            });
        }
        let mut tree = vec![units.len() - 1];
        for d in 0..2 + rng.below(3) {
            let div_index = units.len();
            units.push(DemoUnit {
                id: unit_base + div_index as i32,
                code: format!("{CODE_PREFIX}-A{:02}-{}", a + 1, d + 1),
                name: DIVISIONS[d % DIVISIONS.len()].to_string(),
                parent_id: Some(id),
            });
            tree.push(div_index);
            for s in 0..rng.below(4) {
                let index = units.len();
                units.push(DemoUnit {
                    id: unit_base + index as i32,
                    code: format!("{CODE_PREFIX}-A{:02}-{}-{}", a + 1, d + 1, s + 1),
                    name: SECTIONS[s % SECTIONS.len()].to_string(),
                    parent_id: Some(unit_base + div_index as i32),
                });
                tree.push(index);
            }
        }
        trees.push(tree);
    }

    let mut persons: Vec<DemoPerson> = Vec::with_capacity(people);
    let mut head_of: Vec<Option<i32>> = vec![None; units.len()];
    let unit_index = |id: i32| (id - unit_base) as usize;
    // Heads first, agency by agency, then everyone else round-robin over units.
    let new_person = |rng: &mut SplitMix64, n: usize, unit_id: i32, supervisor_id: Option<i32>, head: bool| {
        let name = format!("{}{}{}", rng.pick(SURNAMES), rng.pick(GIVEN), rng.pick(GIVEN));
        let joined_on = ymd(
            2000 + rng.below(24) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        );
        let left_on = (!head && rng.chance(3)).then(|| {
            ymd(
                2025 + rng.below(2) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            )
        });
        let background_override = rng.chance(2).then(|| rng.chance(50));
        DemoPerson {
            id: person_base + n as i32,
            employee_no: format!("D{:07}", n + 1),
            name,
            unit_id,
            supervisor_id,
            head,
            joined_on,
            left_on,
            background_override,
            language: if rng.chance(10) { "en" } else { "zh" },
        }
    };
    for tree in &trees {
        for &u in tree {
            if persons.len() >= people {
                break;
            }
            let parent_head = units[u].parent_id.and_then(|p| head_of[unit_index(p)]);
            let p = new_person(rng, persons.len(), units[u].id, parent_head, true);
            head_of[u] = Some(p.id);
            persons.push(p);
        }
    }
    let all_units: Vec<usize> = trees.iter().flatten().copied().collect();
    while persons.len() < people {
        let u = *rng.pick(&all_units);
        let p = new_person(rng, persons.len(), units[u].id, head_of[u], false);
        persons.push(p);
    }
    Plan {
        agencies,
        units,
        levels,
        people: persons,
    }
}

/// Heads are IT supervisors; others mostly IT staff, some security officers,
/// a few without an IT role; one in ten changed role on 2025-07-01.
fn role_rows(rng: &mut SplitMix64, p: &DemoPerson) -> Vec<role_assignment::ActiveModel> {
    let role = if p.head {
        Some(Role::ItSupervisor)
    } else {
        match rng.below(100) {
            0..=84 => Some(Role::ItStaff),
            85..=94 => Some(Role::SecurityOfficer),
            _ => None,
        }
    };
    let row = |role, starts_on, ends_on| role_assignment::ActiveModel {
        person_id: Set(p.id),
        role: Set(role),
        starts_on: Set(starts_on),
        ends_on: Set(ends_on),
        ..Default::default()
    };
    let Some(role) = role else { return Vec::new() };
    if rng.chance(10) {
        let before = if role == Role::ItStaff {
            Role::SecurityOfficer
        } else {
            Role::ItStaff
        };
        vec![
            row(before, p.joined_on, Some(ymd(2025, 6, 30))),
            row(role, ymd(2025, 7, 1), None),
        ]
    } else {
        vec![row(role, p.joined_on, None)]
    }
}

/// About 45% of people hold evidence toward a technical background; some of
/// it falls short (one certificate category, too few credits).
fn evidence_rows(rng: &mut SplitMix64, p: &DemoPerson) -> Vec<evidence::ActiveModel> {
    let row = |criterion, detail: &str, category, obtained_on, expires_on, centi_amount| evidence::ActiveModel {
        person_id: Set(p.id),
        criterion: Set(criterion),
        detail: Set(detail.to_string()),
        category: Set(category),
        obtained_on: Set(obtained_on),
        expires_on: Set(expires_on),
        centi_amount: Set(centi_amount),
        ..Default::default()
    };
    let obtained = ymd(
        2015 + rng.below(10) as i32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    );
    match rng.below(100) {
        0..=9 => vec![row(
            Criterion::JobSeries,
            "資訊處理職系",
            None,
            Some(p.joined_on),
            None,
            None,
        )],
        10..=19 => vec![row(
            Criterion::IctDegree,
            "資訊工程學系學士",
            None,
            Some(obtained),
            None,
            None,
        )],
        20..=29 => {
            let expires = obtained.checked_add_months(chrono::Months::new(36));
            vec![
                row(
                    Criterion::Certificate,
                    "CISSP",
                    Some(CertificateCategory::Cybersecurity),
                    Some(obtained),
                    expires,
                    None,
                ),
                row(
                    Criterion::Certificate,
                    "CCNP",
                    Some(CertificateCategory::NetworkManagement),
                    Some(obtained),
                    expires,
                    None,
                ),
            ]
        }
        30..=34 => vec![row(
            Criterion::Certificate,
            "OCP",
            Some(CertificateCategory::DatabaseManagement),
            Some(obtained),
            None,
            None,
        )],
        35..=39 => vec![row(
            Criterion::Credits,
            "資訊管理學分班",
            None,
            Some(obtained),
            None,
            Some(1200 + 200 * rng.below(8) as i32),
        )],
        40..=44 => vec![row(
            Criterion::TrainingHours,
            "資訊訓練時數",
            None,
            Some(obtained),
            None,
            Some(4000 + 500 * rng.below(8) as i32),
        )],
        _ => Vec::new(),
    }
}

/// About 30 completions a year (10 to 50 by person) in 2024–2026, 85% catalog
/// courses and 15% outside ones, never the same course twice on a day.
fn completion_rows(
    rng: &mut SplitMix64,
    p: &DemoPerson,
    catalog: &[course::Model],
    now: DateTime<Utc>,
) -> Vec<completion::ActiveModel> {
    let mut rows = Vec::new();
    let mut seen: HashSet<(String, NaiveDate)> = HashSet::new();
    let diligence = 10 + rng.below(41);
    for year in 2024..=2026 {
        let count = diligence + rng.below(7) - 3;
        for _ in 0..count {
            let day = ymd(year, 1, 1) + chrono::Duration::days(rng.below(365) as i64);
            if p.left_on.is_some_and(|left| day > left) || day < p.joined_on {
                continue;
            }
            let row = if rng.chance(85) {
                let c = rng.pick(catalog);
                (
                    Some(c.id),
                    format!("course:{}", c.id),
                    c.title.clone(),
                    c.centihours,
                    c.platform,
                    Some(c.facet),
                    c.level,
                    c.security_category,
                )
            } else {
                let (title, facet, level, category) = *rng.pick(OUTSIDE);
                (
                    None,
                    format!("title:{}", text::fold(title)),
                    title.to_string(),
                    50 * (2 + rng.below(11) as i32),
                    Platform::Other,
                    Some(facet),
                    level,
                    category,
                )
            };
            if !seen.insert((row.1.clone(), day)) {
                continue;
            }
            rows.push(completion::ActiveModel {
                person_id: Set(p.id),
                course_id: Set(row.0),
                course_key: Set(row.1),
                title: Set(row.2),
                centihours: Set(row.3),
                completed_on: Set(day),
                platform: Set(row.4),
                facet: Set(row.5),
                level: Set(row.6),
                security_category: Set(row.7),
                source: Set("import".to_string()),
                created_at: Set(now),
                ..Default::default()
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let a: Vec<u64> = {
            let mut r = SplitMix64::new(7);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = SplitMix64::new(7);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        let plan_a = plan(&mut SplitMix64::new(1), 300, 1, 1);
        let plan_b = plan(&mut SplitMix64::new(1), 300, 1, 1);
        assert_eq!(plan_a.people.len(), 300);
        assert_eq!(
            plan_a.people.iter().map(|p| &p.name).collect::<Vec<_>>(),
            plan_b.people.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
        assert_eq!(plan_a.agencies, 5);
    }
}
