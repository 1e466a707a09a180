//! Loading the learning map's catalog from `seeds/catalog.toml`.
//!
//! The file is compiled into the binary, so `learnmap seed` works from any
//! directory. Seeding adds what is missing and never changes what an admin has
//! edited: topics are written only into an empty topic table, and a course is
//! added only when its platform has no course with its code (or, for other
//! platforms, its title).

use entity::{Domain, Facet, Level, SecurityCategory, course, topic};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::Deserialize;

use super::{CourseDraft, ValidCourse};
use crate::error::{Error, Result};
use crate::hours::Hours;

pub const CATALOG_TOML: &str = include_str!("../../seeds/catalog.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub facet: Vec<FacetTopics>,
    pub domain: Vec<DomainTopics>,
    pub course: Vec<SeedCourse>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacetTopics {
    pub code: Facet,
    pub topics: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainTopics {
    pub code: Domain,
    #[serde(rename = "A")]
    pub a: Vec<String>,
    #[serde(rename = "B")]
    pub b: Vec<String>,
    #[serde(rename = "C")]
    pub c: Vec<String>,
    #[serde(rename = "D")]
    pub d: Vec<String>,
}

impl DomainTopics {
    fn cells(&self) -> [(Level, &Vec<String>); 4] {
        [
            (Level::A, &self.a),
            (Level::B, &self.b),
            (Level::C, &self.c),
            (Level::D, &self.d),
        ]
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCourse {
    pub title: String,
    pub hours: Hours,
    pub link: String,
    pub facet: Facet,
    pub level: Option<Level>,
    pub domain: Option<Domain>,
    pub security_category: Option<SecurityCategory>,
}

pub fn parse(text: &str) -> Result<CatalogFile> {
    toml::from_str(text).map_err(|e| Error::bad_input("seeds/catalog.toml", e.to_string()))
}

/// Validates every course of the file, naming the course that fails.
pub fn valid_courses(file: &CatalogFile) -> Result<Vec<ValidCourse>> {
    file.course
        .iter()
        .map(|c| {
            let draft = CourseDraft {
                title: c.title.clone(),
                hours: Some(c.hours),
                link: c.link.clone(),
                facet: c.facet,
                level: c.level,
                domain: c.domain,
                security_category: c.security_category,
            };
            draft
                .validate()
                .map_err(|e| Error::bad_input(format!("course \"{}\"", c.title), e.to_string()))
        })
        .collect()
}

/// What one seeding added.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CatalogSeeded {
    pub topics: usize,
    pub courses: usize,
}

pub async fn seed(db: &impl ConnectionTrait) -> Result<CatalogSeeded> {
    let file = parse(CATALOG_TOML)?;
    let courses = valid_courses(&file)?;

    let topics = seed_topics(db, &file).await?;
    let mut added = 0;
    for course in courses {
        if !course_exists(db, &course).await? {
            insert_course(db, course).await?;
            added += 1;
        }
    }
    Ok(CatalogSeeded { topics, courses: added })
}

async fn seed_topics(db: &impl ConnectionTrait, file: &CatalogFile) -> Result<usize> {
    if topic::Entity::find().count(db).await? > 0 {
        return Ok(0);
    }

    let facet_rows = file
        .facet
        .iter()
        .flat_map(|f| f.topics.iter().map(move |t| (f.code, None, None, t)));
    let domain_rows = file.domain.iter().flat_map(|d| {
        d.cells().into_iter().flat_map(move |(level, topics)| {
            topics
                .iter()
                .map(move |t| (Facet::Technical, Some(d.code), Some(level), t))
        })
    });

    let mut count = 0;
    for (position, (facet, domain, level, title)) in facet_rows.chain(domain_rows).enumerate() {
        topic::ActiveModel {
            facet: Set(facet),
            domain: Set(domain),
            level: Set(level),
            title: Set(title.clone()),
            position: Set(position as i32),
            ..Default::default()
        }
        .insert(db)
        .await?;
        count += 1;
    }
    Ok(count)
}

async fn course_exists(db: &impl ConnectionTrait, course: &ValidCourse) -> Result<bool> {
    let query = course::Entity::find().filter(course::Column::Platform.eq(course.platform));
    let query = match &course.platform_code {
        Some(code) => query.filter(course::Column::PlatformCode.eq(code.clone())),
        None => query.filter(course::Column::TitleKey.eq(course.title_key.clone())),
    };
    Ok(query.count(db).await? > 0)
}

async fn insert_course(db: &impl ConnectionTrait, course: ValidCourse) -> Result<()> {
    let now = chrono::Utc::now();
    let mut model = course::ActiveModel {
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        ..Default::default()
    };
    super::assign(&mut model, course);
    model.insert(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::Platform;

    fn catalog() -> CatalogFile {
        parse(CATALOG_TOML).expect("the committed catalog parses")
    }

    #[test]
    fn holds_the_54_courses_of_table_3() {
        let file = catalog();
        let count = |facet: Facet, level: Option<Level>| {
            file.course
                .iter()
                .filter(|c| c.facet == facet && c.level == level)
                .count()
        };
        assert_eq!(file.course.len(), 54);
        assert_eq!(count(Facet::Policy, None), 8);
        assert_eq!(count(Facet::Management, None), 3);
        assert_eq!(count(Facet::Legal, None), 8);
        assert_eq!(count(Facet::Technical, Some(Level::A)), 0);
        assert_eq!(count(Facet::Technical, Some(Level::B)), 9);
        assert_eq!(count(Facet::Technical, Some(Level::C)), 17);
        assert_eq!(count(Facet::Technical, Some(Level::D)), 9);
    }

    #[test]
    fn every_course_is_valid_with_a_platform_code() {
        let courses = valid_courses(&catalog()).expect("all seed courses validate");
        assert!(
            courses
                .iter()
                .all(|c| c.platform != Platform::Other && c.platform_code.is_some())
        );
        let taipei = courses
            .iter()
            .filter(|c| c.platform == Platform::TaipeiElearning)
            .count();
        assert_eq!(taipei, 31);
    }

    #[test]
    fn html_escapes_are_decoded() {
        let file = catalog();
        assert!(file.course.iter().any(|c| c.title == "HTML5&CSS3 網頁程式(上)"));
        assert!(!file.course.iter().any(|c| c.title.contains("&amp;")));
    }

    #[test]
    fn table_1_has_software_applications_without_level_a() {
        let file = catalog();
        let apps = file
            .domain
            .iter()
            .find(|d| d.code == Domain::SoftwareApplications)
            .unwrap();
        assert!(apps.a.is_empty());
        assert_eq!(file.domain.len(), 7);
        assert!(
            file.domain
                .iter()
                .filter(|d| d.code != Domain::SoftwareApplications)
                .all(|d| !d.a.is_empty())
        );
    }
}
