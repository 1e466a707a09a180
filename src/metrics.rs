//! Prometheus metrics: GraphQL requests, HTTP requests, job runs and mail.
//!
//! A [`Metrics`] is one registry with its metric families. The GraphQL schema
//! creates one and keeps it in its data; the router takes the schema's to count
//! HTTP requests and serve `GET /metrics`. Tests build many schemas in one
//! process, so each has its own counters and none sees another's requests.
//!
//! The job and the mail sender count through [`current`] rather than a handle
//! passed down: they are called from GraphQL mutations, the scheduler and the
//! CLI, and threading a handle through each would change every signature on
//! the way. A GraphQL request runs with its schema's metrics as the current
//! ones (a task-local); the server also installs them for the whole process
//! ([`install`]) so the scheduler's runs count too. With neither (the CLI),
//! recording does nothing.
//!
//! Labels never name people: operations, routes, jobs, message kinds and
//! outcomes only.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::Result;
use crate::jobs::quarterly::Outcome;

/// The content type of the text exposition format `GET /metrics` answers in.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The most distinct operation labels kept; later ones count as `other`, as
/// clients choose operation names freely.
pub const MAX_OPERATIONS: usize = 100;
/// The longest operation label, in characters.
pub const MAX_OPERATION_LEN: usize = 64;
/// The label of operations past [`MAX_OPERATIONS`].
pub const OTHER_OPERATION: &str = "other";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationOutcome {
    operation: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Operation {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobOutcome {
    job: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Job {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EmailOutcome {
    kind: String,
    outcome: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

struct Inner {
    registry: Registry,
    graphql_requests: Family<OperationOutcome, Counter>,
    graphql_duration: Histograms<Operation>,
    http_requests: Family<RouteStatus, Counter>,
    job_runs: Family<JobOutcome, Counter>,
    job_duration: Histograms<Job>,
    emails: Family<EmailOutcome, Counter>,
    operations: Mutex<HashSet<String>>,
}

/// A registry and its metrics; clones share them.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Requests take milliseconds to seconds: 5 ms to about 10 s.
fn request_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 12))
}

/// A quarterly run takes seconds to minutes: 50 ms to about 7 min.
fn job_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 14))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let graphql_requests = Family::default();
        let graphql_duration: Histograms<Operation> = Family::new_with_constructor(request_buckets);
        let http_requests = Family::default();
        let job_runs = Family::default();
        let job_duration: Histograms<Job> = Family::new_with_constructor(job_buckets);
        let emails = Family::default();

        registry.register(
            "learnmap_graphql_requests",
            "GraphQL operations by operation and outcome (ok, error)",
            graphql_requests.clone(),
        );
        registry.register(
            "learnmap_graphql_request_duration_seconds",
            "How long GraphQL operations took",
            graphql_duration.clone(),
        );
        registry.register(
            "learnmap_http_requests",
            "HTTP requests by matched route and status",
            http_requests.clone(),
        );
        registry.register(
            "learnmap_job_runs",
            "Job runs by job and outcome (completed, failed, busy, already_done, nobody_yet)",
            job_runs.clone(),
        );
        registry.register(
            "learnmap_job_duration_seconds",
            "How long job runs took",
            job_duration.clone(),
        );
        registry.register(
            "learnmap_emails",
            "Delivery attempts by message kind and outcome (sent, failed, retry)",
            emails.clone(),
        );

        Metrics(Arc::new(Inner {
            registry,
            graphql_requests,
            graphql_duration,
            http_requests,
            job_runs,
            job_duration,
            emails,
            operations: Mutex::new(HashSet::new()),
        }))
    }

    /// The registry in the text exposition format.
    pub fn encode(&self) -> Result<String> {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.0.registry)
            .map_err(|e| crate::Error::Internal(format!("cannot encode metrics: {e}")))?;
        Ok(text)
    }

    /// Counts one GraphQL operation. `operation` is sanitised and bounded here.
    pub fn graphql_request(&self, operation: &str, ok: bool, took: Duration) {
        let operation = self.bounded_operation(operation);
        let outcome = if ok { "ok" } else { "error" };

        self.0
            .graphql_requests
            .get_or_create(&OperationOutcome {
                operation: operation.clone(),
                outcome,
            })
            .inc();
        self.0
            .graphql_duration
            .get_or_create(&Operation { operation })
            .observe(took.as_secs_f64());
    }

    /// Counts one HTTP request by its matched route (never the raw path, which
    /// holds unit codes and query strings).
    pub fn http_request(&self, route: &str, status: u16) {
        let labels = RouteStatus {
            route: route.to_string(),
            status,
        };
        self.0.http_requests.get_or_create(&labels).inc();
    }

    fn job_run(&self, job: &str, outcome: &'static str, took: Duration) {
        let labels = JobOutcome {
            job: job.to_string(),
            outcome,
        };
        self.0.job_runs.get_or_create(&labels).inc();
        self.0
            .job_duration
            .get_or_create(&Job { job: job.to_string() })
            .observe(took.as_secs_f64());
    }

    fn email(&self, kind: &str, outcome: &'static str) {
        let labels = EmailOutcome {
            kind: kind.to_string(),
            outcome,
        };
        self.0.emails.get_or_create(&labels).inc();
    }

    /// The operation's label: sanitised, and `other` once [`MAX_OPERATIONS`]
    /// distinct labels have been seen.
    fn bounded_operation(&self, operation: &str) -> String {
        let label = sanitize_operation(operation);
        let mut seen = self.0.operations.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.contains(&label) {
            return label;
        }
        if seen.len() >= MAX_OPERATIONS {
            return OTHER_OPERATION.to_string();
        }
        seen.insert(label.clone());
        label
    }

    /// Runs `future` with these metrics as the [`current`] ones.
    pub async fn scope<F: Future>(&self, future: F) -> F::Output {
        CURRENT.scope(self.clone(), future).await
    }
}

/// Keeps `[A-Za-z0-9_:]`, turns anything else into `_`, and cuts the label at
/// [`MAX_OPERATION_LEN`] characters; an empty name becomes `_`.
pub fn sanitize_operation(operation: &str) -> String {
    let label: String = operation
        .chars()
        .take(MAX_OPERATION_LEN)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if label.is_empty() { "_".to_string() } else { label }
}

tokio::task_local! {
    static CURRENT: Metrics;
}

static PROCESS: OnceLock<Metrics> = OnceLock::new();

/// Makes `metrics` the current ones wherever no request has its own: the
/// server calls it once, so scheduled jobs count. Later calls change nothing.
pub fn install(metrics: &Metrics) {
    let _ = PROCESS.set(metrics.clone());
}

/// The metrics of the GraphQL request being run, else those the process
/// installed, else none.
pub fn current() -> Option<Metrics> {
    CURRENT.try_with(Metrics::clone).ok().or_else(|| PROCESS.get().cloned())
}

/// The outcome label of a job run.
fn job_outcome(result: &Result<Outcome>) -> &'static str {
    match result {
        Ok(Outcome::Ran { .. }) => "completed",
        Ok(Outcome::Busy) => "busy",
        Ok(Outcome::AlreadyDone { .. }) => "already_done",
        Ok(Outcome::NobodyYet) => "nobody_yet",
        Err(_) => "failed",
    }
}

/// Counts a run of `job` that began at `started` and ended with `result`.
pub fn job_finished(job: &str, result: &Result<Outcome>, started: Instant) {
    if let Some(metrics) = current() {
        metrics.job_run(job, job_outcome(result), started.elapsed());
    }
}

/// Counts a message of `kind` handed to the mail server.
pub fn email_sent(kind: &str) {
    if let Some(metrics) = current() {
        metrics.email(kind, "sent");
    }
}

/// Counts a message of `kind` not delivered: `retry` when it will be tried
/// again, `failed` when it has been given up.
pub fn email_failed(kind: &str, will_retry: bool) {
    if let Some(metrics) = current() {
        metrics.email(kind, if will_retry { "retry" } else { "failed" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_keep_only_safe_characters() {
        assert_eq!(sanitize_operation("MyUnits"), "MyUnits");
        assert_eq!(sanitize_operation("query:compliance"), "query:compliance");
        assert_eq!(sanitize_operation("a b\"c}\n單位"), "a_b_c____");
        assert_eq!(sanitize_operation(""), "_");
        assert_eq!(sanitize_operation(&"x".repeat(100)).len(), MAX_OPERATION_LEN);
    }

    #[test]
    fn operations_past_the_limit_count_as_other() {
        let metrics = Metrics::new();
        for i in 0..MAX_OPERATIONS {
            metrics.graphql_request(&format!("Op{i}"), true, Duration::from_millis(1));
        }

        metrics.graphql_request("Op0", true, Duration::from_millis(1));
        metrics.graphql_request("Late", false, Duration::from_millis(1));

        let text = metrics.encode().expect("encodes");
        assert!(text.contains("learnmap_graphql_requests_total{operation=\"Op0\",outcome=\"ok\"} 2\n"));
        assert!(text.contains("learnmap_graphql_requests_total{operation=\"other\",outcome=\"error\"} 1\n"));
        assert!(!text.contains("Late"));
    }

    #[test]
    fn job_outcomes_have_their_labels() {
        let metrics = Metrics::new();
        let started = Instant::now();

        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(metrics.scope(async {
                job_finished("quarterly_shortfall", &Ok(Outcome::Busy), started);
                job_finished("quarterly_shortfall", &Ok(Outcome::NobodyYet), started);
                job_finished("quarterly_shortfall", &Err(crate::Error::Internal("x".into())), started);
                email_failed("digest", true);
            }));

        let text = metrics.encode().expect("encodes");
        for outcome in ["busy", "nobody_yet", "failed"] {
            let line = format!("learnmap_job_runs_total{{job=\"quarterly_shortfall\",outcome=\"{outcome}\"}} 1\n");
            assert!(text.contains(&line), "{line} in {text}");
        }
        assert!(text.contains("learnmap_job_duration_seconds_count{job=\"quarterly_shortfall\"} 3\n"));
        assert!(text.contains("learnmap_emails_total{kind=\"digest\",outcome=\"retry\"} 1\n"));
    }

    #[test]
    fn outside_a_scope_there_are_no_current_metrics() {
        assert!(current().is_none());

        email_sent("reminder");
    }
}
