//! `/metrics` in the Prometheus text format: HTTP requests and their latency by matched route,
//! method and status; store latency by operation and outcome; audit entries written.
//!
//! Labels never hold personal data: the route is the *matched* path (`/api/v1/subjects/{id}`),
//! never the raw one, and methods outside the standard set are counted as `other`. Each server
//! keeps its own [`Registry`], so two servers in one process (as in the tests) do not mix their
//! counts.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::AppState;

/// Latency buckets in seconds, from half a millisecond to ten seconds.
const BUCKETS: [f64; 14] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// What `due_soon` means for the request gauges.
const DUE_SOON_DAYS: i64 = 7;

/// The route label of a request that matched no route.
const UNMATCHED: &str = "unmatched";

/// The metric families of one server.
#[derive(Clone)]
struct Families {
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    store_duration: HistogramVec,
    audit_entries: IntCounter,
    requests: IntGaugeVec,
}

impl Families {
    fn new(registry: &Registry) -> prometheus::Result<Families> {
        let http_requests = IntCounterVec::new(
            Opts::new(
                "integritet_http_requests_total",
                "HTTP requests answered, by matched route, method and status.",
            ),
            &["route", "method", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "integritet_http_request_duration_seconds",
                "Time from receiving a request to its response, by matched route, method and status.",
            )
            .buckets(BUCKETS.to_vec()),
            &["route", "method", "status"],
        )?;
        let store_duration = HistogramVec::new(
            HistogramOpts::new(
                "integritet_store_operation_duration_seconds",
                "Time a store operation took, by operation and outcome (ok or error).",
            )
            .buckets(BUCKETS.to_vec()),
            &["operation", "outcome"],
        )?;
        let audit_entries = IntCounter::new(
            "integritet_audit_entries_written_total",
            "Audit entries the store acknowledged as written.",
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(store_duration.clone()))?;
        let requests = IntGaugeVec::new(
            Opts::new(
                "integritet_requests",
                "Open data subjects' requests, by deadline: open (all), due_soon (within 7 days), overdue.",
            ),
            &["deadline"],
        )?;
        registry.register(Box::new(audit_entries.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        Ok(Families {
            http_requests,
            http_duration,
            store_duration,
            audit_entries,
            requests,
        })
    }
}

/// The metrics of one server. Cheap to clone (shared behind an `Arc`).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    /// `None` only if the families could not be built, which their fixed names rule out; then
    /// nothing is counted and `/metrics` is empty, but the server still runs.
    families: Option<Families>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("enabled", &self.inner.families.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let families = Families::new(&registry)
            .map_err(|error| tracing::error!(%error, "metrics are disabled"))
            .ok();
        Metrics {
            inner: Arc::new(Inner { registry, families }),
        }
    }

    /// Whether metrics are being collected.
    pub fn enabled(&self) -> bool {
        self.inner.families.is_some()
    }

    /// Records one answered HTTP request.
    pub fn observe_request(&self, route: &str, method: &Method, status: StatusCode, seconds: f64) {
        let Some(families) = &self.inner.families else {
            return;
        };
        let labels = [route, method_label(method), status.as_str()];
        families.http_requests.with_label_values(&labels).inc();
        families
            .http_duration
            .with_label_values(&labels)
            .observe(seconds);
    }

    /// Sets the request gauges.
    pub fn set_requests(&self, counts: integritet_app::vault::RequestDeadlines) {
        let Some(families) = &self.inner.families else {
            return;
        };
        for (label, value) in [
            ("open", counts.open),
            ("due_soon", counts.due_soon),
            ("overdue", counts.overdue),
        ] {
            families
                .requests
                .with_label_values(&[label])
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        }
    }

    /// Records one store operation.
    pub fn observe_store(&self, operation: &'static str, ok: bool, seconds: f64) {
        let Some(families) = &self.inner.families else {
            return;
        };
        let outcome = if ok { "ok" } else { "error" };
        families
            .store_duration
            .with_label_values(&[operation, outcome])
            .observe(seconds);
    }

    /// Counts audit entries the store acknowledged.
    pub fn audit_written(&self, entries: usize) {
        if let Some(families) = &self.inner.families {
            families
                .audit_entries
                .inc_by(u64::try_from(entries).unwrap_or(u64::MAX));
        }
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.inner.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// A fixed label for the method, so an invented method cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware that times each request and counts it under its matched route.
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.observe_request(
        route.as_deref().unwrap_or(UNMATCHED),
        &method,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The media type of the Prometheus text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Metrics in the Prometheus text format",
    description = "Requests and latency by matched route, method and status; store latency by \
        operation; audit entries written. Labels never hold personal data.",
    responses(
        (status = 200, description = "The metrics", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 500, response = crate::openapi::Internal),
    )
)]
pub(crate) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.metrics_need_token
        && let Err(refused) = administrator(&state, &headers).await
    {
        return refused;
    }
    // Counted at each scrape from the rows' clear columns; a failure leaves the last figures.
    match state.vault().request_deadlines(DUE_SOON_DAYS).await {
        Ok(counts) => state.metrics.set_requests(counts),
        Err(error) => tracing::warn!(%error, "cannot count requests for /metrics"),
    }
    match state.metrics.render() {
        Ok(text) => {
            let mut response = text.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            response
        }
        Err(error) => {
            tracing::error!(%error, "cannot render metrics");
            crate::error::internal().into_response()
        }
    }
}

/// The store reports every operation here (`Maintenance::observe`): its latency by operation
/// and outcome, and the audit entries it acknowledged.
impl integritet_app::store::StoreObserver for Metrics {
    fn operation(&self, operation: &'static str, elapsed: std::time::Duration, ok: bool) {
        self.observe_store(operation, ok, elapsed.as_secs_f64());
    }

    fn audit_written(&self, entries: u64) {
        Metrics::audit_written(self, usize::try_from(entries).unwrap_or(usize::MAX));
    }
}

/// On a server reachable from other hosts, the metrics (request rates, latencies, counts) are
/// for the administrator only: a bearer token of the `admin` role.
async fn administrator(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    use integritet_app::vault::{Actor, StaffRole};
    let Some(bearer) = crate::auth::bearer_of(headers) else {
        return Err(crate::error::ApiError::Unauthorized.into_response());
    };
    match state.authenticator.authenticate(bearer).await {
        Ok(Actor::Staff {
            role: StaffRole::Admin,
            ..
        }) => Ok(()),
        Ok(_) => Err(
            crate::error::ApiError::Vault(integritet_app::vault::VaultError::Forbidden(
                "the metrics of a server reachable from other hosts are for the administrator's \
                 token only"
                    .into(),
            ))
            .into_response(),
        ),
        Err(crate::auth::AuthFailure::Invalid) => {
            Err(crate::error::ApiError::Unauthorized.into_response())
        }
        Err(crate::auth::AuthFailure::Unavailable(cause)) => {
            tracing::error!(%cause, "tokens cannot be checked");
            Err(crate::error::unavailable().into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_built_and_rendered() {
        let metrics = Metrics::new();
        assert!(metrics.enabled());
        metrics.observe_request("/api/v1/subjects/{id}", &Method::GET, StatusCode::OK, 0.002);
        metrics.observe_request(
            UNMATCHED,
            &Method::from_bytes(b"BREW").unwrap(),
            StatusCode::NOT_FOUND,
            0.0,
        );
        metrics.observe_store("subject", true, 0.001);
        metrics.audit_written(3);
        let text = metrics.render().unwrap();
        assert!(text.contains(
            r#"integritet_http_requests_total{method="GET",route="/api/v1/subjects/{id}",status="200"} 1"#
        ), "{text}");
        assert!(text.contains(r#"method="other""#), "{text}");
        assert!(text.contains(
            r#"integritet_store_operation_duration_seconds_count{operation="subject",outcome="ok"} 1"#
        ), "{text}");
        assert!(
            text.contains("integritet_audit_entries_written_total 3"),
            "{text}"
        );
    }
}
