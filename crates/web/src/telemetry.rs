//! Request metrics and logs, labelled by route template (not raw path, so ids do not
//! explode the label set).

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!("convene_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.clone()).increment(1);
    metrics::histogram!("convene_http_request_duration_seconds", "method" => method.clone(), "route" => route.clone()).record(elapsed);
    tracing::debug!(%method, %route, %status, elapsed_ms = elapsed * 1000.0, "request");
    response
}
