//! OpenTelemetry traces (issue #15, docs/telemetry.md): with
//! `[telemetry] otlp_endpoint` set, the `tracing` spans Ward already makes are
//! exported over OTLP/HTTP (JSON encoding, `POST {endpoint}/v1/traces`), and an
//! incoming W3C `traceparent` becomes the parent of a request's span.
//!
//! Off by default, and then nothing here runs: no layer is installed, no
//! thread started, and a request's span has no OpenTelemetry context to carry.
//!
//! What a span may carry is decided where the span is made: routes (never the
//! path with its ids), status, client ids, request ids; never a token, a code,
//! a secret or a password. `tests/telemetry.rs` checks every exported attribute.

mod http;

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// The provider, kept to flush the last spans at shutdown.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
}

/// Is a tracer installed (an OTLP endpoint configured)?
pub fn enabled() -> bool {
    PROVIDER.get().is_some()
}

/// The layer exporting spans to `endpoint` (the collector's base URL,
/// e.g. `http://127.0.0.1:4318`), as `service_name`.
pub fn layer<S>(endpoint: &str, service_name: &str) -> Result<impl Layer<S>, TelemetryError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let traces = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(traces)
        .with_timeout(Duration::from_secs(5))
        .with_http_client(http::UreqClient::new(Duration::from_secs(5)))
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    // The batch processor exports from a thread of its own (OTEL_BSP_*
    // variables tune it), never on a request's path.
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_string())
                .build(),
        )
        .build();
    let tracer = provider.tracer("ward");
    let _ = PROVIDER.set(provider);
    Ok(tracing_opentelemetry::layer().with_tracer(tracer))
}

/// Export what is still buffered (at the end of `ward serve`).
pub fn shutdown() {
    if let Some(p) = PROVIDER.get()
        && let Err(e) = p.shutdown()
    {
        tracing::warn!(error = %e, "flushing the last traces failed");
    }
}

/// The trace context of an incoming `traceparent` (W3C Trace Context), to
/// parent a request's span; None when tracing is off or none came.
pub fn remote_parent<'a>(
    header: impl Fn(&str) -> Option<&'a str>,
) -> Option<opentelemetry::Context> {
    if !enabled() {
        return None;
    }
    let mut carrier = std::collections::HashMap::new();
    for name in ["traceparent", "tracestate"] {
        if let Some(v) = header(name) {
            carrier.insert(name.to_string(), v.to_string());
        }
    }
    carrier
        .contains_key("traceparent")
        .then(|| TraceContextPropagator::new().extract(&carrier))
}

/// Make `cx` the parent of `span`.
pub fn set_parent(span: &tracing::Span, cx: opentelemetry::Context) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if let Err(e) = span.set_parent(cx) {
        tracing::debug!(error = ?e, "could not parent the request span");
    }
}
