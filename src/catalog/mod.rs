//! The course catalog: facets, technical domains and their topics, and courses.
//!
//! Every course that enters the catalog, from the seed file or an admin, passes
//! through [`CourseDraft::validate`], so the seed obeys the same rules as users.

pub mod link;
pub mod names;
pub mod seed;

use chrono::Utc;
use entity::{Domain, Facet, Level, Platform, SecurityCategory, course, topic};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, SqlErr, TransactionSession, TransactionTrait,
};

use crate::audit::{self, Actor, Entry};
use crate::error::{Error, FieldError, Result};
use crate::hours::Hours;
use crate::text;

/// The most hours one course may carry: a week of full-time training is the
/// longest course any of the platforms offers; more is a typing error.
pub const MAX_COURSE_HOURS: Hours = Hours::whole(40);

/// The longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest course link; the platforms' links are under 100 characters.
pub const MAX_LINK_CHARS: usize = 2_000;

/// The facets a course can belong to: the columns of the learning map.
/// Security is served through a course's security category instead.
pub const MAP_FACETS: [Facet; 4] = [Facet::Policy, Facet::Management, Facet::Legal, Facet::Technical];

/// A course as submitted, before it is checked.
#[derive(Debug, Clone)]
pub struct CourseDraft {
    pub title: String,
    pub hours: Option<Hours>,
    pub link: String,
    pub facet: Facet,
    pub level: Option<Level>,
    pub domain: Option<Domain>,
    pub security_category: Option<SecurityCategory>,
}

/// A course that passed validation, with its platform read from the link.
#[derive(Debug, Clone)]
pub struct ValidCourse {
    pub title: String,
    pub title_key: String,
    pub hours: Hours,
    pub link: String,
    pub platform: Platform,
    pub platform_code: Option<String>,
    pub facet: Facet,
    pub level: Option<Level>,
    pub domain: Option<Domain>,
    pub security_category: Option<SecurityCategory>,
}

/// What is wrong with a course title, for the catalog and for a completion
/// of an outside course alike: too long, or holding a character a reader of
/// a reminder would not see for what it is.
pub fn title_problem(title: &str) -> Option<String> {
    if title.chars().count() > MAX_TITLE_CHARS {
        return Some(format!("must be at most {MAX_TITLE_CHARS} characters"));
    }
    let held = crate::import::value::hidden_character(title)?;
    Some(format!("holds {held}; a title is one line of text"))
}

impl CourseDraft {
    /// Checks every field and returns all problems at once.
    pub fn validate(self) -> Result<ValidCourse> {
        let mut errors = Vec::new();

        let title = self.title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            errors.push(FieldError::new("title", "must not be empty"));
        } else if let Some(reason) = title_problem(&title) {
            errors.push(FieldError::new("title", reason));
        }

        let hours = self.hours.unwrap_or(Hours::ZERO);
        if let Some(reason) = hours_problem(self.hours) {
            errors.push(FieldError::new("hours", reason));
        }

        let parsed = link::parse(&self.link);
        if self.link.chars().count() > MAX_LINK_CHARS {
            errors.push(FieldError::new(
                "link",
                format!("must be at most {MAX_LINK_CHARS} characters"),
            ));
        } else if let Err(reason) = &parsed {
            errors.push(FieldError::new("link", reason.clone()));
        }

        errors.extend(shape_problems(self.facet, self.level, self.domain));

        if !errors.is_empty() {
            return Err(Error::BadInput(errors));
        }
        let link = parsed.map_err(|reason| Error::bad_input("link", reason))?;
        Ok(ValidCourse {
            title_key: text::fold(&title),
            title,
            hours,
            link: self.link.trim().to_string(),
            platform: link.platform,
            platform_code: link.code,
            facet: self.facet,
            level: self.level,
            domain: self.domain,
            security_category: self.security_category,
        })
    }
}

fn hours_problem(hours: Option<Hours>) -> Option<String> {
    match hours {
        None => Some(format!(
            "must be a number of hours from 0.5 to {MAX_COURSE_HOURS}, in steps of 0.5"
        )),
        Some(h) if h <= Hours::ZERO => Some("must be more than 0".into()),
        Some(h) if h > MAX_COURSE_HOURS => Some(format!("must be at most {MAX_COURSE_HOURS} for one course")),
        Some(h) if !h.is_half_hour_step() => Some("must be a multiple of 0.5".into()),
        Some(_) => None,
    }
}

/// Levels and domains belong to technical courses only, and a technical course
/// must say its level.
fn shape_problems(facet: Facet, level: Option<Level>, domain: Option<Domain>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !MAP_FACETS.contains(&facet) {
        errors.push(FieldError::new(
            "facet",
            "security is not a facet of the learning map; give the course a security category instead",
        ));
    }
    match (facet, level) {
        (Facet::Technical, None) => errors.push(FieldError::new("level", "a technical course needs a level (A to D)")),
        (f, Some(_)) if f != Facet::Technical => {
            errors.push(FieldError::new("level", "only technical courses have a level"))
        }
        _ => {}
    }
    if facet != Facet::Technical && domain.is_some() {
        errors.push(FieldError::new("domain", "only technical courses have a domain"));
    }
    errors
}

/// What a course listing may be narrowed to.
#[derive(Debug, Clone, Default)]
pub struct CourseFilter {
    pub facet: Option<Facet>,
    pub level: Option<Level>,
    pub domain: Option<Domain>,
    pub platform: Option<Platform>,
    pub security_category: Option<SecurityCategory>,
    /// Part of the title, compared after [`text::fold`].
    pub search: Option<String>,
    pub include_archived: bool,
}

impl CourseFilter {
    fn apply(&self, mut query: sea_orm::Select<course::Entity>) -> sea_orm::Select<course::Entity> {
        if let Some(facet) = self.facet {
            query = query.filter(course::Column::Facet.eq(facet));
        }
        if let Some(level) = self.level {
            query = query.filter(course::Column::Level.eq(level));
        }
        if let Some(domain) = self.domain {
            query = query.filter(course::Column::Domain.eq(domain));
        }
        if let Some(platform) = self.platform {
            query = query.filter(course::Column::Platform.eq(platform));
        }
        if let Some(category) = self.security_category {
            query = query.filter(course::Column::SecurityCategory.eq(category));
        }
        if let Some(search) = self.search.as_deref().map(text::fold).filter(|s| !s.is_empty()) {
            let pattern = LikeExpr::new(text::contains_pattern(&search)).escape('\\');
            query = query.filter(Expr::col(course::Column::TitleKey).like(pattern));
        }
        if !self.include_archived {
            query = query.filter(course::Column::ArchivedAt.is_null());
        }
        query
    }
}

/// One page of courses, in catalog order (by id), after the course `after`.
pub struct CoursePage {
    pub courses: Vec<course::Model>,
    pub has_next: bool,
    pub total: u64,
}

pub async fn list_courses(
    db: &impl ConnectionTrait,
    filter: &CourseFilter,
    after: Option<i32>,
    first: u64,
) -> Result<CoursePage> {
    let total = filter.apply(course::Entity::find()).count(db).await?;

    let mut query = filter.apply(course::Entity::find()).order_by_asc(course::Column::Id);
    if let Some(after) = after {
        query = query.filter(course::Column::Id.gt(after));
    }
    let mut courses = query.limit(first + 1).all(db).await?;

    let has_next = courses.len() as u64 > first;
    courses.truncate(first as usize);
    Ok(CoursePage {
        courses,
        has_next,
        total,
    })
}

pub async fn find_course(db: &impl ConnectionTrait, id: i32) -> Result<Option<course::Model>> {
    Ok(course::Entity::find_by_id(id).one(db).await?)
}

async fn get_course(db: &impl ConnectionTrait, id: i32) -> Result<course::Model> {
    find_course(db, id).await?.ok_or_else(|| Error::not_found("course", id))
}

/// Adds a course and records `createCourse` in the same transaction.
pub async fn create_course(
    db: &(impl ConnectionTrait + TransactionTrait),
    draft: CourseDraft,
    actor: &Actor,
) -> Result<course::Model> {
    let valid = draft.validate()?;
    let txn = crate::db::begin_write(db).await?;
    ensure_unique(&txn, &valid, None).await?;

    let now = Utc::now();
    let mut model = course::ActiveModel {
        created_at: Set(now),
        archived_at: Set(None),
        ..Default::default()
    };
    assign(&mut model, valid);
    model.updated_at = Set(now);
    let created = model.insert(&txn).await.map_err(unique_violation_as_bad_input)?;

    let entry = Entry::new(
        "createCourse",
        "course",
        created.id.to_string(),
        format!("created course {}", created.id),
    )
    .after(Some(audit::snapshot::course(&created)));
    audit::record(&txn, actor, entry).await?;
    txn.commit().await?;
    Ok(created)
}

/// A change to some fields of a course; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CoursePatch {
    pub title: Option<String>,
    /// `Some(None)` is hours that could not be read.
    pub hours: Option<Option<Hours>>,
    pub link: Option<String>,
    pub facet: Option<Facet>,
    /// `Some(None)` clears the level.
    pub level: Option<Option<Level>>,
    pub domain: Option<Option<Domain>>,
    pub security_category: Option<Option<SecurityCategory>>,
}

/// Changes a course and records `updateCourse` with its images, unless the
/// patch changed nothing.
pub async fn update_course(
    db: &(impl ConnectionTrait + TransactionTrait),
    id: i32,
    patch: CoursePatch,
    actor: &Actor,
) -> Result<course::Model> {
    let txn = crate::db::begin_write(db).await?;
    let current = get_course(&txn, id).await?;

    let draft = CourseDraft {
        title: patch.title.unwrap_or_else(|| current.title.clone()),
        hours: patch
            .hours
            .unwrap_or(Some(Hours::from_centihours(current.centihours.into()))),
        link: patch.link.unwrap_or_else(|| current.link.clone()),
        facet: patch.facet.unwrap_or(current.facet),
        level: patch.level.unwrap_or(current.level),
        domain: patch.domain.unwrap_or(current.domain),
        security_category: patch.security_category.unwrap_or(current.security_category),
    };
    let valid = draft.validate()?;
    ensure_unique(&txn, &valid, Some(id)).await?;

    let before = audit::snapshot::course(&current);
    let mut model: course::ActiveModel = current.into();
    assign(&mut model, valid);
    model.updated_at = Set(Utc::now());
    let updated = model.update(&txn).await.map_err(unique_violation_as_bad_input)?;

    let after = audit::snapshot::course(&updated);
    if before != after {
        let entry = Entry::new("updateCourse", "course", id.to_string(), format!("updated course {id}"))
            .before(Some(before))
            .after(Some(after));
        audit::record(&txn, actor, entry).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Archives a course: it stays in completion history and lookups by id, and
/// leaves default listings and recommendations. Archiving twice keeps the first
/// date and records nothing the second time.
pub async fn archive_course(
    db: &(impl ConnectionTrait + TransactionTrait),
    id: i32,
    actor: &Actor,
) -> Result<course::Model> {
    let txn = crate::db::begin_write(db).await?;
    let current = get_course(&txn, id).await?;
    if current.archived_at.is_some() {
        return Ok(current);
    }

    let before = audit::snapshot::course(&current);
    let mut model: course::ActiveModel = current.into();
    let now = Utc::now();
    model.archived_at = Set(Some(now));
    model.updated_at = Set(now);
    let archived = model.update(&txn).await?;

    let entry = Entry::new(
        "archiveCourse",
        "course",
        id.to_string(),
        format!("archived course {id}"),
    )
    .before(Some(before))
    .after(Some(audit::snapshot::course(&archived)));
    audit::record(&txn, actor, entry).await?;
    txn.commit().await?;
    Ok(archived)
}

fn assign(model: &mut course::ActiveModel, valid: ValidCourse) {
    model.title = Set(valid.title);
    model.title_key = Set(valid.title_key);
    model.centihours = Set(valid.hours.centihours() as i32);
    model.link = Set(valid.link);
    model.platform = Set(valid.platform);
    model.platform_code = Set(valid.platform_code);
    model.facet = Set(valid.facet);
    model.level = Set(valid.level);
    model.domain = Set(valid.domain);
    model.security_category = Set(valid.security_category);
}

/// A title may appear once per platform, and a platform's course code once.
async fn ensure_unique(db: &impl ConnectionTrait, valid: &ValidCourse, except: Option<i32>) -> Result<()> {
    let mut errors = Vec::new();

    let same_title = course::Entity::find()
        .filter(course::Column::Platform.eq(valid.platform))
        .filter(course::Column::TitleKey.eq(valid.title_key.clone()));
    if let Some(other) = exclude(same_title, except).one(db).await? {
        errors.push(FieldError::new(
            "title",
            format!("course {} already has this title on the same platform", other.id),
        ));
    }

    if let Some(code) = &valid.platform_code {
        let same_code = course::Entity::find()
            .filter(course::Column::Platform.eq(valid.platform))
            .filter(course::Column::PlatformCode.eq(code.clone()));
        if let Some(other) = exclude(same_code, except).one(db).await? {
            errors.push(FieldError::new(
                "link",
                format!("course {} already has this link's course code", other.id),
            ));
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::BadInput(errors))
    }
}

fn exclude(query: sea_orm::Select<course::Entity>, except: Option<i32>) -> sea_orm::Select<course::Entity> {
    match except {
        Some(id) => query.filter(course::Column::Id.ne(id)),
        None => query,
    }
}

/// Two admins saving the same course at once get past [`ensure_unique`]; the
/// unique indexes then decide, and the loser gets the same kind of answer.
fn unique_violation_as_bad_input(err: sea_orm::DbErr) -> Error {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::bad_input(
            "title",
            "a course with this title or course code already exists on the same platform",
        ),
        _ => Error::Database(err),
    }
}

/// The topics of Table 1, in source order.
pub async fn topics(db: &impl ConnectionTrait) -> Result<Vec<topic::Model>> {
    Ok(topic::Entity::find()
        .order_by_asc(topic::Column::Position)
        .all(db)
        .await?)
}
