//! The `convene` binary itself: `admin create`, `api-key create` and `migrate`.

use std::process::Command;

fn convene(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_convene"))
        .args(args)
        .env("CONVENE_DATA_DIR", data_dir)
        .env_remove("CONVENE_DATABASE_URL")
        .env_remove("CONVENE_CONFIG")
        .output()
        .expect("run convene")
}

#[test]
fn admin_create_then_api_key_create_prints_only_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "a long enough password\n").unwrap();
    let out = convene(
        dir.path(),
        &[
            "admin",
            "create",
            "--org",
            "Acme Inc",
            "--email",
            "ada@acme.example",
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("slug: acme-inc"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let out = convene(
        dir.path(),
        &[
            "api-key",
            "create",
            "--org",
            "acme-inc",
            "--email",
            "ADA@acme.example",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("cnv_") && lines[0].len() > 50);

    // Bad input is a clear error, not a panic.
    let out = convene(
        dir.path(),
        &[
            "api-key",
            "create",
            "--org",
            "nope",
            "--email",
            "ada@acme.example",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("organization not found"));
    let out = convene(
        dir.path(),
        &[
            "admin",
            "create",
            "--org",
            "Acme Inc",
            "--email",
            "bad",
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--email"));
    let short = dir.path().join("short");
    std::fs::write(&short, "short").unwrap();
    let out = convene(
        dir.path(),
        &[
            "admin",
            "create",
            "--org",
            "Acme Inc",
            "--email",
            "b@acme.example",
            "--password-file",
            short.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10"));
}

#[test]
fn migrate_creates_the_database_in_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = convene(dir.path(), &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("convene.db").exists());
    // A bad database URL is refused with a message.
    let out = Command::new(env!("CARGO_BIN_EXE_convene"))
        .arg("migrate")
        .env("CONVENE_DATABASE_URL", "mysql://x")
        .env("CONVENE_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

/// `convene demo` serves a seeded org: its Round Robin booking page offers slots of
/// hosts whose Zoom and Google calendar are connected through the sandboxes.
#[tokio::test]
async fn demo_serves_a_seeded_org_with_bookable_event_types() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .arg("demo")
        .env("CONVENE_DATA_DIR", dir.path())
        .env("CONVENE_LISTEN", "127.0.0.1:0")
        .env_remove("CONVENE_DATABASE_URL")
        .env_remove("CONVENE_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let booking_url = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.trim().strip_prefix("Round Robin booking:") {
                return url.trim().to_string();
            }
        }
        panic!("demo ended without printing its URLs");
    })
    .await
    .expect("demo printed its URLs");
    let page = reqwest::get(&booking_url).await.unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sales intro"), "{html}");
    assert!(
        !html.contains("not available"),
        "the demo hosts are bookable"
    );
    child.kill().await.unwrap();
}
