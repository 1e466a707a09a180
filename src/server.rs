//! HTTP: the GraphQL endpoint, with GraphiQL for browsers, on axum.

use std::net::SocketAddr;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::clock;
use crate::compliance::service;
use crate::graphql::AppSchema;
use crate::report::{self, ReportFormat};

/// The path of the GraphQL endpoint.
pub const GRAPHQL_PATH: &str = "/graphql";

pub fn router(schema: AppSchema, db: DatabaseConnection) -> Router {
    let graphql = Router::new()
        .route(GRAPHQL_PATH, get(get_graphql).post(post_graphql))
        .with_state(schema);
    let reports = Router::new().route("/reports/units/{code}", get(unit_report)).with_state(db);
    graphql.merge(reports)
}

#[derive(Deserialize)]
struct ReportQuery {
    year: i32,
    #[serde(default)]
    format: Option<String>,
    #[serde(rename = "asOf")]
    as_of: Option<chrono::NaiveDate>,
}

/// `GET /reports/units/{code}?year=2026&format=csv|xlsx[&asOf=2026-06-30]`: the
/// unit report as a download (admins).
async fn unit_report(
    State(db): State<DatabaseConnection>,
    Path(code): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Response {
    let result = async {
        let format = ReportFormat::parse(query.format.as_deref().unwrap_or("csv"))?;
        let as_of = service::as_of_for(query.year, query.as_of, clock::today())?;
        let bytes = report::unit_report(&db, &code, query.year, as_of, format).await?;
        Ok::<_, crate::Error>((format, bytes))
    }
    .await;

    match result {
        Ok((format, bytes)) => {
            let filename = format!("learnmap-{code}-{}.{}", query.year, format.extension());
            let disposition = format!("attachment; filename=\"{}\"", filename.replace('"', ""));
            ([(header::CONTENT_TYPE, format.content_type().to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
                .into_response()
        }
        Err(error) => error_response(error),
    }
}

/// The HTTP counterpart of the GraphQL error mapping: status, code and a safe
/// message.
fn error_response(error: crate::Error) -> Response {
    let (status, code) = match &error {
        crate::Error::BadInput(_) => (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"),
        crate::Error::NotFound { .. } => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        crate::Error::Database(_) | crate::Error::Internal(_) => {
            tracing::error!(error = %error, "report failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL")
        }
    };
    let message = match status {
        StatusCode::INTERNAL_SERVER_ERROR => "internal error".to_string(),
        _ => error.to_string(),
    };
    (status, axum::Json(serde_json::json!({ "error": { "code": code, "message": message } }))).into_response()
}

/// A browser (asking for HTML) gets GraphiQL; any other GET is a query.
async fn get_graphql(State(schema): State<AppSchema>, headers: HeaderMap, request: GraphQLRequest) -> Response {
    if wants_html(&headers) {
        return Html(GraphiQLSource::build().endpoint(GRAPHQL_PATH).finish()).into_response();
    }
    GraphQLResponse::from(schema.execute(request.into_inner()).await).into_response()
}

async fn post_graphql(State(schema): State<AppSchema>, request: GraphQLRequest) -> GraphQLResponse {
    schema.execute(request.into_inner()).await.into()
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Serves until Ctrl-C or SIGTERM, letting requests in flight finish.
pub async fn serve(listener: TcpListener, schema: AppSchema, db: DatabaseConnection) -> std::io::Result<()> {
    axum::serve(listener, router(schema, db))
        .with_graceful_shutdown(shutdown_signal())
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
    tracing::info!("shutting down");
}
