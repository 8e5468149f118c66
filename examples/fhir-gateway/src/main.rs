//! `fhir-gateway`: serve the example resources behind Ward's access tokens.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use fhir_gateway::{Config, run};

#[derive(Parser)]
#[command(about = "An example FHIR resource server that enforces Ward's SMART access tokens")]
struct Args {
    /// This server's FHIR base URL, as registered in Ward with `ward fhir add`.
    #[arg(
        long,
        env = "GATEWAY_BASE_URL",
        default_value = "http://127.0.0.1:8090/fhir"
    )]
    base_url: String,
    /// Ward's issuer.
    #[arg(long, env = "GATEWAY_ISSUER", default_value = "http://localhost:8080")]
    issuer: String,
    /// Where Ward publishes its keys (default: `{issuer}/jwks`).
    #[arg(long, env = "GATEWAY_JWKS_URI")]
    jwks_uri: Option<String>,
    /// A JSON file holding an array of FHIR resources.
    #[arg(
        long,
        env = "GATEWAY_DATA",
        default_value = "examples/fhir-gateway/data/resources.json"
    )]
    data: PathBuf,
    #[arg(long, env = "GATEWAY_LISTEN", default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let resources = match std::fs::read_to_string(&args.data)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot read {}: {e}", args.data.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    let config = Config {
        base_url: args.base_url,
        issuer: args.issuer,
        jwks_uri: args.jwks_uri,
        resources,
        listen: args.listen,
    };
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fhir-gateway: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
