//! The scheduler: tokio-cron-scheduler with the time zone and cron expression
//! from configuration, and catch-up runs at start-up and every hour.

use std::str::FromStr;

use chrono::Utc;
use chrono_tz::Tz;
use sea_orm::DatabaseConnection;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

use super::quarter;
use super::quarterly::{self, Outcome, RunRequest, Trigger};
use crate::error::{Error, Result};
use crate::mail::{MailConfig, Sender};
use crate::shutdown::Shutdown;

/// When the quarterly job runs.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// With a seconds field: `0 0 8 1 1,4,7,10 *` is 08:00 on Jan 1, Apr 1,
    /// Jul 1 and Oct 1.
    pub quarterly_cron: String,
    /// When the last quarter is run if it has no completed run yet: every
    /// hour at 17 minutes past by default, so that a quarter whose scheduled
    /// run found nobody to evaluate (the people were imported later) or
    /// failed runs within the hour, not at the next restart. A quarter
    /// already done costs one query.
    pub catch_up_cron: String,
    /// An IANA zone name, `Asia/Taipei` by default.
    pub timezone: String,
    /// This replica's name in the job lease.
    pub holder: String,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            quarterly_cron: "0 0 8 1 1,4,7,10 *".into(),
            catch_up_cron: "0 17 * * * *".into(),
            timezone: "Asia/Taipei".into(),
            holder: format!("replica-{}", std::process::id()),
        }
    }
}

pub fn timezone(name: &str) -> Result<Tz> {
    Tz::from_str(name).map_err(|_| Error::bad_input("LEARNMAP_TIMEZONE", format!("\"{name}\" is not a time zone")))
}

/// Starts the scheduler; the returned handle keeps it running. Each run is
/// tracked by `shutdown`, so a stopping process lets it finish.
pub async fn start(
    db: DatabaseConnection,
    schedule: ScheduleConfig,
    mail: MailConfig,
    shutdown: Shutdown,
) -> Result<JobScheduler> {
    let tz = timezone(&schedule.timezone)?;
    let scheduler = JobScheduler::new().await.map_err(scheduler_error)?;

    for (cron, trigger) in [
        (schedule.quarterly_cron.clone(), Trigger::Schedule),
        (schedule.catch_up_cron.clone(), Trigger::CatchUp),
    ] {
        let (db, schedule, mail, shutdown) = (db.clone(), schedule.clone(), mail.clone(), shutdown.clone());
        let job = Job::new_async_tz(cron.as_str(), tz, move |_id, _lock| {
            let (db, schedule, mail, shutdown) = (db.clone(), schedule.clone(), mail.clone(), shutdown.clone());
            Box::pin(async move {
                let stop = shutdown.token().clone();
                shutdown
                    .track(run_last_quarter(&db, &schedule, &mail, trigger, &stop))
                    .await;
            })
        })
        .map_err(scheduler_error)?;
        scheduler.add(job).await.map_err(scheduler_error)?;
    }
    scheduler.start().await.map_err(scheduler_error)?;
    Ok(scheduler)
}

/// Runs the quarter that ended last (in the configured zone) unless it has a
/// completed run, then sends what was queued. Failures are logged, never fatal:
/// the next start or schedule tries again. Once `stop` is cancelled nothing
/// new starts, and sending stops after the messages in flight.
pub async fn run_last_quarter(
    db: &DatabaseConnection,
    schedule: &ScheduleConfig,
    mail: &MailConfig,
    trigger: Trigger,
    stop: &CancellationToken,
) {
    if stop.is_cancelled() {
        return;
    }
    let started = std::time::Instant::now();
    let Ok(tz) = timezone(&schedule.timezone) else { return };
    let today = Utc::now().with_timezone(&tz).date_naive();
    let (year, quarter) = quarter::last_ended(today);

    let request = RunRequest {
        year,
        quarter,
        dry_run: false,
        trigger,
        holder: schedule.holder.clone(),
        today,
    };
    match quarterly::run(db, request).await {
        Ok(Outcome::Ran { run, .. }) => tracing::info!(
            job.name = quarterly::JOB,
            job.run = run.id,
            job.duration_ms = started.elapsed().as_millis() as u64,
            "scheduled run done"
        ),
        Ok(Outcome::Busy) => tracing::info!(job.name = quarterly::JOB, "another replica holds the lease"),
        Ok(Outcome::NobodyYet) => tracing::info!(job.name = quarterly::JOB, "nobody to evaluate yet"),
        Ok(Outcome::AlreadyDone { run }) => {
            tracing::info!(job.name = quarterly::JOB, job.run = run.id, "quarter already done")
        }
        Err(error) => tracing::error!(job.name = quarterly::JOB, error = %error, "scheduled run failed"),
    }

    match Sender::new(mail.clone()) {
        Ok(sender) => {
            if let Err(error) = sender.drain_until(db, stop).await {
                tracing::error!(error = %error, "sending mail failed");
            }
        }
        Err(error) => tracing::error!(error = %error, "mail is misconfigured"),
    }
}

fn scheduler_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("scheduler: {e}"))
}
