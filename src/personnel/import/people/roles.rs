//! Role history as people files describe it: which day a row's role is
//! for, and how the recorded assignments change so that no two overlap and
//! none lies before joining or after leaving.

use chrono::{Days, NaiveDate};
use entity::{Role, person, role_assignment};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::{PersonRow, role_code};
use crate::error::{Error, FieldError, Result};
use crate::personnel::role_history;

/// Keeps role history, with no two assignments on one day and none before
/// joining or after leaving (earlier stints of someone who came back stay).
///
/// The row's role is the one held from `role_since` on, else on the joining
/// date for a new person or someone coming back, else on the import date (or
/// the joining date, if later); never after leaving. When the history says
/// otherwise for those days, the role starts on the first: the assignment
/// running the day before ends, and any recorded from that day on is
/// replaced. So a backdated change supersedes what was recorded for those
/// days, the same role from an earlier date moves its start back, and a role
/// scheduled for later is kept by a file that restates today's role.
pub(super) async fn sync_role(
    txn: &DatabaseTransaction,
    person_id: i32,
    row: &PersonRow,
    old: Option<&person::Model>,
    today: NaiveDate,
) -> Result<Vec<String>> {
    let came_back = came_back(row, old);
    let mut notes = Vec::new();
    if !came_back {
        notes.extend(follow_joining_date(txn, person_id, row, old).await?);
    }
    notes.extend(follow_leaving_date(txn, person_id, row, old, came_back).await?);
    if row.keep_role {
        if came_back {
            resume_on_return(txn, person_id, row).await?;
        }
        return Ok(notes);
    }

    let day = claim_day(row, old, came_back, today);
    let through = claimed_through(row, day, today);
    if history_agrees(txn, person_id, row.role, day, through).await? {
        return Ok(notes);
    }
    let held = assignment_on(txn, person_id, day).await?;
    let detail = if held.as_ref().map(|a| a.role) == row.role {
        carry_on(txn, person_id, held, day, row.left_on).await?
    } else {
        make_room(txn, person_id, day).await?;
        if let Some(role) = row.role {
            open_role(txn, person_id, role, day, row.left_on).await?;
        }
        format!(
            "role {} → {} from {day}",
            role_code(held.map(|a| a.role)),
            role_code(row.role)
        )
    };
    notes.extend(old.map(|_| detail));
    Ok(notes)
}

/// The role on `day` is already the row's, but the history records another
/// after it: the assignment held on `day` (or none) runs on to leaving, and
/// what was recorded after it is removed. Reported from the first day that
/// changes, so that restating a role never reads `it_staff → it_staff`.
async fn carry_on(
    txn: &DatabaseTransaction,
    person_id: i32,
    held: Option<role_assignment::Model>,
    day: NaiveDate,
    left_on: Option<NaiveDate>,
) -> Result<String> {
    let after = held.as_ref().map_or(day, |a| a.starts_on);
    let next = role_assignment::Entity::find()
        .filter(role_assignment::Column::PersonId.eq(person_id))
        .filter(role_assignment::Column::StartsOn.gt(after))
        .order_by_asc(role_assignment::Column::StartsOn)
        .one(txn)
        .await?;
    let resumed = held
        .as_ref()
        .and_then(|a| a.ends_on)
        .and_then(|end| end.checked_add_days(Days::new(1)));
    let (from, was) = match &next {
        Some(next) => (next.starts_on, Some(next.role)),
        None => (resumed.unwrap_or(day), None),
    };

    role_assignment::Entity::delete_many()
        .filter(role_assignment::Column::PersonId.eq(person_id))
        .filter(role_assignment::Column::StartsOn.gt(after))
        .exec(txn)
        .await?;
    let role = held.as_ref().map(|a| a.role);
    if let Some(held) = held {
        let which = role_assignment::Column::Id.eq(held.id);
        set_date(txn, person_id, role_assignment::Column::EndsOn, left_on, which).await?;
    }
    Ok(format!("role {} → {} from {from}", role_code(was), role_code(role)))
}

/// A person who had left and whose new joining date is after it.
fn came_back(row: &PersonRow, old: Option<&person::Model>) -> bool {
    let left = old.and_then(|p| p.left_on);
    left.zip(row.joined_on).is_some_and(|(left, joined)| joined > left)
}

/// The day the row's role is held on (see [`sync_role`]).
fn claim_day(row: &PersonRow, old: Option<&person::Model>, came_back: bool, today: NaiveDate) -> NaiveDate {
    let by_default = match (old, row.joined_on) {
        (None, Some(joined)) => joined,
        (Some(_), Some(joined)) if came_back => joined,
        (_, joined) => today.max(joined.unwrap_or(today)),
    };
    let day = row.role_since.unwrap_or(by_default);
    row.left_on.map_or(day, |left| day.min(left))
}

/// The last day the row speaks for: with `role_since`, every day from then
/// to the import date (or leaving); without, the claimed day alone, so that a
/// role scheduled for later is not contradicted.
fn claimed_through(row: &PersonRow, day: NaiveDate, today: NaiveDate) -> NaiveDate {
    if row.role_since.is_none() {
        return day;
    }
    let through = day.max(today);
    row.left_on.map_or(through, |left| through.min(left))
}

/// Whether the history already gives `role` on every day from `day` to
/// `through`, in one assignment (no role at all, for `None`).
async fn history_agrees(
    txn: &DatabaseTransaction,
    person_id: i32,
    role: Option<Role>,
    day: NaiveDate,
    through: NaiveDate,
) -> Result<bool> {
    let overlapping = role_assignment::Entity::find()
        .filter(role_assignment::Column::PersonId.eq(person_id))
        .filter(role_assignment::Column::StartsOn.lte(through))
        .filter(running_on(day))
        .all(txn)
        .await?;
    Ok(match (role, overlapping.as_slice()) {
        (None, []) => true,
        (Some(role), [only]) => {
            only.role == role && only.starts_on <= day && only.ends_on.is_none_or(|end| end >= through)
        }
        _ => false,
    })
}

/// The assignment the history gives for a day.
async fn assignment_on(
    txn: &DatabaseTransaction,
    person_id: i32,
    day: NaiveDate,
) -> Result<Option<role_assignment::Model>> {
    Ok(role_assignment::Entity::find()
        .filter(role_assignment::Column::PersonId.eq(person_id))
        .filter(role_assignment::Column::StartsOn.lte(day))
        .filter(running_on(day))
        .order_by_desc(role_assignment::Column::StartsOn)
        .one(txn)
        .await?)
}

/// The role held from joining starts on the joining date: a joining date
/// moved later takes the roles it passes with it (their start moves, or
/// they go if they ended before it), and one moved earlier takes the start
/// of the role that began on the old date. Only the roles from the old
/// joining date on are moved, so the earlier stints of someone who came
/// back stay; an unchanged joining date moves nothing.
async fn follow_joining_date(
    txn: &DatabaseTransaction,
    person_id: i32,
    row: &PersonRow,
    old: Option<&person::Model>,
) -> Result<Vec<String>> {
    use role_assignment::Column::{EndsOn, StartsOn};

    let (Some(joined), Some(old)) = (row.joined_on, old) else {
        return Ok(Vec::new());
    };
    if old.joined_on == Some(joined) {
        return Ok(Vec::new());
    }
    let since_old = |condition: Condition| match old.joined_on {
        Some(old_joined) => condition.add(StartsOn.gte(old_joined)),
        None => condition,
    };

    if old.joined_on.is_none_or(|old_joined| joined > old_joined) {
        let removed = remove(txn, person_id, since_old(Condition::all().add(EndsOn.lt(joined)))).await?;
        let passed = since_old(Condition::all().add(StartsOn.lt(joined)));
        set_date(txn, person_id, StartsOn, Some(joined), passed).await?;
        return Ok(removed);
    }

    let old_joined = old.joined_on.unwrap_or(joined);
    refuse_overlapping_stints(txn, person_id, row, joined, old_joined).await?;
    let which = StartsOn.eq(old_joined);
    set_date(txn, person_id, StartsOn, Some(joined), which).await?;
    Ok(Vec::new())
}

/// A joining date moved earlier may not reach into an earlier stint of
/// someone who came back: the file would say they joined while that stint
/// still ran, and either record would have to be cut without anyone asking.
async fn refuse_overlapping_stints(
    txn: &DatabaseTransaction,
    person_id: i32,
    row: &PersonRow,
    joined: NaiveDate,
    old_joined: NaiveDate,
) -> Result<()> {
    use role_assignment::Column::StartsOn;

    let stint = role_assignment::Entity::find()
        .filter(role_assignment::Column::PersonId.eq(person_id))
        .filter(StartsOn.lt(old_joined))
        .filter(running_on(joined))
        .order_by_desc(StartsOn)
        .one(txn)
        .await?;
    let Some(stint) = stint else {
        return Ok(());
    };
    let reason = format!(
        "{joined} is before the end of an earlier stint ({}); the joining date of the latest stint comes after it",
        describe(&stint)
    );
    Err(Error::BadInput(vec![FieldError::at_row(row.line, "joined_on", reason)]))
}

/// Deletes the person's assignments that match and says which they were.
async fn remove(txn: &DatabaseTransaction, person_id: i32, which: Condition) -> Result<Vec<String>> {
    let gone = role_assignment::Entity::find()
        .filter(role_assignment::Column::PersonId.eq(person_id))
        .filter(which)
        .order_by_asc(role_assignment::Column::StartsOn)
        .all(txn)
        .await?;
    let ids: Vec<i32> = gone.iter().map(|a| a.id).collect();
    role_assignment::Entity::delete_many()
        .filter(role_assignment::Column::Id.is_in(ids))
        .exec(txn)
        .await?;
    Ok(gone.iter().map(|a| format!("role {} removed", describe(a))).collect())
}

/// `it_staff 2020-01-01 to 2021-12-31`, `it_supervisor from 2027-03-01`.
fn describe(assignment: &role_assignment::Model) -> String {
    let role = role_code(Some(assignment.role));
    match assignment.ends_on {
        Some(end) => format!("{role} {} to {end}", assignment.starts_on),
        None => format!("{role} from {}", assignment.starts_on),
    }
}

/// The role held on leaving ends on the leaving date, and none is held after
/// it, whether or not the file has a role column. A leaving date moved later,
/// or cleared, carries the role held on the old date with it, unless the
/// person came back: the old assignment then keeps its end.
async fn follow_leaving_date(
    txn: &DatabaseTransaction,
    person_id: i32,
    row: &PersonRow,
    old: Option<&person::Model>,
    came_back: bool,
) -> Result<Vec<String>> {
    if let Some(old_left) = old.and_then(|p| p.left_on)
        && row.left_on != Some(old_left)
        && !came_back
    {
        let ended_on_leaving = role_assignment::Column::EndsOn.eq(old_left);
        set_date(
            txn,
            person_id,
            role_assignment::Column::EndsOn,
            row.left_on,
            ended_on_leaving,
        )
        .await?;
    }

    let Some(left) = row.left_on else {
        return Ok(Vec::new());
    };
    let after_leaving = Condition::all().add(role_assignment::Column::StartsOn.gt(left));
    let removed = remove(txn, person_id, after_leaving).await?;
    set_date(
        txn,
        person_id,
        role_assignment::Column::EndsOn,
        Some(left),
        running_after(left),
    )
    .await?;
    Ok(removed)
}

/// Someone coming back, in a file without a role column, holds again the
/// role they left with, from the new joining date.
async fn resume_on_return(txn: &DatabaseTransaction, person_id: i32, row: &PersonRow) -> Result<()> {
    let (Some(joined), Some(last)) = (row.joined_on, role_history(txn, person_id).await?.pop()) else {
        return Ok(());
    };
    make_room(txn, person_id, joined).await?;
    open_role(txn, person_id, last.role, joined, row.left_on).await
}

/// The assignments with no end, or one on or after `day`.
fn running_on(day: NaiveDate) -> Condition {
    Condition::any()
        .add(role_assignment::Column::EndsOn.is_null())
        .add(role_assignment::Column::EndsOn.gte(day))
}

/// The assignments with no end, or one after `day`.
fn running_after(day: NaiveDate) -> Condition {
    Condition::any()
        .add(role_assignment::Column::EndsOn.is_null())
        .add(role_assignment::Column::EndsOn.gt(day))
}

/// Sets a date column of the person's assignments that match `which`.
async fn set_date(
    txn: &DatabaseTransaction,
    person_id: i32,
    column: role_assignment::Column,
    value: Option<NaiveDate>,
    which: impl sea_orm::sea_query::IntoCondition,
) -> Result<()> {
    role_assignment::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(role_assignment::Column::PersonId.eq(person_id))
        .filter(which)
        .exec(txn)
        .await?;
    Ok(())
}

async fn open_role(
    txn: &DatabaseTransaction,
    person_id: i32,
    role: Role,
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> Result<()> {
    let model = role_assignment::ActiveModel {
        person_id: Set(person_id),
        role: Set(role),
        starts_on: Set(start),
        ends_on: Set(end),
        ..Default::default()
    };
    model.insert(txn).await?;
    Ok(())
}

/// Clears the days from `start` on for a new assignment: the one running the
/// day before ends then; any beginning on or after `start` never held and is
/// removed.
async fn make_room(txn: &DatabaseTransaction, person_id: i32, start: NaiveDate) -> Result<()> {
    role_assignment::Entity::delete_many()
        .filter(role_assignment::Column::PersonId.eq(person_id))
        .filter(role_assignment::Column::StartsOn.gte(start))
        .exec(txn)
        .await?;

    let day_before = start.checked_sub_days(Days::new(1)).unwrap_or(start);
    set_date(
        txn,
        person_id,
        role_assignment::Column::EndsOn,
        Some(day_before),
        running_after(day_before),
    )
    .await
}
