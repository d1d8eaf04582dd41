//! Prometheus metrics: requests by route and status, latency by route, articles annotated,
//! batch sizes, queue depth. Text exposition (OpenMetrics) at `GET /metrics`.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The matched route's pattern, or `other`.
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// Every metric the server keeps; cheap to clone (the metrics are shared handles).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    articles: Family<ResultLabels, Counter>,
    batch_articles: Histogram,
    queue_articles: Gauge,
    abandoned: Counter,
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~33 s: a lone article is tens of milliseconds, a large batch under load seconds.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("newstag");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let articles = Family::<ResultLabels, Counter>::default();
        // Powers of two up to 1024 articles in one model batch.
        let batch_articles = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        let queue_articles = Gauge::default();
        let abandoned = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response, by route",
            latency.clone(),
        );
        registry.register(
            "articles_annotated",
            "Articles through the pipeline, by result (ok, or error for an error record)",
            articles.clone(),
        );
        registry.register(
            "batch_articles",
            "Articles the batcher gathered into each run of the pipeline, across requests",
            batch_articles.clone(),
        );
        registry.register(
            "queue_articles",
            "Articles waiting for the annotator",
            queue_articles.clone(),
        );
        registry.register(
            "jobs_abandoned",
            "Requests whose articles were dropped unannotated because the client had gone (deadline or disconnect)",
            abandoned.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            requests,
            latency,
            articles,
            batch_articles,
            queue_articles,
            abandoned,
        }
    }

    pub fn request(&self, route: String, method: &'static str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.clone(),
                method,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
    }

    pub fn article_done(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.articles.get_or_create(&ResultLabels { result }).inc();
    }

    pub fn observe_batch(&self, articles: usize) {
        self.batch_articles.observe(articles as f64);
    }

    pub fn set_queue_depth(&self, articles: usize) {
        self.queue_articles
            .set(i64::try_from(articles).unwrap_or(i64::MAX));
    }

    pub fn job_abandoned(&self) {
        self.abandoned.inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
