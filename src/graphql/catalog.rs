//! The catalog in GraphQL: facets, technical domains, courses and their edits.

use async_graphql::connection::{Connection, Edge, EmptyFields, OpaqueCursor};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use entity::{course, topic};
use sea_orm::Iterable;

use super::access::{actor, require_admin};
use super::error::{ServiceResultExt, bad_argument};
use super::pagination::{Counted, after_id, page_size};
use super::scalars::DateTime;
use crate::catalog::{self, CourseDraft, CourseFilter, CoursePatch, names};
use crate::hours::Hours;

/// A facet (面向) of the learning map.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::Facet")]
pub enum Facet {
    /// 政策面
    Policy,
    /// 管理面
    Management,
    /// 法制面
    Legal,
    /// 技術面
    Technical,
    /// 資安面: served by courses of any facet that carry a security category.
    Security,
}

/// The level (等級) of a technical course.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::Level")]
pub enum Level {
    /// 專業 professional
    A,
    /// 進階 advanced
    B,
    /// 基礎 basic
    C,
    /// 通識 general
    D,
}

/// A technical domain (領域) of the learning map.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::Domain")]
pub enum Domain {
    /// 網路
    Network,
    /// 主機 (virtualisation)
    Hosts,
    /// 資料庫
    Database,
    /// 程式開發
    Development,
    /// 數據分析
    DataAnalysis,
    /// 軟體應用
    SoftwareApplications,
    /// 新興科技
    EmergingTechnology,
}

/// The e-learning platform of a course, told by its link.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::Platform")]
pub enum Platform {
    /// 臺北e大, elearning.taipei
    TaipeiElearning,
    /// e等公務園+學習平臺, elearn.hrd.gov.tw
    HrdElearn,
    /// Any other site.
    Other,
}

/// The security-training category of a course (platform codes 522 and 523).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::SecurityCategory")]
pub enum SecurityCategory {
    /// 資通安全通識教育訓練, code 522
    General,
    /// 資通安全專業課程訓練, code 523
    Professional,
}

/// A facet with its Table 1 topics.
#[derive(SimpleObject)]
pub struct FacetInfo {
    code: Facet,
    /// The name in Traditional Chinese, e.g. 政策面.
    name_zh: String,
    name_en: String,
    /// The topics of the facet, in source order; for the technical facet see
    /// `technicalDomains`, for security the national regulation.
    topics: Vec<String>,
}

/// A technical domain with its topics per level.
#[derive(SimpleObject)]
pub struct TechnicalDomain {
    code: Domain,
    name_zh: String,
    name_en: String,
    /// One entry per level A to D; a level with no topics has an empty list.
    levels: Vec<LevelTopics>,
}

/// The topics of one cell of the technical grid.
#[derive(SimpleObject)]
pub struct LevelTopics {
    level: Level,
    /// 專業, 進階, 基礎 or 通識.
    name_zh: String,
    name_en: String,
    topics: Vec<String>,
}

/// A course of the catalog.
pub struct Course(pub course::Model);

#[Object]
impl Course {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Hours of the course, in steps of 0.5.
    async fn hours(&self) -> f64 {
        Hours::from_centihours(self.0.centihours.into()).as_f64()
    }

    /// Where to take the course.
    async fn link(&self) -> &str {
        &self.0.link
    }

    async fn platform(&self) -> Platform {
        self.0.platform.into()
    }

    /// The course's identifier on its platform, read from the link; null for
    /// other platforms.
    async fn platform_code(&self) -> Option<&str> {
        self.0.platform_code.as_deref()
    }

    async fn facet(&self) -> Facet {
        self.0.facet.into()
    }

    /// The level of a technical course; null for other facets.
    async fn level(&self) -> Option<Level> {
        self.0.level.map(Into::into)
    }

    /// The technical domain, where known.
    async fn domain(&self) -> Option<Domain> {
        self.0.domain.map(Into::into)
    }

    /// Set when the course also counts toward security training.
    async fn security_category(&self) -> Option<SecurityCategory> {
        self.0.security_category.map(Into::into)
    }

    /// True when an admin archived the course: it stays in history but leaves
    /// listings.
    async fn archived(&self) -> bool {
        self.0.archived_at.is_some()
    }

    async fn archived_at(&self) -> Option<DateTime> {
        self.0.archived_at.map(DateTime)
    }
}

/// What to narrow a course listing to; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct CourseFilterInput {
    facet: Option<Facet>,
    level: Option<Level>,
    domain: Option<Domain>,
    platform: Option<Platform>,
    security_category: Option<SecurityCategory>,
    /// Part of the title, ignoring case and full-width/half-width differences.
    search: Option<String>,
    /// Include archived courses (default false).
    #[graphql(default)]
    include_archived: bool,
}

impl From<CourseFilterInput> for CourseFilter {
    fn from(f: CourseFilterInput) -> Self {
        CourseFilter {
            facet: f.facet.map(Into::into),
            level: f.level.map(Into::into),
            domain: f.domain.map(Into::into),
            platform: f.platform.map(Into::into),
            security_category: f.security_category.map(Into::into),
            search: f.search,
            include_archived: f.include_archived,
        }
    }
}

/// A new course. The platform and its course code are read from the link.
#[derive(InputObject)]
pub struct CreateCourseInput {
    title: String,
    /// More than 0, at most 40, in steps of 0.5.
    hours: f64,
    link: String,
    /// Policy, management, legal or technical.
    facet: Facet,
    /// Required for technical courses, refused for others.
    level: Option<Level>,
    domain: Option<Domain>,
    security_category: Option<SecurityCategory>,
}

/// A change to a course: omitted fields stay, `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateCourseInput {
    title: Option<String>,
    hours: Option<f64>,
    link: Option<String>,
    facet: Option<Facet>,
    level: MaybeUndefined<Level>,
    domain: MaybeUndefined<Domain>,
    security_category: MaybeUndefined<SecurityCategory>,
}

fn patch_of<T, U: From<T>>(value: MaybeUndefined<T>) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v.into())),
    }
}

fn course_id(id: &ID) -> async_graphql::Result<i32> {
    id.parse::<i32>().map_err(|_| bad_argument("id", "is not a course id"))
}

pub type CourseConnection = Connection<OpaqueCursor<i32>, Course, Counted, EmptyFields>;

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// The five facets, with the topics Table 1 lists for each.
    async fn facets(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FacetInfo>> {
        let topics = catalog::topics(super::db(ctx)).await.gql()?;
        Ok(facets_of(&topics))
    }

    /// The seven technical domains with their topics per level A to D.
    async fn technical_domains(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TechnicalDomain>> {
        let topics = catalog::topics(super::db(ctx)).await.gql()?;
        Ok(domains_of(&topics))
    }

    /// One course by id, archived or not.
    async fn course(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Course>> {
        let id = course_id(&id)?;
        Ok(catalog::find_course(super::db(ctx), id).await.gql()?.map(Course))
    }

    /// Courses in catalog order, a page at a time (`first` at most 100).
    #[graphql(complexity = "super::pagination::page_complexity(first, child_complexity)")]
    async fn courses(
        &self,
        ctx: &Context<'_>,
        filter: Option<CourseFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CourseConnection> {
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter: CourseFilter = filter.unwrap_or_default().into();

        let page = catalog::list_courses(super::db(ctx), &filter, after, first)
            .await
            .gql()?;

        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            page.has_next,
            Counted {
                total_count: page.total,
            },
        );
        connection.edges.extend(
            page.courses
                .into_iter()
                .map(|c| Edge::new(OpaqueCursor(c.id), Course(c))),
        );
        Ok(connection)
    }
}

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Adds a course to the catalog (admins).
    async fn create_course(&self, ctx: &Context<'_>, input: CreateCourseInput) -> async_graphql::Result<Course> {
        require_admin(ctx)?;

        let draft = CourseDraft {
            title: input.title,
            hours: Hours::from_f64(input.hours),
            link: input.link,
            facet: input.facet.into(),
            level: input.level.map(Into::into),
            domain: input.domain.map(Into::into),
            security_category: input.security_category.map(Into::into),
        };
        let created = catalog::create_course(super::db(ctx), draft, &actor(ctx)).await.gql()?;

        tracing::info!(course.id = created.id, "course created");
        Ok(Course(created))
    }

    /// Changes some fields of a course (admins).
    async fn update_course(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateCourseInput,
    ) -> async_graphql::Result<Course> {
        require_admin(ctx)?;
        let id = course_id(&id)?;

        let patch = CoursePatch {
            title: input.title,
            hours: input.hours.map(Hours::from_f64),
            link: input.link,
            facet: input.facet.map(Into::into),
            level: patch_of(input.level),
            domain: patch_of(input.domain),
            security_category: patch_of(input.security_category),
        };
        let updated = catalog::update_course(super::db(ctx), id, patch, &actor(ctx))
            .await
            .gql()?;

        tracing::info!(course.id = id, "course updated");
        Ok(Course(updated))
    }

    /// Archives a course (admins): it stays in history and leaves listings.
    async fn archive_course(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Course> {
        require_admin(ctx)?;
        let id = course_id(&id)?;

        let archived = catalog::archive_course(super::db(ctx), id, &actor(ctx)).await.gql()?;

        tracing::info!(course.id = id, "course archived");
        Ok(Course(archived))
    }
}

/// The facets of Table 1 with their topics, in enum order.
fn facets_of(topics: &[topic::Model]) -> Vec<FacetInfo> {
    entity::Facet::iter()
        .map(|facet| {
            let (name_zh, name_en) = names::facet_names(facet);
            FacetInfo {
                code: facet.into(),
                name_zh: name_zh.into(),
                name_en: name_en.into(),
                topics: titles(topics, |t| t.facet == facet && t.domain.is_none()),
            }
        })
        .collect()
}

/// The technical grid of Table 1: every domain with all four levels.
fn domains_of(topics: &[topic::Model]) -> Vec<TechnicalDomain> {
    entity::Domain::iter()
        .map(|domain| {
            let (name_zh, name_en) = names::domain_names(domain);
            TechnicalDomain {
                code: domain.into(),
                name_zh: name_zh.into(),
                name_en: name_en.into(),
                levels: entity::Level::iter()
                    .map(|level| cell_of(topics, domain, level))
                    .collect(),
            }
        })
        .collect()
}

fn cell_of(topics: &[topic::Model], domain: entity::Domain, level: entity::Level) -> LevelTopics {
    let (name_zh, name_en) = names::level_names(level);
    LevelTopics {
        level: level.into(),
        name_zh: name_zh.into(),
        name_en: name_en.into(),
        topics: titles(topics, |t| t.domain == Some(domain) && t.level == Some(level)),
    }
}

fn titles(topics: &[topic::Model], keep: impl Fn(&topic::Model) -> bool) -> Vec<String> {
    topics.iter().filter(|t| keep(t)).map(|t| t.title.clone()).collect()
}
