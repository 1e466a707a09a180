//! HTTP: the GraphQL endpoint, with GraphiQL for browsers, on axum.

use std::net::SocketAddr;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use crate::graphql::AppSchema;

/// The path of the GraphQL endpoint.
pub const GRAPHQL_PATH: &str = "/graphql";

pub fn router(schema: AppSchema) -> Router {
    Router::new()
        .route(GRAPHQL_PATH, get(get_graphql).post(post_graphql))
        .with_state(schema)
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
pub async fn serve(listener: TcpListener, schema: AppSchema) -> std::io::Result<()> {
    axum::serve(listener, router(schema))
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
