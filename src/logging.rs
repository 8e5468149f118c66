//! Process logging: the `tracing` subscriber for `ward` and its commands.
//!
//! One rule beyond level filtering: a malformed request head or a connection
//! the client broke is the client's fault, yet actix-http logs it at ERROR
//! (`stream error: request parse error: …`). Anyone who can reach the port
//! could fill the error log with those. They are counted instead (for
//! `/metrics`) and written only when debug logging is on.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{Config, LogFormat};

/// Where actix-http reports a failed client connection (a request head it
/// cannot parse, a reset, a write to a closed socket).
const CLIENT_CONNECTION_TARGET: &str = "actix_http::h1::dispatcher";

static CLIENT_CONNECTION_ERRORS: AtomicU64 = AtomicU64::new(0);

/// Client connections that ended in a protocol or stream error (malformed request heads).
pub fn client_connection_errors() -> u64 {
    CLIENT_CONNECTION_ERRORS.load(Ordering::Relaxed)
}

fn is_client_connection_error(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR && meta.target() == CLIENT_CONNECTION_TARGET
}

/// Counts client connection errors, whatever the log level (filtered to them
/// by a per-layer filter, so it never disables anything for the log output).
struct CountClientErrors;

impl<S: Subscriber> Layer<S> for CountClientErrors {
    fn on_event(&self, _: &Event<'_>, _: Context<'_, S>) {
        CLIENT_CONNECTION_ERRORS.fetch_add(1, Ordering::Relaxed);
    }
}

/// The log output's filter: the configured level, with client connection
/// errors demoted to debug (shown only when debug logging is on).
struct OutputFilter {
    levels: tracing_subscriber::EnvFilter,
    debug_on: bool,
}

impl<S> Filter<S> for OutputFilter
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if is_client_connection_error(meta) {
            return self.debug_on;
        }
        Filter::enabled(&self.levels, meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if is_client_connection_error(meta) {
            return tracing::subscriber::Interest::sometimes();
        }
        Filter::<S>::callsite_enabled(&self.levels, meta)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Filter::<S>::max_level_hint(&self.levels)
    }

    // Span directives (`WARD_LOG=[request]=debug`) need the span events.
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        cx: Context<'_, S>,
    ) {
        Filter::on_new_span(&self.levels, attrs, id, cx)
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        cx: Context<'_, S>,
    ) {
        Filter::on_record(&self.levels, id, values, cx)
    }

    fn on_enter(&self, id: &tracing::span::Id, cx: Context<'_, S>) {
        Filter::on_enter(&self.levels, id, cx)
    }

    fn on_exit(&self, id: &tracing::span::Id, cx: Context<'_, S>) {
        Filter::on_exit(&self.levels, id, cx)
    }

    fn on_close(&self, id: tracing::span::Id, cx: Context<'_, S>) {
        Filter::on_close(&self.levels, id, cx)
    }
}

/// Install the subscriber: `WARD_LOG` (a tracing filter) wins over `log_level`.
pub fn init(config: &Config) {
    let levels = tracing_subscriber::EnvFilter::try_from_env("WARD_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let debug_on = levels
        .max_level_hint()
        .is_some_and(|max| max >= tracing::level_filters::LevelFilter::DEBUG);
    let filter = OutputFilter { levels, debug_on };
    let output = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let output = match config.log_format {
        LogFormat::Json => output
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_filter(filter)
            .boxed(),
        LogFormat::Text => output.with_filter(filter).boxed(),
    };
    // Traces only when a collector is configured: otherwise no layer at all.
    let traces = config.telemetry.otlp_endpoint.as_ref().and_then(|url| {
        crate::telemetry::layer(url.as_str(), &config.telemetry.service_name)
            .inspect_err(|e| eprintln!("ward: traces are off: {e}"))
            .ok()
            // Ward's own spans only, never a dependency's debug spans.
            .map(|l| {
                l.with_filter(
                    tracing_subscriber::filter::Targets::new()
                        .with_target("ward", tracing::Level::INFO),
                )
            })
    });
    let _ = tracing_subscriber::registry()
        .with(traces)
        .with(output)
        .with(
            CountClientErrors.with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                is_client_connection_error(meta)
            })),
        )
        .try_init();
}
