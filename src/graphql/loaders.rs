//! Batched lookups for the fields of a list's rows, so that a page of people
//! costs a fixed number of statements whatever its size.
//!
//! Each request gets its own [`DataLoader`] over [`Db`] (see [`PerRequest`]),
//! serving every key type below: async-graphql gathers the keys that resolvers
//! ask for while a list is resolved and calls `load` once per key type. Its
//! cache lives as long as the request, so a person's roles asked for twice
//! (`role` and `roleHistory`) are read once, and nothing is reused across
//! requests. The unit tree comes from the reference cache, checked once per
//! request.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::{Context, Request, ServerResult};
use entity::{completion, evidence, person, role_assignment};
use sea_orm::DatabaseConnection;

use super::error::ServiceResultExt;
use crate::compliance::service;
use crate::personnel;
use crate::reference::{Reference, ReferenceCache};

/// What every batch reads from.
pub struct Db {
    pub db: DatabaseConnection,
}

pub type Loaders = DataLoader<Db, HashMapCache>;

/// How long a batch waits for more keys. The rows of a list register their
/// keys in one pass, well under a millisecond in a release build; the pages
/// of `people` and `behind` do not depend on it, as they prime their rows.
const BATCH_DELAY: std::time::Duration = std::time::Duration::from_millis(2);

/// The most keys one statement binds: a page of 100 people with up to a
/// hundred completions each, below both backends' bind limits.
const MAX_BATCH: usize = 10_000;

/// Gives every request its loaders and its one look at the reference data.
pub struct PerRequest;

/// The reference data as the request first saw it.
#[derive(Default)]
struct RequestReference(tokio::sync::OnceCell<Arc<Reference>>);

impl ExtensionFactory for PerRequest {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let db = Db {
            db: ctx.data_unchecked::<DatabaseConnection>().clone(),
        };
        let loaders = DataLoader::with_cache(db, tokio::spawn, HashMapCache::default())
            .delay(BATCH_DELAY)
            .max_batch_size(MAX_BATCH);
        next.run(ctx, request.data(loaders).data(RequestReference::default()))
            .await
    }
}

pub fn of<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}

/// A person by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PersonId(pub i32);

/// A person's direct reports, by the supervisor's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReportsOf(pub i32);

/// A person's role history, by person id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RolesOf(pub i32);

/// A person's evidence, by person id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EvidenceOf(pub i32);

/// A completion by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CompletionId(pub i32);

/// The employee numbers of a person and of everyone above them, by person id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChainAbove(pub i32);

fn ids<K>(keys: &[K], id: impl Fn(&K) -> i32) -> Vec<i32> {
    keys.iter().map(id).collect()
}

/// Groups rows under the keys asked for; a key with no rows gets an empty list.
fn grouped<K: Copy + Eq + std::hash::Hash, T>(
    keys: &[K],
    rows: Vec<T>,
    key_of: impl Fn(&T) -> K,
) -> HashMap<K, Vec<T>> {
    let mut groups: HashMap<K, Vec<T>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        groups.entry(key_of(&row)).or_default().push(row);
    }
    groups
}

impl Loader<PersonId> for Db {
    type Value = person::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PersonId]) -> async_graphql::Result<HashMap<PersonId, person::Model>> {
        let people = personnel::people_by_ids(&self.db, &ids(keys, |k| k.0)).await.gql()?;
        Ok(people.into_iter().map(|p| (PersonId(p.id), p)).collect())
    }
}

impl Loader<ReportsOf> for Db {
    type Value = Vec<person::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ReportsOf]) -> async_graphql::Result<HashMap<ReportsOf, Vec<person::Model>>> {
        let reports = personnel::direct_reports_of(&self.db, &ids(keys, |k| k.0))
            .await
            .gql()?;
        Ok(grouped(keys, reports, |p| {
            ReportsOf(p.supervisor_id.unwrap_or_default())
        }))
    }
}

impl Loader<RolesOf> for Db {
    type Value = Vec<role_assignment::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[RolesOf]) -> async_graphql::Result<HashMap<RolesOf, Vec<role_assignment::Model>>> {
        let roles = personnel::role_histories(&self.db, &ids(keys, |k| k.0)).await.gql()?;
        Ok(grouped(keys, roles, |r| RolesOf(r.person_id)))
    }
}

impl Loader<EvidenceOf> for Db {
    type Value = Vec<evidence::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[EvidenceOf]) -> async_graphql::Result<HashMap<EvidenceOf, Vec<evidence::Model>>> {
        let evidence = personnel::evidence_of_many(&self.db, &ids(keys, |k| k.0)).await.gql()?;
        Ok(grouped(keys, evidence, |e| EvidenceOf(e.person_id)))
    }
}

impl Loader<CompletionId> for Db {
    type Value = completion::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[CompletionId]) -> async_graphql::Result<HashMap<CompletionId, completion::Model>> {
        let rows = service::completions_by_ids(&self.db, &ids(keys, |k| k.0)).await.gql()?;
        Ok(rows.into_iter().map(|c| (CompletionId(c.id), c)).collect())
    }
}

impl Loader<ChainAbove> for Db {
    type Value = Vec<String>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ChainAbove]) -> async_graphql::Result<HashMap<ChainAbove, Vec<String>>> {
        let chains = personnel::chains_above(&self.db, &ids(keys, |k| k.0)).await.gql()?;
        Ok(chains.into_iter().map(|(id, chain)| (ChainAbove(id), chain)).collect())
    }
}

/// The reference data for this request: validated against the database on
/// first use, then the same copy for every field of the request.
pub async fn reference(ctx: &Context<'_>) -> async_graphql::Result<Arc<Reference>> {
    let cell = &ctx.data_unchecked::<RequestReference>().0;
    let reference = cell
        .get_or_try_init(|| async {
            let cache = ctx.data_unchecked::<Arc<ReferenceCache>>();
            cache.get(super::db(ctx)).await.gql()
        })
        .await?;
    Ok(reference.clone())
}

/// [`reference`] at a generation read with another row: the request's copy
/// when it has one, else the cached copy of that generation.
pub async fn reference_at(ctx: &Context<'_>, generation: i64) -> async_graphql::Result<Arc<Reference>> {
    let cell = &ctx.data_unchecked::<RequestReference>().0;
    let reference = cell
        .get_or_try_init(|| async {
            let cache = ctx.data_unchecked::<Arc<ReferenceCache>>();
            cache.get_at(super::db(ctx), generation).await.gql()
        })
        .await?;
    Ok(reference.clone())
}

/// What the rows of a page of people will ask for, read from the query.
#[derive(Debug, Default, Clone, Copy)]
pub struct Wanted {
    pub supervisor: bool,
    pub reports: bool,
    pub roles: bool,
    pub evidence: bool,
}

impl Wanted {
    /// The batched fields selected under a `Person` of the query.
    pub fn of(person: async_graphql::Lookahead<'_>) -> Wanted {
        Wanted {
            supervisor: person.field("supervisor").exists(),
            reports: person.field("directReports").exists(),
            roles: person.field("role").exists() || person.field("roleHistory").exists(),
            evidence: person.field("technicalBackground").exists() || person.field("evidence").exists(),
        }
    }
}

/// Loads, in one batch per field, what the rows of a page will ask for, so
/// that their own lookups find it in the request's cache. Batches formed by
/// timing alone could split on a busy machine; a page primed here never does.
pub async fn prime_people<'p>(
    ctx: &Context<'_>,
    wanted: Wanted,
    people: impl Iterator<Item = &'p person::Model> + Clone,
) -> async_graphql::Result<()> {
    let loaders = of(ctx);
    if wanted.supervisor {
        loaders
            .load_many(people.clone().filter_map(|p| p.supervisor_id).map(PersonId))
            .await?;
    }
    if wanted.reports {
        loaders.load_many(people.clone().map(|p| ReportsOf(p.id))).await?;
    }
    if wanted.roles {
        loaders.load_many(people.clone().map(|p| RolesOf(p.id))).await?;
    }
    if wanted.evidence {
        loaders.load_many(people.map(|p| EvidenceOf(p.id))).await?;
    }
    Ok(())
}

/// [`prime_people`] for the whole completions that rows will show.
pub async fn prime_completions(ctx: &Context<'_>, ids: impl Iterator<Item = i64>) -> async_graphql::Result<()> {
    let ids = ids.filter_map(|id| i32::try_from(id).ok()).map(CompletionId);
    of(ctx).load_many(ids).await?;
    Ok(())
}
