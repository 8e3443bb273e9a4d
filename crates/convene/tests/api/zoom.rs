//! Personal Zoom connections end to end, against the built-in Zoom sandbox over real
//! HTTP: connect, bind by user id, reauthorize, replace, refuse, disconnect without a
//! trace, deauthorization webhooks, and the token service's single refresh.

use convene_test_support::{Member, TestApp, TestOrg};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;

const ALICE: &str = "alice@zoom.sandbox";
const ALICE_ID: &str = "sJOirh4xzCwSBZh-tRMjIg";
const WEBHOOK_SECRET: &str = convene::startup::SANDBOX_ZOOM_WEBHOOK_SECRET;

async fn zoom_connection(t: &TestApp, org: &TestOrg, user: &str) -> Option<Value> {
    let (status, list) = t.get(&org.key, &format!("/users/{user}/connections")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["provider"] == "zoom")
        .cloned()
}

async fn setup() -> (TestApp, TestOrg, Member) {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let m = t.member(&org, "rep@acme.example", "meetings").await;
    (t, org, m)
}

/// The plaintext tokens of a user's Zoom connection, as the token service sees them.
async fn plaintext_tokens(t: &TestApp, user: &str) -> Vec<String> {
    let mut tx = t.app.store.read().await.unwrap();
    let c = tx
        .connection(user.parse().unwrap(), "zoom", "conferencing")
        .await
        .unwrap()
        .expect("connection");
    let mut out = vec![];
    for sealed in [c.access_token.clone(), c.refresh_token.clone()]
        .into_iter()
        .flatten()
    {
        out.push(String::from_utf8(t.app.secrets.open(&sealed).unwrap()).unwrap());
        out.push(sealed);
    }
    out
}

fn sign(ts: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

async fn webhook(
    t: &TestApp,
    ts: Option<i64>,
    sig: Option<String>,
    body: &str,
) -> (StatusCode, String) {
    let mut r = t
        .client
        .post(format!("{}/webhooks/zoom", t.url))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(ts) = ts {
        r = r.header("x-zm-request-timestamp", ts.to_string());
    }
    if let Some(sig) = sig {
        r = r.header("x-zm-signature", sig);
    }
    let r = r.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn connect_binds_the_zoom_user_to_the_convene_user() {
    let (t, org, m) = setup().await;
    let (_, u) = t.get(&org.key, &format!("/users/{}", m.id)).await;
    assert!(u["action_reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("no_conferencing")));

    let (status, loc, body) = t.connect_zoom(&m.session, ALICE).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(loc
        .unwrap()
        .starts_with("/settings/profile?notice=Zoom+is+connected"));
    let c = zoom_connection(&t, &org, &m.id).await.expect("connected");
    assert_eq!(c["status"], "active");
    assert_eq!(c["account_id"], ALICE_ID);
    assert_eq!(c["account_email"], ALICE);
    assert!(c.get("access_token").is_none() && !c.to_string().contains("refresh_token\":\""));
    let (_, u) = t.get(&org.key, &format!("/users/{}", m.id)).await;
    assert_eq!(u["meeting_location"], "zoom");
    assert!(
        !u["action_reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("no_conferencing")),
        "{u}"
    );
    let (_, _, html) = t.page(&m.session, "/settings/profile").await;
    assert!(
        html.contains("Connected as") && html.contains(ALICE),
        "{html}"
    );
    let (_, audit) = t.get(&org.key, "/audit-log?action=connection.").await;
    assert_eq!(audit["data"][0]["action"], "connection.connected");

    // Reauthorizing the same Zoom account updates it in place.
    let first_connected = c["connected_at"].clone();
    t.connect_zoom(&m.session, ALICE).await;
    let c2 = zoom_connection(&t, &org, &m.id).await.unwrap();
    assert_eq!(c2["connected_at"], first_connected);
    let (_, list) = t
        .get(&org.key, &format!("/users/{}/connections", m.id))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, audit) = t.get(&org.key, "/audit-log?action=connection.").await;
    assert_eq!(audit["data"][0]["action"], "connection.reauthorized");
    assert_eq!(t.sandbox().stats().token_exchanges, 2);
}

#[tokio::test]
async fn a_different_zoom_account_replaces_the_old_one_and_revokes_it() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    assert!(t.sandbox().stats().user(ALICE).unwrap().connected);
    t.connect_zoom(&m.session, "dave@zoom.sandbox").await;
    let c = zoom_connection(&t, &org, &m.id).await.unwrap();
    assert_eq!(c["account_email"], "dave@zoom.sandbox");
    t.run_jobs().await;
    let stats = t.sandbox().stats();
    assert!(
        !stats.user(ALICE).unwrap().connected,
        "the old grant is revoked at Zoom"
    );
    assert_eq!(stats.revocations, 1);
    let (_, audit) = t.get(&org.key, "/audit-log?action=connection.").await;
    assert_eq!(audit["data"][0]["action"], "connection.replaced");
}

#[tokio::test]
async fn a_zoom_account_bound_to_another_user_is_refused_with_an_explanation() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    let other = t.member(&org, "other@acme.example", "meetings").await;
    let (status, _, html) = t.connect_zoom(&other.session, ALICE).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        html.contains("connected to another Convene user") && html.contains("Test Member"),
        "{html}"
    );
    assert!(html.contains("not to an email address"));
    assert!(zoom_connection(&t, &org, &other.id).await.is_none());
    // The holder's connection is untouched.
    assert_eq!(
        zoom_connection(&t, &org, &m.id).await.unwrap()["status"],
        "active"
    );

    // Another org: refused too, without naming the holder.
    let org_b = t.create_org("Beta").await;
    let b = t.member(&org_b, "b@beta.example", "meetings").await;
    let (status, _, html) = t.connect_zoom(&b.session, ALICE).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        html.contains("another organization")
            && !html.contains("another user of your organization")
    );
}

#[tokio::test]
async fn pre_approval_denial_and_bad_callbacks_explain_and_store_nothing() {
    let (t, org, m) = setup().await;
    let (status, _, html) = t.connect_zoom(&m.session, "bob@zoom.sandbox").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("pre-approve") && html.contains("Zoom admin"),
        "{html}"
    );
    let (status, _, html) = t.connect_zoom(&m.session, "carol@zoom.sandbox").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("declined"), "{html}");

    // A real state, replayed after use; a state from another session; missing pieces.
    let csrf = t.session_csrf(&m.session).await;
    let (_, authorize, _) = t
        .form(
            &m.session,
            "/settings/profile/conferencing/zoom/connect",
            &[("_csrf", &csrf)],
        )
        .await;
    let callback = t.consent(&authorize.unwrap(), ALICE).await;
    let path = callback.strip_prefix(&t.url).unwrap().to_string();
    let other = t.member(&org, "other@acme.example", "meetings").await;
    let (status, _, html) = t.page(&other.session, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    let (status, _, _) = t.page(&m.session, &path).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a used state is refused, even for its owner"
    );
    for bad in [
        "/oauth/zoom/callback",
        "/oauth/zoom/callback?code=x",
        "/oauth/zoom/callback?state=forged&code=x",
        "/oauth/zoom/callback?error=server_error&error_description=boom",
    ] {
        let (status, _, html) = t.page(&m.session, bad).await;
        assert!(status.is_client_error(), "{bad}: {status}");
        assert!(html.contains("Back to My Profile"));
    }
    // A fresh state with a forged code: Zoom rejects it; nothing stored.
    let (_, authorize, _) = t
        .form(
            &m.session,
            "/settings/profile/conferencing/zoom/connect",
            &[("_csrf", &csrf)],
        )
        .await;
    let state = url::Url::parse(&authorize.unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let (status, _, html) = t
        .page(
            &m.session,
            &format!("/oauth/zoom/callback?state={state}&code=forged"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(
        t.page(&m.session, "/oauth/zoom/callback?code=x&state=")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (status, _, _) = t.page(&m.session, "/oauth/nope/callback?code=x").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(zoom_connection(&t, &org, &m.id).await.is_none());
    assert!(zoom_connection(&t, &org, &other.id).await.is_none());
}

#[tokio::test]
async fn disconnect_revokes_at_zoom_and_leaves_no_byte_of_the_tokens() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    // Exercise a refresh too, so rotated tokens are in play.
    t.clock.advance(jiff::SignedDuration::from_hours(2));
    assert_eq!(
        t.post(
            &m.key,
            &format!("/users/{}/connections/zoom/check", m.id),
            json!({})
        )
        .await
        .0,
        StatusCode::OK
    );
    let secrets = plaintext_tokens(&t, &m.id).await;
    assert_eq!(secrets.len(), 4);
    assert_eq!(
        t.delete(&m.key, &format!("/users/{}/connections/zoom", m.id))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert!(zoom_connection(&t, &org, &m.id).await.is_none());
    assert!(
        !t.sandbox().stats().user(ALICE).unwrap().connected,
        "revoked at Zoom"
    );
    let (_, audit) = t.get(&org.key, "/audit-log?action=connection.").await;
    assert_eq!(audit["data"][0]["action"], "connection.disconnected");
    assert_eq!(audit["data"][0]["details"]["revoke_error"], Value::Null);

    match &t.database_url {
        None => {
            // Every file of the SQLite database, WAL included.
            for entry in std::fs::read_dir(t.dir.path()).unwrap() {
                let path = entry.unwrap().path();
                if path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("convene.db")
                {
                    let bytes = std::fs::read(&path).unwrap();
                    for s in &secrets {
                        assert!(
                            !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                            "{} still holds a token",
                            path.display()
                        );
                    }
                }
            }
        }
        Some(url) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                for row in rows {
                    for s in &secrets {
                        assert!(
                            !row.contains(s.as_str()),
                            "table {table} still holds a token"
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn a_failing_revoke_is_audited_and_the_credentials_are_deleted_anyway() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    t.sandbox().set_faults(convene_sandbox::Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    // Revocation goes to /oauth/revoke, which faults do not touch; make it fail by revoking first.
    t.sandbox().set_faults(convene_sandbox::Faults::default());
    t.sandbox().revoke_grants(ALICE);
    assert_eq!(
        t.delete(&m.key, &format!("/users/{}/connections/zoom", m.id))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert!(zoom_connection(&t, &org, &m.id).await.is_none());
}

#[tokio::test]
async fn fifty_concurrent_calls_needing_a_fresh_token_refresh_once() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    for round in 0..3 {
        let before = t.sandbox().stats().refreshes_of(ALICE);
        t.clock.advance(jiff::SignedDuration::from_hours(2));
        let path = format!("/users/{}/connections/zoom/check", m.id);
        let calls = (0..50).map(|_| t.post(&org.key, &path, json!({})));
        for (status, body) in futures::future::join_all(calls).await {
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["status"], "active", "{body}");
        }
        assert_eq!(
            t.sandbox().stats().refreshes_of(ALICE) - before,
            1,
            "round {round}"
        );
    }
    assert_eq!(t.sandbox().stats().refresh_failures, 0);
}

/// Two server instances on one database (and one key file) share one Zoom: still one
/// refresh between them.
#[tokio::test]
async fn two_instances_refresh_once_between_them() {
    let a = TestApp::spawn().await;
    let url = a.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            a.dir.path().join("convene.db").display()
        )
    });
    let b = TestApp::builder()
        .with_database_url(url)
        .with_zoom_sandbox_of(&a)
        .spawn()
        .await;
    let org = a.create_org("Acme").await;
    let m = a.member(&org, "rep@acme.example", "meetings").await;
    a.connect_zoom(&m.session, ALICE).await;
    for _ in 0..2 {
        let before = a.sandbox().stats().refreshes_of(ALICE);
        a.clock.advance(jiff::SignedDuration::from_hours(2));
        b.clock.advance(jiff::SignedDuration::from_hours(2));
        let path = format!("/users/{}/connections/zoom/check", m.id);
        let calls_a = (0..25).map(|_| a.post(&org.key, &path, json!({})));
        let calls_b = (0..25).map(|_| b.post(&org.key, &path, json!({})));
        let (ra, rb) = futures::future::join(
            futures::future::join_all(calls_a),
            futures::future::join_all(calls_b),
        )
        .await;
        for (status, body) in ra.into_iter().chain(rb) {
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["status"], "active", "{body}");
        }
        assert_eq!(a.sandbox().stats().refreshes_of(ALICE) - before, 1);
    }
}

#[tokio::test]
async fn invalid_grant_makes_the_connection_need_reauth_with_one_email() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    t.sandbox().revoke_grants(ALICE);
    t.clock.advance(jiff::SignedDuration::from_hours(2));
    for _ in 0..3 {
        let (status, c) = t
            .post(
                &org.key,
                &format!("/users/{}/connections/zoom/check", m.id),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(c["status"], "needs_reauth");
    }
    t.run_jobs().await;
    let (_, outbox) = t.get(&org.key, &format!("/outbox?to={}", m.email)).await;
    let reauth: Vec<_> = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"].as_str().unwrap().contains("reconnect Zoom"))
        .collect();
    assert_eq!(reauth.len(), 1, "{outbox}");
    let (_, u) = t.get(&org.key, &format!("/users/{}", m.id)).await;
    assert!(
        u["action_reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("no_conferencing")),
        "never a silent fallback"
    );
    let (_, audit) = t
        .get(&org.key, "/audit-log?action=connection.refresh_failed")
        .await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);
    let (_, _, html) = t.page(&m.session, "/settings/profile").await;
    assert!(html.contains("Reconnect with Zoom"));
    // Reconnecting makes it work again.
    t.connect_zoom(&m.session, ALICE).await;
    assert_eq!(
        zoom_connection(&t, &org, &m.id).await.unwrap()["status"],
        "active"
    );
}

#[tokio::test]
async fn uninstall_from_zoom_revokes_and_tells_the_user_and_admins_once() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    let secrets = plaintext_tokens(&t, &m.id).await;
    let status = t.sandbox().uninstall(ALICE).await.unwrap();
    assert_eq!(status, 204);
    let c = zoom_connection(&t, &org, &m.id).await.unwrap();
    assert_eq!(c["status"], "revoked");
    assert_eq!(c["account_id"], Value::Null);
    let still: Vec<_> = plaintext_tokens_or_none(&t, &m.id).await;
    assert!(still.is_empty() && !secrets.is_empty());
    let (_, u) = t.get(&org.key, &format!("/users/{}", m.id)).await;
    assert!(u["action_reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("no_conferencing")));
    t.run_jobs().await;
    let (_, mails) = t.get(&org.key, "/outbox").await;
    let subjects: Vec<_> = mails
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["to"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        subjects.contains(&(m.email.clone(), "Zoom was disconnected from Convene".into())),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|(to, s)| to == &org.admin_email && s.contains("disconnected Zoom")),
        "{subjects:?}"
    );

    // The same delivery again (Zoom retries) changes nothing and sends nothing.
    let ts = jiff::Timestamp::now().as_second();
    let body = json!({"event": "app_deauthorized", "event_ts": 1, "payload": {"account_id": "acc", "user_id": ALICE_ID, "signature": "x", "deauthorization_time": "2026-01-01T00:00:00Z", "client_id": "c", "user_data_retention": "false"}}).to_string();
    assert_eq!(
        webhook(&t, Some(ts), Some(sign(ts, &body)), &body).await.0,
        StatusCode::NO_CONTENT
    );
    let jobs = t.run_jobs().await;
    assert_eq!(
        webhook(&t, Some(ts), Some(sign(ts, &body)), &body).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(t.run_jobs().await, 0);
    assert_eq!(
        jobs, 0,
        "the user's connection was already revoked: nobody to tell"
    );
    let (_, audit) = t
        .get(&org.key, "/audit-log?action=connection.revoked_by_provider")
        .await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);
}

async fn plaintext_tokens_or_none(t: &TestApp, user: &str) -> Vec<String> {
    let mut tx = t.app.store.read().await.unwrap();
    let c = tx
        .connection(user.parse().unwrap(), "zoom", "conferencing")
        .await
        .unwrap();
    c.into_iter()
        .flat_map(|c| [c.access_token, c.refresh_token])
        .flatten()
        .collect()
}

#[tokio::test]
async fn webhook_bad_input_changes_nothing() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    let ts = jiff::Timestamp::now().as_second();
    let deauth = json!({"event": "app_deauthorized", "event_ts": 2, "payload": {"account_id": "acc", "user_id": ALICE_ID, "signature": "x", "deauthorization_time": "2026-01-01T00:00:00Z", "client_id": "c", "user_data_retention": "false"}}).to_string();
    type Case = (
        &'static str,
        Option<i64>,
        Option<String>,
        String,
        StatusCode,
    );
    let cases: Vec<Case> = vec![
        (
            "no signature",
            Some(ts),
            None,
            deauth.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "no timestamp",
            None,
            Some(sign(ts, &deauth)),
            deauth.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "wrong signature",
            Some(ts),
            Some("v0=".to_string() + &"0".repeat(64)),
            deauth.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "stale",
            Some(ts - 3600),
            Some(sign(ts - 3600, &deauth)),
            deauth.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "body changed after signing",
            Some(ts),
            Some(sign(ts, &deauth)),
            deauth.replace("acc", "acd"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "malformed JSON",
            Some(ts),
            Some(sign(ts, "{not json")),
            "{not json".to_string(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, ts, sig, body, expected) in cases {
        let (status, text) = webhook(&t, ts, sig, &body).await;
        assert_eq!(status, expected, "{what}: {text}");
        assert!(text.contains("\"error\""), "{what}: {text}");
    }
    // An event we do not use, properly signed: accepted, nothing changes.
    let other = json!({"event": "meeting.started", "event_ts": 3, "payload": {}}).to_string();
    assert_eq!(
        webhook(&t, Some(ts), Some(sign(ts, &other)), &other)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        zoom_connection(&t, &org, &m.id).await.unwrap()["status"],
        "active"
    );
    assert_eq!(t.run_jobs().await, 0);
}

#[tokio::test]
async fn endpoint_url_validation_is_answered() {
    let t = TestApp::spawn().await;
    let ts = jiff::Timestamp::now().as_second();
    let body = json!({"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}, "event_ts": 1}).to_string();
    let (status, text) = webhook(&t, Some(ts), Some(sign(ts, &body)), &body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(v["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(
        v["encryptedToken"],
        hex::encode(mac.finalize().into_bytes())
    );
    // And the sandbox's own validation challenge passes.
    t.sandbox().validate_webhook_endpoint().await.unwrap();
}

#[tokio::test]
async fn deactivation_revokes_and_deletes_the_zoom_connection() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    assert_eq!(
        t.post(&org.key, &format!("/users/{}/deactivate", m.id), json!({}))
            .await
            .0,
        StatusCode::OK
    );
    assert!(zoom_connection(&t, &org, &m.id).await.is_none());
    t.run_jobs().await;
    assert!(
        !t.sandbox().stats().user(ALICE).unwrap().connected,
        "revoked at Zoom by the job"
    );
    // The Zoom account is free for its owner's new Convene user.
    let again = t.member(&org, "rep2@acme.example", "meetings").await;
    assert_eq!(
        t.connect_zoom(&again.session, ALICE).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_admin_releases_a_broken_binding_so_its_owner_can_reconnect() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    // A working connection of an active user cannot be released by an admin.
    let (status, body) = t
        .post(
            &org.key,
            &format!("/users/{}/connections/zoom/release", m.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    t.sandbox().revoke_grants(ALICE);
    t.clock.advance(jiff::SignedDuration::from_hours(2));
    t.post(
        &org.key,
        &format!("/users/{}/connections/zoom/check", m.id),
        json!({}),
    )
    .await;
    let (status, _) = t
        .post(
            &m.key,
            &format!("/users/{}/connections/zoom/release", m.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "members cannot release");
    assert_eq!(
        t.post(
            &org.key,
            &format!("/users/{}/connections/zoom/release", m.id),
            json!({})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let other = t.member(&org, "other@acme.example", "meetings").await;
    assert_eq!(
        t.connect_zoom(&other.session, ALICE).await.0,
        StatusCode::SEE_OTHER
    );
    let (_, audit) = t
        .get(&org.key, "/audit-log?action=connection.released")
        .await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn connection_routes_check_permissions_and_ids() {
    let (t, org, m) = setup().await;
    let other = t.member(&org, "other@acme.example", "chat").await;
    assert_eq!(
        t.get(&other.key, &format!("/users/{}/connections", m.id))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.get(&m.key, &format!("/users/{}/connections", m.id))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        t.delete(&other.key, &format!("/users/{}/connections/zoom", m.id))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.delete(&m.key, &format!("/users/{}/connections/zoom", m.id))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get(&org.key, "/users/not-an-id/connections").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.post(
            &org.key,
            &format!("/users/{}/connections/skype/check", m.id),
            json!({})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let org_b = t.create_org("Beta").await;
    assert_eq!(
        t.get(&org_b.key, &format!("/users/{}/connections", m.id))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // The connect form needs its CSRF token.
    let (status, _, _) = t
        .form(
            &m.session,
            "/settings/profile/conferencing/zoom/connect",
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// `convene key rotate` adds a current key and re-seals the stored tokens with it;
/// the old key stays so nothing sealed before is lost.
#[tokio::test]
async fn key_rotation_reseals_stored_tokens() {
    let (t, _org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    let before = plaintext_tokens(&t, &m.id).await;
    let key_file = t.dir.path().join("secret.key");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_convene"));
    cmd.args(["key", "rotate"])
        .env("CONVENE_DATA_DIR", t.dir.path())
        .env_remove("CONVENE_CONFIG");
    match &t.database_url {
        Some(url) => cmd.env("CONVENE_DATABASE_URL", url),
        None => cmd.env_remove("CONVENE_DATABASE_URL"),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("re-sealed 2 stored tokens"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let keys = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(keys.lines().filter(|l| !l.trim().is_empty()).count(), 2);
    let rotated = convene_app::secrets::SecretBox::load_or_create(&key_file).unwrap();
    let mut tx = t.app.store.read().await.unwrap();
    let c = tx
        .connection(m.id.parse().unwrap(), "zoom", "conferencing")
        .await
        .unwrap()
        .unwrap();
    let sealed = c.refresh_token.unwrap();
    assert_eq!(
        convene_app::secrets::SecretBox::key_id_of(&sealed),
        Some(rotated.current_key_id())
    );
    let plain = String::from_utf8(rotated.open(&sealed).unwrap()).unwrap();
    assert!(before.contains(&plain), "the same token, sealed anew");
    assert!(!before.contains(&sealed));
}

#[tokio::test]
async fn an_admin_releases_a_binding_from_the_user_page() {
    let (t, org, m) = setup().await;
    t.connect_zoom(&m.session, ALICE).await;
    t.sandbox().revoke_grants(ALICE);
    t.clock.advance(jiff::SignedDuration::from_hours(2));
    t.post(
        &org.key,
        &format!("/users/{}/connections/zoom/check", m.id),
        json!({}),
    )
    .await;
    let admin = t
        .login(&org.admin_email, convene_test_support::PASSWORD)
        .await
        .unwrap();
    let (_, _, html) = t
        .page(
            &admin,
            &format!("/settings/organization/users/{}/edit", m.id),
        )
        .await;
    assert!(html.contains("Release zoom binding"), "{html}");
    let path = format!(
        "/settings/organization/users/{}/connections/zoom/release",
        m.id
    );
    assert_eq!(t.form(&admin, &path, &[]).await.0, StatusCode::FORBIDDEN);
    assert!(zoom_connection(&t, &org, &m.id).await.is_some());
    let csrf = t.session_csrf(&admin).await;
    assert_eq!(
        t.form(&admin, &path, &[("_csrf", &csrf)]).await.0,
        StatusCode::SEE_OTHER
    );
    assert!(zoom_connection(&t, &org, &m.id).await.is_none());
}
