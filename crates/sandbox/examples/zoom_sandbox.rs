//! Serves the Zoom sandbox alone at `http://127.0.0.1:<port>/sandbox/zoom` for poking
//! at it by hand: `cargo run -p convene-sandbox --example zoom_sandbox [port]`.

use std::time::Duration;

use convene_sandbox::{ZoomSandbox, ZoomSandboxConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::args().nth(1).unwrap_or_else(|| "8099".into());
    let zoom = ZoomSandbox::new(ZoomSandboxConfig {
        client_id: "sandbox-client".into(),
        client_secret: "sandbox-secret".into(),
        webhook_url: String::new(),
        webhook_secret: "sandbox-webhook-secret".into(),
        access_token_ttl: Duration::from_secs(3599),
    });
    let app = axum::Router::new().nest("/sandbox/zoom", zoom.router());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "Zoom sandbox on http://{}/sandbox/zoom/control",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
