//! HTTP: the GraphQL endpoint (with GraphiQL for browsers), the unit report
//! download and the health checks, on axum.
//!
//! - `/graphql` (GET and POST) authenticates the bearer token and runs the
//!   request as its caller (see `auth` and `graphql::access`). A request with
//!   no token is anonymous; one with a token that does not verify is refused
//!   with 401 and `UNAUTHENTICATED`, whatever it asks for. A GET may only
//!   read: a mutation over GET is refused with 405. A GET names the operation
//!   to run with `operationName` (or async-graphql's `operation_name`).
//! - A body may hold at most [`MAX_BODY_BYTES`] (16 MiB, not the usual 1 MiB:
//!   the imports send whole CSV files as text); more is refused with 413.
//! - A batch (a JSON array of operations) may hold at most [`MAX_BATCH`]
//!   operations; more is refused with 400 before any runs.
//! - Introspection can be turned off (`LEARNMAP_INTROSPECTION=false`).
//! - `/healthz` answers 200 `ok` while the process runs; `/readyz` answers 200
//!   when the database answers `SELECT 1` within two seconds and, with a JWKS
//!   URL, its keys have been fetched at least once; else 503.
//! - `/metrics` answers the schema's metrics (see `metrics`) in the Prometheus
//!   text format, without a token like the health checks, unless turned off
//!   (`LEARNMAP_METRICS=false`). Every matched route is counted there.
//!
//! Errors of the HTTP layer, the report download's included, have the
//! GraphQL shape, `{"errors": [{"message", "extensions": {"code"}}]}`, with
//! the codes of the resolvers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, ParseRequestError, Pos};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, MatchedPath, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::auth::{self, AuthError, Verifier};
use crate::clock;
use crate::compliance::service;
use crate::graphql::{AppSchema, Caller};
use crate::metrics::{self as app_metrics, Metrics};
use crate::report::{self, ReportQuery};

/// The path of the GraphQL endpoint.
pub const GRAPHQL_PATH: &str = "/graphql";
/// The largest request body: 16 MiB, as imports send whole CSV files as text.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The most operations a batch request may hold.
pub const MAX_BATCH: usize = 10;
/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// How the server runs, as flags and environment variables of `serve`.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Server")]
pub struct ServerArgs {
    /// Answer introspection queries (`false` hides the schema from clients).
    #[arg(long, global = true, env = "LEARNMAP_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
    /// Serve `GET /metrics` (`false` turns it off; requests are still counted).
    #[arg(long, global = true, env = "LEARNMAP_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
}

impl Default for ServerArgs {
    fn default() -> Self {
        ServerArgs {
            introspection: true,
            metrics: true,
        }
    }
}

#[derive(Clone)]
struct AppState {
    schema: AppSchema,
    db: DatabaseConnection,
    verifier: Arc<Verifier>,
    introspection: bool,
    metrics: Metrics,
}

/// The routes with no keys to verify tokens with: every request with a token
/// is refused, so only anonymous requests are served.
pub fn router(schema: AppSchema, db: DatabaseConnection) -> Router {
    app(
        schema,
        db,
        Verifier::new(auth::DEFAULT_ISSUER, auth::DEFAULT_AUDIENCE),
        ServerArgs::default(),
    )
}

/// Every route, checking tokens with the verifier. HTTP requests count in
/// the schema's metrics, so `/metrics` shows GraphQL and HTTP together.
pub fn app(schema: AppSchema, db: DatabaseConnection, verifier: Verifier, args: ServerArgs) -> Router {
    let metrics = schema.data::<Metrics>().cloned().unwrap_or_default();
    let state = AppState {
        schema,
        db,
        verifier: Arc::new(verifier),
        introspection: args.introspection,
        metrics: metrics.clone(),
    };
    let mut router = Router::new()
        .route(GRAPHQL_PATH, get(get_graphql).post(post_graphql))
        .route("/reports/units/{code}", get(unit_report))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if args.metrics {
        router = router.route("/metrics", get(metrics_text));
    }
    router
        .route_layer(middleware::from_fn_with_state(metrics, count_request))
        .fallback(no_such_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state)
}

/// Counts a request by the route it matched (`/reports/units/{code}`, not the
/// unit) and the status answered.
async fn count_request(State(metrics): State<Metrics>, route: MatchedPath, request: Request, next: Next) -> Response {
    let route = route.as_str().to_string();

    let response = next.run(request).await;

    metrics.http_request(&route, response.status().as_u16());
    response
}

/// `GET /metrics`: the text exposition format Prometheus scrapes.
async fn metrics_text(State(state): State<AppState>) -> Response {
    match state.metrics.encode() {
        Ok(text) => ([(header::CONTENT_TYPE, app_metrics::CONTENT_TYPE)], text).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "metrics not served");
            (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable").into_response()
        }
    }
}

/// The caller a request's `Authorization` header names: anonymous without
/// one; an error for anything but a valid bearer token. A token may wait for
/// the identity provider's keys to be fetched.
async fn authenticate(verifier: &Verifier, headers: &HeaderMap) -> Result<Caller, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(auth::bearer_token)
        .ok_or_else(|| AuthError::Invalid("not a bearer token".into()))?;
    verifier.verify_fetching(token).await
}

fn refused(error: &AuthError) -> Response {
    tracing::info!(reason = %error, "token refused");
    let mut response = graphql_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", error.client_message());
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

/// An error of the HTTP layer, in the shape of a GraphQL response.
fn graphql_error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut error = async_graphql::ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    (status, axum::Json(Errors { errors: [error] })).into_response()
}

/// The body of an error answered outside GraphQL, serialised straight from
/// async-graphql's error type so that its keys come in the same order as in
/// a GraphQL response (`message`, then `extensions`), which a `serde_json`
/// map, sorting its keys, would not keep.
#[derive(serde::Serialize)]
struct Errors {
    errors: [async_graphql::ServerError; 1],
}

/// A request that cannot be read as GraphQL.
struct Unreadable(ParseRequestError);

impl From<ParseRequestError> for Unreadable {
    fn from(error: ParseRequestError) -> Self {
        Unreadable(error)
    }
}

impl IntoResponse for Unreadable {
    fn into_response(self) -> Response {
        match self.0 {
            ParseRequestError::PayloadTooLarge => too_large(),
            ParseRequestError::InvalidRequest(error) => graphql_error(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &not_a_request(&error.to_string()),
            ),
            other => graphql_error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &other.to_string()),
        }
    }
}

/// What was wrong with a body that is not a GraphQL request, without the
/// names of the types it failed to fill (serde's "untagged enum
/// BatchRequest").
fn not_a_request(detail: &str) -> String {
    const SHAPE: &str = "send a JSON object such as {\"query\": \"{ facets { code } }\"}, with the query as a string, \
                         and variables (an object) and operationName if needed, or a list of them";
    if detail.contains("untagged enum") || detail.contains("invalid type") {
        format!("the body is not a GraphQL request; {SHAPE}")
    } else {
        format!("the body is not JSON ({detail}); {SHAPE}, as Content-Type: application/json")
    }
}

fn too_large() -> Response {
    let message = format!("the request is larger than {} MiB", MAX_BODY_BYTES / (1024 * 1024));
    graphql_error(StatusCode::PAYLOAD_TOO_LARGE, "BAD_USER_INPUT", &message)
}

/// A browser (asking for HTML) gets GraphiQL; any other GET is a query.
async fn get_graphql(State(state): State<AppState>, request: Request) -> Response {
    if wants_html(request.headers()) {
        return Html(GraphiQLSource::build().endpoint(GRAPHQL_PATH).finish()).into_response();
    }
    let caller = match authenticate(&state.verifier, request.headers()).await {
        Ok(caller) => caller,
        Err(error) => return refused(&error),
    };
    let named = match operation_name(request.uri().query().unwrap_or_default()) {
        Ok(named) => named,
        Err(reason) => return graphql_error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", reason),
    };
    let mut request = match GraphQLRequest::<Unreadable>::from_request(request, &()).await {
        Ok(request) => request.into_inner(),
        Err(unreadable) => return unreadable.into_response(),
    };
    if named.is_some() {
        request.operation_name = named;
    }
    if runs_a_mutation(&request) {
        let mut response = graphql_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_USER_INPUT",
            "a mutation must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, caller, BatchRequest::Single(request)).await
}

/// The operation a GET names with the standard `operationName` parameter.
/// async-graphql reads only `operation_name` from a query string, which it
/// keeps doing when `operationName` is absent; without this, a GET of a
/// document with several operations could not choose one, and the mutation
/// check below would not know which one runs.
/// Given twice it is refused, as the report refuses a repeated parameter:
/// either name could be the one meant.
fn operation_name(query: &str) -> Result<Option<String>, &'static str> {
    let mut names = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == "operationName")
        .map(|(_, name)| name.into_owned());
    let first = names.next();
    if names.next().is_some() {
        return Err("operationName is given more than once; give it once");
    }
    Ok(first.filter(|name| !name.is_empty()))
}

/// Whether the request would run a mutation: links, prefetchers and caches
/// repeat GET requests, so a GET may only read.
fn runs_a_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let operation = match &document.operations {
        DocumentOperations::Single(operation) => Some(operation),
        DocumentOperations::Multiple(operations) => match &request.operation_name {
            Some(name) => operations.get(name.as_str()),
            None if operations.len() == 1 => operations.values().next(),
            None => None,
        },
    };
    operation.is_some_and(|o| o.node.ty == OperationType::Mutation)
}

async fn post_graphql(State(state): State<AppState>, request: Request) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return too_large();
    }
    let caller = match authenticate(&state.verifier, request.headers()).await {
        Ok(caller) => caller,
        Err(error) => return refused(&error),
    };

    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return too_large();
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    let batch = match GraphQLBatchRequest::<Unreadable>::from_request(request, &()).await {
        Ok(batch) => batch.into_inner(),
        Err(unreadable) => return unreadable.into_response(),
    };
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > MAX_BATCH
    {
        let message = format!(
            "a batch may hold at most {MAX_BATCH} operations; this one holds {}",
            requests.len()
        );
        return graphql_error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &message);
    }
    execute(&state, caller, batch).await
}

/// Runs the request as the caller, in a span that names the caller by
/// employee number (so the resolvers' logs do too).
async fn execute(state: &AppState, caller: Caller, batch: BatchRequest) -> Response {
    let empty_batch = matches!(&batch, BatchRequest::Batch(requests) if requests.is_empty());
    if empty_batch || batch.iter().any(|request| request.query.trim().is_empty()) {
        return graphql_error(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "the request has no query; send one such as {\"query\": \"{ facets { code } }\"}",
        );
    }
    let span = tracing::info_span!("graphql", caller = %caller.log_id());
    let mut batch = batch.data(caller);
    if !state.introspection {
        batch = batch.disable_introspection();
    }
    GraphQLResponse::from(state.schema.execute_batch(batch).instrument(span).await).into_response()
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// `GET /healthz`: the process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers, and the identity provider's keys
/// have been fetched when they come from a URL.
async fn readyz(State(state): State<AppState>) -> Response {
    if !state.verifier.is_ready() {
        tracing::warn!("not ready: the identity provider's JWKS has not been fetched yet");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "identity provider keys not fetched yet",
        )
            .into_response();
    }
    match tokio::time::timeout(READY_TIMEOUT, state.db.execute_unprepared("SELECT 1")).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "not ready: the database refused SELECT 1");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer in time");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// `GET /reports/units/{code}?year=2026&format=csv|xlsx[&asOf=2026-06-30]`: the
/// unit report as a download (admins, with a bearer token).
///
/// Every error has the GraphQL shape and codes: the caller is checked first
/// (so that only admins learn what the parameters should be), then the
/// query string, read here rather than by axum's `Query`, whose refusal is
/// plain text.
async fn unit_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    code: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(refusal) = unless_admin(&state.verifier, &headers).await {
        return refusal;
    }
    // A path that does not decode to text (`%FF`) names no unit.
    let Ok(Path(code)) = code else {
        return graphql_error(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "the unit code in the path is not UTF-8 text once percent-decoded",
        );
    };

    let result = async {
        let query = ReportQuery::parse(query.as_deref().unwrap_or_default())?;
        let as_of = service::as_of_for(query.year, query.as_of, clock::today())?;
        let bytes = report::unit_report(&state.db, &code, query.year, as_of, query.format).await?;
        Ok::<_, crate::Error>((query, bytes))
    }
    .await;

    match result {
        Ok((query, bytes)) => download(&crate::personnel::unit_key(&code), query, bytes),
        Err(error) => service_error(error),
    }
}

/// The refusal for anyone but an admin: the 401 or 403 GraphQL gives them.
async fn unless_admin(verifier: &Verifier, headers: &HeaderMap) -> Option<Response> {
    match authenticate(verifier, headers).await {
        Ok(Caller::Admin { .. }) => None,
        Ok(Caller::Anonymous) => {
            let mut response = graphql_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "sign in first");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            Some(response)
        }
        Ok(Caller::Person { .. }) => Some(graphql_error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "only admins may download unit reports",
        )),
        Err(error) => Some(refused(&error)),
    }
}

/// The report as an attachment named after the unit, as stored (the key
/// the request's code folds to), and the year.
fn download(code: &str, query: ReportQuery, bytes: Vec<u8>) -> Response {
    let filename = format!("learnmap-{code}-{}.{}", query.year, query.format.extension());
    (
        [
            (header::CONTENT_TYPE, query.format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, attachment(&filename)),
        ],
        bytes,
    )
        .into_response()
}

/// `Content-Disposition` for a file name that may hold any Unicode (unit
/// codes such as `工務局` do): `filename*` carries it percent-encoded as UTF-8
/// (RFC 6266, RFC 8187), which browsers use, and `filename` an ASCII
/// stand-in for the rest, with `_` for each character it cannot hold. In
/// both, `/` and `\` become `_`: a saved file name holds no folder.
fn attachment(filename: &str) -> String {
    /// What RFC 8187's `attr-char` leaves unencoded: letters, digits and `!#$&+-.^_`|~`.
    const ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');

    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let no_folders = filename.replace(['/', '\\'], "_");
    let encoded = percent_encoding::utf8_percent_encode(&no_folders, ENCODED);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Any other path: the GraphQL error shape, as every route of ours answers.
async fn no_such_route(uri: axum::http::Uri) -> Response {
    let message = format!(
        "{} is not a route of learnmap; use {GRAPHQL_PATH}, /reports/units/{{code}}, /healthz, /readyz or /metrics",
        uri.path()
    );
    graphql_error(StatusCode::NOT_FOUND, "NOT_FOUND", &message)
}

/// A route asked with a method it does not take (such as POST to a report).
async fn wrong_method(method: axum::http::Method) -> Response {
    let message = format!("{method} is not accepted here; see the Allow header");
    graphql_error(StatusCode::METHOD_NOT_ALLOWED, "BAD_USER_INPUT", &message)
}

/// A service error as GraphQL would answer it (the same mapping, message,
/// `extensions.code` and `extensions.fields`, and the cause of an internal
/// error logged there, once), with the HTTP status its code stands for.
fn service_error(error: crate::Error) -> Response {
    let status = match &error {
        crate::Error::BadInput(_) => StatusCode::BAD_REQUEST,
        crate::Error::NotFound { .. } => StatusCode::NOT_FOUND,
        crate::Error::Database(_) | crate::Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut error = crate::graphql::error::to_graphql(error).into_server_error(Pos::default());
    error.locations.clear();
    (status, axum::Json(Errors { errors: [error] })).into_response()
}

/// Serves the routes until Ctrl-C, SIGTERM or `stop` is cancelled, letting
/// requests in flight finish; a signal cancels `stop` for background work.
pub async fn serve(listener: TcpListener, app: Router, stop: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown_signal() => stop.cancel(),
                () = stop.cancelled() => {},
            }
            tracing::info!("shutting down");
        })
        .await
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::attachment;

    #[test]
    fn an_attachment_names_any_unit_in_utf8_with_an_ascii_stand_in() {
        assert_eq!(
            attachment("learnmap-DDB-2026.csv"),
            "attachment; filename=\"learnmap-DDB-2026.csv\"; filename*=UTF-8''learnmap-DDB-2026.csv"
        );
        assert_eq!(
            attachment("learnmap-工務局-2026.xlsx"),
            "attachment; filename=\"learnmap-___-2026.xlsx\"; filename*=UTF-8''learnmap-%E5%B7%A5%E5%8B%99%E5%B1%80-2026.xlsx"
        );
        assert_eq!(
            attachment("learnmap-PW/1-2026.csv"),
            "attachment; filename=\"learnmap-PW_1-2026.csv\"; filename*=UTF-8''learnmap-PW_1-2026.csv"
        );
        assert_eq!(
            attachment("a\"b;c.csv"),
            "attachment; filename=\"a_b;c.csv\"; filename*=UTF-8''a%22b%3Bc.csv"
        );
    }
}
