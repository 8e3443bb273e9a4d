//! End-to-end tests in a real browser: headless Chromium driven through chromedriver.
//!
//! Off unless `CONVENE_BROWSER_TESTS=1` (they need the Debian packages `chromium` and
//! `chromium-driver`); without it every test prints why it was skipped and passes.
//! Each test starts its own chromedriver on a free port and its own server
//! ([`TestApp`]); every browser ("user") is a separate WebDriver session with a fresh
//! profile, so each has its own cookie jar. Screenshots of the key steps land in
//! `target/browser-screenshots/`.
//!
//! `CONVENE_CHROMIUM` and `CONVENE_CHROMEDRIVER` override the binaries' paths.
//!
//! Run with `CONVENE_BROWSER_TESTS=1 cargo test -p convene --test browser -- --test-threads=1`.

mod harness;

use convene_test_support::{TestApp, PASSWORD};
use harness::{browser_test, Browser};
use serde_json::Value;

/// Users of the org as the API lists them (`filter` as on the Users page).
async fn api_users(t: &TestApp, key: &str, filter: &str) -> Vec<Value> {
    let (status, body) = t.get(key, &format!("/users?filter={filter}")).await;
    assert!(status.is_success(), "{status}: {body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

fn find_user<'a>(users: &'a [Value], email: &str) -> &'a Value {
    users
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("{email} not in {users:?}"))
}

/// Signs in through the real /login page.
async fn sign_in(b: &Browser, email: &str) {
    b.goto("/login").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click_and_wait("main form button[type=submit]").await;
    b.wait_absent("main form[action='/login']").await;
}

/// The count on a filter tab of the Users page (the page must be open).
async fn tab_count(b: &Browser, filter: &str) -> String {
    b.text(&format!("a[data-filter={filter}] .count")).await
}

/// Deactivates a user from the Users page through the kebab menu of their row.
async fn deactivate_from_kebab(b: &Browser, email: &str) {
    let row = format!("#users tr[data-email=\"{email}\"]");
    b.click(&format!("{row} details.kebab summary")).await;
    let button = format!("{row} details.kebab form[action$='/deactivate'] button");
    b.wait_displayed(&button).await;
    b.screenshot(&format!(
        "kebab-open-{}",
        email.split('@').next().unwrap_or(email)
    ))
    .await;
    b.click_and_wait(&button).await;
    b.wait_text(".notice", &format!("{email} was deactivated"))
        .await;
}

/// The main flow: invite (one address malformed) → join from the outbox link in
/// a second browser → deactivate another invited user, watching the counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_invites_users_one_joins_from_the_outbox_and_another_is_deactivated() {
    browser_test("invite_join_deactivate", |h| async move {
        // A background worker delivers the invitation emails to the outbox.
        let t = TestApp::builder().with_workers(1).spawn().await;
        let org = t.create_org("Acme").await;
        let admin = h.browser("admin", &t.url).await;

        sign_in(&admin, &org.admin_email).await;
        admin.assert_path("/settings/organization/users").await;
        admin.wait_text("h1", "Users").await;
        admin.screenshot("users-before-invite").await;

        // Settings → Organization → Users: invite three addresses, one malformed.
        admin.fill("#emails", "carol@acme.example, not-an-email\ndave@acme.example").await;
        admin.select("#role", "chat").await;
        admin.screenshot("invite-form-filled").await;
        admin.click_and_wait("#invite button[type=submit]").await;
        admin.assert_path("/settings/organization/users/invite").await;
        let rejected = admin.text("#invite-result ul.rejected").await;
        assert!(rejected.contains("not-an-email"), "rejected list: {rejected}");
        assert_eq!(admin.count("#invite-result ul.rejected li").await, 1, "only the malformed address is rejected");
        let invited = admin.text("#invite-result ul.invited").await;
        assert!(invited.contains("carol@acme.example") && invited.contains("dave@acme.example"), "invited list: {invited}");
        assert_eq!(admin.text("#pending-count").await, "2");
        admin.screenshot("invite-result").await;

        admin.click_and_wait("#invite-result a.button").await;
        assert_eq!(tab_count(&admin, "pending").await, "2");
        assert_eq!(tab_count(&admin, "all").await, "3");
        let pending = api_users(&t, &org.key, "pending").await;
        assert_eq!(find_user(&pending, "carol@acme.example")["role"], "chat", "the chosen role was applied");

        // Settings → Outbox: wait for the worker to deliver, open Carol's invitation.
        let carol_row = "//table[@id='outbox']//tr[td[normalize-space()='carol@acme.example']]//a";
        admin.goto_until("/settings/outbox", carol_row).await;
        admin.screenshot("outbox").await;
        admin.click_and_wait(carol_row).await;
        let link = admin.attr("#message .body a[href*='/join/']", "href").await;
        assert!(link.starts_with(&format!("{}/join/", t.url)), "join link {link}");
        admin.screenshot("invitation-email").await;

        // Carol opens the link in her own browser and joins.
        let carol = h.browser("carol", &t.url).await;
        carol.goto(&link).await;
        carol.wait_text("h1", "Join Acme").await;
        carol.wait_text("main", "carol@acme.example").await;
        carol.fill("#name", "Carol Chen").await;
        carol.fill("#password", PASSWORD).await;
        carol.select("#time_zone", "America/New_York").await;
        carol.screenshot("join-form").await;
        carol.click_and_wait("main form button[type=submit]").await;
        carol.assert_path("/onboarding/calendar").await;
        carol.wait_text("h1", "Welcome, Carol Chen!").await;
        carol.wait_text("main", "Connect your calendar").await;
        carol.screenshot("onboarding").await;
        let active = api_users(&t, &org.key, "active").await;
        let c = find_user(&active, "carol@acme.example");
        assert_eq!(c["time_zone"], "America/New_York");
        assert_eq!(c["name"], "Carol Chen");

        // Back to the admin: Carol counts as active, Dave is still pending.
        admin.goto("/settings/organization/users").await;
        assert_eq!(tab_count(&admin, "pending").await, "1");
        assert_eq!(tab_count(&admin, "active").await, "2");
        assert_eq!(tab_count(&admin, "deactivated").await, "0");
        admin.wait_text("#users tr[data-email='carol@acme.example'] .pill", "active").await;

        // Deactivate Dave through the kebab menu of his row; the counts follow.
        deactivate_from_kebab(&admin, "dave@acme.example").await;
        assert_eq!(tab_count(&admin, "deactivated").await, "1");
        assert_eq!(tab_count(&admin, "pending").await, "0");
        assert_eq!(tab_count(&admin, "all").await, "2");
        admin.wait_absent("#users tr[data-email='dave@acme.example']").await;
        admin.screenshot("after-deactivate").await;
        admin.click_and_wait("a[data-filter=deactivated]").await;
        admin.wait_text("#users tr[data-email='dave@acme.example'] .pill", "deactivated").await;
        admin.find("#users tr[data-email='dave@acme.example'] details.kebab form[action$='/reactivate'] button").await;
        let gone = api_users(&t, &org.key, "deactivated").await;
        assert_eq!(find_user(&gone, "dave@acme.example")["status"], "deactivated");
    })
    .await;
}

/// A deactivated user's open session is refused on their next click.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_users_open_session_ends_on_the_next_click() {
    browser_test("deactivated_session_ends", |h| async move {
        let t = TestApp::spawn().await;
        let org = t.create_org("Acme").await;
        let eve = t.member(&org, "eve@acme.example", "meetings").await;

        let admin = h.browser("admin", &t.url).await;
        sign_in(&admin, &org.admin_email).await;
        let member = h.browser("eve", &t.url).await;
        sign_in(&member, &eve.email).await;
        member.assert_path("/settings/profile").await;
        member.screenshot("signed-in").await;

        admin.goto("/settings/organization/users").await;
        assert_eq!(tab_count(&admin, "active").await, "2");
        assert_eq!(tab_count(&admin, "deactivated").await, "0");
        deactivate_from_kebab(&admin, &eve.email).await;
        assert_eq!(tab_count(&admin, "active").await, "1");
        assert_eq!(tab_count(&admin, "deactivated").await, "1");
        admin.screenshot("after-deactivate").await;

        // Eve's page is still open; her next click is refused and lands on sign-in.
        member
            .click_and_wait("header a[href='/settings/profile']")
            .await;
        member.assert_path("/login").await;
        member
            .wait_text("main .notice", "Your session has ended")
            .await;
        member.screenshot("session-ended").await;
        // And she cannot sign in again.
        member.fill("#email", &eve.email).await;
        member.fill("#password", PASSWORD).await;
        member.click_and_wait("main form button[type=submit]").await;
        member.assert_path("/login").await;
        member.wait_text("main .alert", "incorrect").await;
    })
    .await;
}

/// Two admins open Organization settings: the second sees who holds the lock and takes
/// over; the first one's save is then refused and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_admin_takes_over_the_settings_lock_and_the_first_save_is_refused() {
    browser_test("settings_lock_takeover", |h| async move {
        let t = TestApp::spawn().await;
        let org = t.create_org("Acme").await;
        let bea = t.member(&org, "bea@acme.example", "admin").await;

        let ada = h.browser("ada", &t.url).await;
        sign_in(&ada, &org.admin_email).await;
        ada.goto("/settings/organization").await;
        ada.wait_text("h1", "Organization settings").await;
        ada.wait_absent("#lock-banner").await;
        assert!(ada.is_enabled("#name").await, "the lock holder can edit");
        ada.screenshot("ada-holds-lock").await;

        let second = h.browser("bea", &t.url).await;
        sign_in(&second, &bea.email).await;
        second.goto("/settings/organization").await;
        second.wait_text("#lock-banner", "Ada Admin").await;
        assert!(
            !second.is_enabled("#name").await,
            "the form is read-only while Ada holds the lock"
        );
        second.screenshot("bea-sees-banner").await;
        second
            .click_and_wait("#lock-banner button[type=submit]")
            .await;
        second
            .wait_text(".notice", "You now hold the admin settings lock")
            .await;
        second.wait_absent("#lock-banner").await;
        assert!(
            second.is_enabled("#name").await,
            "after taking over Bea can edit"
        );
        second.screenshot("bea-took-over").await;

        // Ada's page still shows an editable form; her save is refused.
        ada.fill("#name", "Ada's name").await;
        ada.click_and_wait("main form[action='/settings/organization'] button[type=submit]")
            .await;
        let error = ada.text("#lock-error").await;
        assert!(error.contains("took over"), "lock error: {error}");
        ada.wait_text("#lock-banner", "Test Member").await;
        ada.screenshot("ada-save-refused").await;
        let (_, o) = t.get(&org.key, "/org").await;
        assert_eq!(o["name"], "Acme", "the refused save changed nothing");

        // Bea's save goes through.
        second.fill("#name", "Acme Europe").await;
        second
            .click_and_wait("main form[action='/settings/organization'] button[type=submit]")
            .await;
        second.wait_text(".notice", "Settings saved").await;
        let (_, o) = t.get(&org.key, "/org").await;
        assert_eq!(o["name"], "Acme Europe");
    })
    .await;
}

/// Alice's Zoom user id in the sandbox (stable: derived from her email).
const ALICE_ZOOM_ID: &str = "sJOirh4xzCwSBZh-tRMjIg";
/// The "Action Required" reason a broken Zoom connection brings back.
const CONFERENCING_REASON: &str = "Set up video conferencing for the chosen meeting location";

/// A user's connections as the API lists them (with an admin key).
async fn api_connections(t: &TestApp, key: &str, user_id: &str) -> Vec<Value> {
    let (status, body) = t.get(key, &format!("/users/{user_id}/connections")).await;
    assert!(status.is_success(), "{status}: {body}");
    body.as_array()
        .cloned()
        .unwrap_or_else(|| panic!("connections are not a list: {body}"))
}

/// On My Profile: "Connect with Zoom" → the sandbox's consent page → allow as
/// `account`. Leaves the browser wherever the callback lands.
async fn connect_zoom_as(b: &Browser, account: &str, step: &str) {
    b.goto("/settings/profile").await;
    b.wait_text("#video-conferencing", "Video conferencing")
        .await;
    b.find("#zoom-connection[data-status=none]").await;
    b.click_and_wait("#connect-zoom").await;
    b.assert_path("/sandbox/zoom/oauth/authorize").await;
    b.wait_text("h1", "Convene would like to access your Zoom account")
        .await;
    b.screenshot(&format!("{step}-consent")).await;
    b.click_and_wait(&format!("button[name=account][value=\"{account}\"]"))
        .await;
}

/// Connects alice's Zoom account and checks My Profile says so.
async fn connect_alice(b: &Browser) {
    connect_zoom_as(b, "alice@zoom.sandbox", "alice").await;
    b.assert_path("/settings/profile").await;
    b.wait_text(".notice", "Zoom is connected as alice@zoom.sandbox")
        .await;
    b.find("#zoom-connection[data-status=active]").await;
    let connected = b.text("#zoom-connected-as").await;
    assert!(
        connected.contains("Connected as") && connected.contains("alice@zoom.sandbox"),
        "connected-as line: {connected}"
    );
    b.find("#check-zoom").await;
    b.find("#disconnect-zoom").await;
    b.wait_absent("#connect-zoom").await;
}

/// Connect with Zoom through the sandbox's consent page, then disconnect: the
/// connection is gone from the API too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_connects_zoom_through_the_sandbox_consent_page_and_disconnects() {
    browser_test("zoom_connect_disconnect", |h| async move {
        let t = TestApp::spawn().await;
        let org = t.create_org("Acme").await;
        let mia = t.member(&org, "mia@acme.example", "meetings").await;

        let b = h.browser("mia", &t.url).await;
        sign_in(&b, &mia.email).await;
        b.assert_path("/settings/profile").await;
        b.scroll_to("#zoom-connection").await;
        b.screenshot("profile-not-connected").await;

        connect_alice(&b).await;
        b.scroll_to("#zoom-connection").await;
        b.screenshot("profile-connected").await;
        let conns = api_connections(&t, &org.key, &mia.id).await;
        assert_eq!(conns.len(), 1, "{conns:?}");
        assert_eq!(conns[0]["provider"], "zoom");
        assert_eq!(conns[0]["status"], "active");
        assert_eq!(conns[0]["account_email"], "alice@zoom.sandbox");
        assert!(
            t.sandbox()
                .stats()
                .user("alice@zoom.sandbox")
                .is_some_and(|u| u.connected),
            "the sandbox holds a live grant for alice"
        );

        // "Test connection" calls Zoom with the token.
        b.click_and_wait("#check-zoom").await;
        b.wait_text(".notice", "Zoom connection works.").await;

        b.click_and_wait("#disconnect-zoom").await;
        b.assert_path("/settings/profile").await;
        b.wait_text(".notice", "Zoom was disconnected").await;
        b.find("#zoom-connection[data-status=none]").await;
        b.wait_text("#connect-zoom", "Connect with Zoom").await;
        b.wait_absent("#zoom-connected-as").await;
        b.scroll_to("#zoom-connection").await;
        b.screenshot("profile-disconnected").await;

        let conns = api_connections(&t, &org.key, &mia.id).await;
        assert!(
            conns.is_empty(),
            "no connection after disconnect: {conns:?}"
        );
        let alice = t.sandbox().stats();
        let alice = alice
            .user("alice@zoom.sandbox")
            .expect("alice in the sandbox");
        assert!(
            !alice.connected,
            "the grant was revoked at Zoom on disconnect: {alice:?}"
        );
    })
    .await;
}

/// A Zoom account whose admin must pre-approve apps: the user lands on a page that
/// explains what to ask their Zoom admin, and nothing is connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_a_zoom_account_that_needs_admin_pre_approval_explains_what_to_do() {
    browser_test("zoom_pre_approval", |h| async move {
        let t = TestApp::spawn().await;
        let org = t.create_org("Acme").await;
        let noa = t.member(&org, "noa@acme.example", "meetings").await;

        let b = h.browser("noa", &t.url).await;
        sign_in(&b, &noa.email).await;
        connect_zoom_as(&b, "bob@zoom.sandbox", "bob").await;
        b.assert_path("/oauth/zoom/callback").await;
        let explained = b.text("#connect-error").await;
        assert!(
            explained.contains("pre-approve"),
            "the page tells the user to ask for pre-approval: {explained}"
        );
        b.wait_text(
            "#connect-error h1",
            "Your Zoom admin needs to approve Convene",
        )
        .await;
        b.screenshot("pre-approval-needed").await;

        let conns = api_connections(&t, &org.key, &noa.id).await;
        assert!(conns.is_empty(), "nothing was connected: {conns:?}");

        // Back on My Profile, Zoom is still offered.
        b.click_and_wait("#connect-error a.button").await;
        b.assert_path("/settings/profile").await;
        b.find("#zoom-connection[data-status=none]").await;
        b.find("#connect-zoom").await;
    })
    .await;
}

/// The app is uninstalled from the user's Zoom account (on the sandbox's control
/// page): the webhook revokes the connection, and both the Users page and the user's
/// profile show it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uninstalling_the_app_in_zoom_marks_the_connection_revoked_and_the_user_action_required() {
    browser_test("zoom_uninstall_revokes", |h| async move {
        let t = TestApp::spawn().await;
        let org = t.create_org("Acme").await;
        let ivy = t.member(&org, "ivy@acme.example", "meetings").await;

        let user = h.browser("ivy", &t.url).await;
        sign_in(&user, &ivy.email).await;
        connect_alice(&user).await;

        let row = format!("//table[@id='users']//tr[@data-email='{}']", ivy.email);
        let conferencing_reason = format!(
            "{row}//ul[contains(@class,'reasons')]/li[contains(., '{CONFERENCING_REASON}')]"
        );
        let admin = h.browser("admin", &t.url).await;
        sign_in(&admin, &org.admin_email).await;
        admin.goto("/settings/organization/users").await;
        admin.find(&row).await;
        assert_eq!(
            admin.count(&conferencing_reason).await,
            0,
            "with Zoom connected, conferencing is not a reason for action"
        );
        admin.screenshot("users-before-uninstall").await;

        // Zoom's side: the sandbox's control page, "Uninstall the app" for alice.
        admin.goto("/sandbox/zoom/control").await;
        admin.wait_text("h1", "Zoom sandbox").await;
        admin
            .wait_text("#users tr[data-user='alice@zoom.sandbox']", "Connected")
            .await;
        admin.screenshot("sandbox-control").await;
        admin
            .click_and_wait(&format!("#uninstall-{ALICE_ZOOM_ID}"))
            .await;
        admin.assert_path("/sandbox/zoom/control").await;
        let flash = admin
            .wait_text("#flash", "Uninstalled the app for alice@zoom.sandbox")
            .await;
        assert!(
            flash.contains("HTTP 204"),
            "Convene accepted the webhook: {flash}"
        );
        admin
            .wait_text("#users tr[data-user='alice@zoom.sandbox']", "Not connected")
            .await;
        admin.screenshot("sandbox-after-uninstall").await;

        // Convene: the Users page shows the user needs action for conferencing.
        admin
            .goto_until("/settings/organization/users", &conferencing_reason)
            .await;
        admin
            .wait_text(&format!("{row}/td[4]"), "Action Required")
            .await;
        admin.screenshot("users-after-uninstall").await;

        // The user's profile shows the revocation and offers to connect again.
        user.goto_until("/settings/profile", "#zoom-connection[data-status=revoked]")
            .await;
        user.wait_text(
            "#zoom-connection",
            "Convene was removed from your Zoom account",
        )
        .await;
        user.find("#connect-zoom").await;
        user.wait_absent("#disconnect-zoom").await;
        user.wait_text("#action-required", CONFERENCING_REASON)
            .await;
        user.scroll_to("#zoom-connection").await;
        user.screenshot("profile-revoked").await;

        let conns = api_connections(&t, &org.key, &ivy.id).await;
        assert_eq!(conns.len(), 1, "{conns:?}");
        assert_eq!(conns[0]["status"], "revoked");
        let (_, users) = t.get(&org.key, "/users?filter=all").await;
        let me = find_user(users["data"].as_array().expect("users"), &ivy.email);
        let reasons = me["action_reasons"].to_string();
        assert!(
            reasons.contains("no_conferencing"),
            "API reasons: {reasons}"
        );
    })
    .await;
}

/// The newest email to `to` (waits for the background worker to deliver it).
async fn wait_for_email(t: &TestApp, key: &str, to: &str, subject_prefix: &str) -> Value {
    for _ in 0..200 {
        let (_, mail) = t.get(key, &format!("/outbox?to={to}")).await;
        if let Some(m) = mail.as_array().and_then(|a| {
            a.iter().find(|m| {
                m["subject"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(subject_prefix)
            })
        }) {
            return m.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no '{subject_prefix}' email to {to}");
}

/// The path of the first link in `text` that contains `marker`.
fn link_path(t: &TestApp, text: &str, marker: &str) -> String {
    let url = text
        .split_whitespace()
        .find(|w| w.contains(marker))
        .unwrap_or_else(|| panic!("no {marker} link in {text}"));
    url.strip_prefix(&t.url).unwrap_or(url).to_string()
}

async fn wait_for_meeting<F: Fn(&convene_sandbox::SandboxMeeting) -> bool>(
    t: &TestApp,
    what: &str,
    ok: F,
) -> convene_sandbox::SandboxMeeting {
    for _ in 0..200 {
        if let Some(m) = t.sandbox().meetings().into_iter().find(|m| ok(m)) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the sandbox never showed {what}: {:?}",
        t.sandbox().meetings()
    );
}

#[tokio::test]
async fn an_invitee_books_a_round_robin_meeting_reschedules_and_cancels_from_the_email() {
    browser_test("book_reschedule_cancel", |h| async move {
        let t = TestApp::builder().with_workers(1).spawn().await;
        let org = t.create_org("Acme").await;
        let mut hosts = Vec::new();
        for (email, zoom) in [("ann@acme.example", "alice@zoom.sandbox"), ("bob@acme.example", "bea@zoom.sandbox")] {
            let m = t.member(&org, email, "meetings").await;
            t.connect_zoom(&m.session, zoom).await;
            let week: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .map(|d| (d.to_string(), serde_json::json!(["09:00-17:00"])))
                .collect();
            let r = t
                .client
                .put(t.api(&format!("/users/{}/availability", m.id)))
                .bearer_auth(&org.key)
                .json(&serde_json::json!({"weekly": week}))
                .send()
                .await
                .expect("availability");
            assert!(r.status().is_success());
            hosts.push(serde_json::json!({"user_id": m.id}));
        }
        let (status, et) = t
            .post(&org.key, "/event-types", serde_json::json!({"kind": "round_robin", "title": "Intro call", "duration_min": 30, "hosts": hosts}))
            .await;
        assert!(status.is_success(), "{et}");

        // The invitee is in New York; the hosts work 09:00–17:00 in Paris (the test members' zone).
        let inv = h.browser("invitee", &t.url).await;
        inv.goto(&format!("/book/{}/intro-call?tz=America/New_York", org.slug)).await;
        inv.wait_text("h1", "Intro call").await;
        inv.screenshot("month").await;
        inv.click_and_wait("#days a.day").await;
        let start: jiff::Timestamp = inv.attr("#slots a.slot", "data-start").await.parse().expect("slot start");
        let shown = inv.text("#slots a.slot").await;
        let new_york = start.to_zoned(jiff::tz::TimeZone::get("America/New_York").expect("tz")).strftime("%H:%M").to_string();
        assert_eq!(shown.trim(), new_york, "slots are shown in the invitee's zone");
        inv.screenshot("day").await;
        inv.click_and_wait("#slots a.slot").await;
        inv.fill("#booking-form input[name=name]", "Ivy Invitee").await;
        inv.fill("#booking-form input[name=email]", "ivy@client.example").await;
        inv.screenshot("form").await;
        inv.click_and_wait("#book").await;
        inv.wait_displayed("#booking-status[data-status=confirmed]").await;
        inv.screenshot("booked").await;

        // The email carries a link the sandbox Zoom knows.
        let mail = wait_for_email(&t, &org.key, "ivy@client.example", "Confirmed").await;
        let text = mail["text"].as_str().expect("text").to_string();
        let meeting = wait_for_meeting(&t, "the meeting", |m| !m.deleted).await;
        assert!(text.contains(&meeting.join_url), "{text}");
        assert_eq!(meeting.start_time, start);
        assert!(mail["calendar"].as_str().expect("ics").contains("METHOD:REQUEST"));

        // Reschedule from the email link: the same Zoom meeting moves.
        inv.goto(&link_path(&t, &text, "/reschedule")).await;
        inv.click_and_wait("#days li:last-child a.day").await;
        let new_start: jiff::Timestamp = inv.attr("#slots li:last-child a.slot", "data-start").await.parse().expect("slot");
        assert_ne!(new_start, start);
        inv.click_and_wait("#slots li:last-child a.slot").await;
        if inv.count("#confirm-reschedule").await > 0 {
            inv.click_and_wait("#confirm-reschedule").await;
        }
        inv.wait_displayed("#rescheduled-banner").await;
        inv.screenshot("rescheduled").await;
        wait_for_email(&t, &org.key, "ivy@client.example", "Rescheduled").await;
        let live: Vec<_> = t.sandbox().meetings().into_iter().filter(|m| !m.deleted).collect();
        assert_eq!(live.len(), 1, "one meeting: {live:?}");
        if live[0].id == meeting.id {
            assert_eq!(live[0].start_time, new_start, "moved in place");
        }

        // The sandbox's control page shows it; cancel from the email link deletes it.
        inv.goto(&link_path(&t, &text, "/cancel")).await;
        inv.fill("#reason", "Found another time").await;
        inv.click_and_wait("#confirm-cancel").await;
        inv.wait_displayed("#booking-status[data-status=cancelled]").await;
        inv.screenshot("cancelled").await;
        let gone = live[0].id;
        wait_for_meeting(&t, "the meeting deleted", |m| m.id == gone && m.deleted).await;
        inv.goto_until("/sandbox/zoom/control", &format!("#meetings tr[data-meeting-id=\"{gone}\"][data-status=deleted]")).await;
        inv.screenshot("sandbox-deleted").await;
        let cancel = wait_for_email(&t, &org.key, "ivy@client.example", "Cancelled").await;
        assert!(cancel["calendar"].as_str().expect("ics").contains("METHOD:CANCEL"));
    })
    .await;
}

/// The Google sandbox's events (every one ever written, deleted ones included), read
/// from its JSON control endpoint.
async fn google_events(t: &TestApp) -> Vec<Value> {
    let r = t
        .client
        .get(format!("{}/sandbox/google/control/events", t.url))
        .send()
        .await
        .expect("google sandbox events");
    assert!(r.status().is_success(), "events: {}", r.status());
    let v: Value = r.json().await.expect("events JSON");
    v.as_array().cloned().unwrap_or_default()
}

/// Waits for a Google sandbox event that `ok` accepts.
async fn wait_for_google_event<F: Fn(&Value) -> bool>(t: &TestApp, what: &str, ok: F) -> Value {
    let mut last = Vec::new();
    for _ in 0..200 {
        last = google_events(t).await;
        if let Some(e) = last.iter().find(|e| ok(e)) {
            return e.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the Google sandbox never showed {what}: {last:#?}");
}

fn event_start(e: &Value) -> Option<jiff::Timestamp> {
    e["start"].as_str().and_then(|s| s.parse().ok())
}

/// Adds a busy event to `account`'s primary calendar, as if they had added it in
/// Google Calendar (the sandbox's JSON control endpoint).
async fn google_busy(
    t: &TestApp,
    account: &str,
    start: jiff::Timestamp,
    end: jiff::Timestamp,
    summary: &str,
) {
    let r = t
        .client
        .post(format!("{}/sandbox/google/control/busy", t.url))
        .json(&serde_json::json!({"account": account, "start": start.to_string(), "end": end.to_string(), "summary": summary}))
        .send()
        .await
        .expect("google busy");
    let status = r.status();
    assert!(
        status.is_success(),
        "busy: {status} {}",
        r.text().await.unwrap_or_default()
    );
}

/// Every day 09:00–17:00 (the member's zone) through the API.
async fn api_hours(t: &TestApp, key: &str, user_id: &str) {
    let week: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), serde_json::json!(["09:00-17:00"])))
        .collect();
    let r = t
        .client
        .put(t.api(&format!("/users/{user_id}/availability")))
        .bearer_auth(key)
        .json(&serde_json::json!({"weekly": week}))
        .send()
        .await
        .expect("availability");
    assert!(r.status().is_success(), "availability: {}", r.status());
}

/// On the booking page `path` (a month), opens the first day that offers at least
/// `min` times (looking up to three months ahead); returns the day's URL.
async fn open_day_with_slots(b: &Browser, path: &str, min: usize) -> String {
    b.goto(path).await;
    for _ in 0..3 {
        let links = b
            .client
            .find_all(fantoccini::Locator::Css("#days a.day"))
            .await
            .unwrap_or_default();
        let mut hrefs = Vec::new();
        for l in links {
            let text = l.text().await.unwrap_or_default();
            let count: usize = text
                .rsplit('(')
                .next()
                .and_then(|c| c.trim_end_matches(')').trim().parse().ok())
                .unwrap_or(0);
            if count >= min {
                if let Ok(Some(h)) = l.attr("href").await {
                    hrefs.push(h);
                }
            }
        }
        if let Some(h) = hrefs.first() {
            b.goto(h).await;
            b.find("#slots a.slot").await;
            return b
                .client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_else(|e| panic!("current url: {e}"));
        }
        b.click_and_wait("#next-month").await;
    }
    panic!("no day with {min} free times on {path}");
}

/// Reloads `url` until nothing matches `selector` (for answers a background refresh
/// changes).
async fn reload_until_absent(b: &Browser, url: &str, selector: &str) {
    for _ in 0..100 {
        b.goto(url).await;
        if b.count(selector).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("[{}] {selector} is still on {url}", b.label);
}

/// My Profile → Calendar settings → Connect Google Calendar → the sandbox's consent
/// page → "Continue as" `slug`@google.sandbox; lands back on Calendar settings.
async fn connect_google_as(b: &Browser, slug: &str) {
    b.goto("/settings/profile").await;
    b.click_and_wait("#calendar-settings-link").await;
    b.assert_path("/settings/calendars").await;
    b.wait_text("h1", "Calendar settings").await;
    b.find("#no-calendars").await;
    b.screenshot("calendars-empty").await;
    b.click_and_wait("#connect-google").await;
    b.assert_path("/sandbox/google/o/oauth2/v2/auth").await;
    b.wait_text("h1", "Convene wants to access your Google Account")
        .await;
    b.screenshot("google-consent").await;
    b.click_and_wait(&format!("#account-{slug}")).await;
}

/// A host connects Zoom and Google Calendar; a busy time added in Google hides its slot
/// on the booking page; a booking lands in the Google calendar with the Zoom link and
/// cancelling from the email deletes it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_time_in_google_hides_a_slot_and_the_booking_lands_in_the_calendar() {
    browser_test("google_busy_and_booking", |h| async move {
        let t = TestApp::builder().with_workers(1).spawn().await;
        let org = t.create_org("Acme").await;
        let host = t.member(&org, "hal@acme.example", "meetings").await;
        let (status, _, body) = t.connect_zoom(&host.session, "alice@zoom.sandbox").await;
        assert!(status.is_redirection(), "zoom: {status} {body}");

        // The host connects Google Calendar in the browser, as gina.
        let b = h.browser("host", &t.url).await;
        sign_in(&b, &host.email).await;
        connect_google_as(&b, "gina").await;
        b.assert_path("/settings/calendars").await;
        b.wait_text(".notice", "Google Calendar is connected as gina@google.sandbox")
            .await;
        let card = "section.calendar-connection[data-provider=google][data-status=active]";
        b.wait_text(card, "gina@google.sandbox").await;
        let primary = format!("{card} tr[data-calendar-id='gina@google.sandbox']");
        b.find(&format!("{primary} input[name=conflict]:checked")).await;
        b.find(&format!("{primary} input[name=write_target]:checked")).await;
        let holidays = format!("{card} tr[data-calendar-id='en.usa#holiday@group.v.calendar.google.com']");
        assert_eq!(
            b.count(&format!("{holidays} input[name=write_target]")).await,
            0,
            "a read-only calendar cannot receive meetings"
        );
        assert_eq!(b.count(&format!("{card} .read-error")).await, 0);
        b.screenshot("google-connected").await;

        // Holidays no longer count for conflicts; the choice is kept.
        b.click(&format!("{holidays} input[name=conflict]")).await;
        b.click_and_wait("#save-calendars").await;
        b.wait_text(".notice", "Calendar choices saved.").await;
        assert_eq!(b.count(&format!("{holidays} input[name=conflict]:checked")).await, 0);
        b.find(&format!("{primary} input[name=conflict]:checked")).await;
        b.find(&format!("{primary} input[name=write_target]:checked")).await;
        b.screenshot("choices-saved").await;

        api_hours(&t, &org.key, &host.id).await;
        let (status, et) = t
            .post(&org.key, "/event-types", serde_json::json!({"kind": "personal", "title": "Chat", "duration_min": 30, "hosts": [{"user_id": host.id}]}))
            .await;
        assert!(status.is_success(), "{et}");
        let slug = et["slug"].as_str().unwrap_or("chat").to_string();

        // The invitee sees a day's times; then the host gets busy at the first one.
        let inv = h.browser("invitee", &t.url).await;
        let day = open_day_with_slots(&inv, &format!("/book/{}/{slug}?tz=UTC", org.slug), 3).await;
        let first: jiff::Timestamp = inv.attr("#slots a.slot", "data-start").await.parse().expect("slot start");
        inv.screenshot("day-before-busy").await;
        let end = first.checked_add(jiff::SignedDuration::from_mins(30)).expect("end");
        google_busy(&t, "gina@google.sandbox", first, end, "Dentist").await;
        inv.goto("/sandbox/google/control").await;
        inv.wait_text("#events tr[data-status=confirmed] td.summary", "Dentist").await;
        inv.screenshot("google-busy-added").await;

        // Busy times are cached for a minute (on the app's clock): past that, the
        // refreshed answer hides the slot.
        t.clock.advance(jiff::SignedDuration::from_mins(2));
        let taken = format!("#slots a.slot[data-start='{first}']");
        reload_until_absent(&inv, &day, &taken).await;
        inv.screenshot("day-after-busy").await;

        // Book the (new) first time of the day.
        let start: jiff::Timestamp = inv.attr("#slots a.slot", "data-start").await.parse().expect("slot start");
        assert_ne!(start, first);
        inv.click_and_wait("#slots a.slot").await;
        inv.fill("#booking-form input[name=name]", "Ivy Invitee").await;
        inv.fill("#booking-form input[name=email]", "ivy@client.example").await;
        inv.click_and_wait("#book").await;
        inv.wait_displayed("#booking-status[data-status=confirmed]").await;
        inv.screenshot("booked").await;

        let mail = wait_for_email(&t, &org.key, "ivy@client.example", "Confirmed").await;
        let text = mail["text"].as_str().expect("text").to_string();
        let meeting = wait_for_meeting(&t, "the Zoom meeting", |m| !m.deleted).await;
        assert!(text.contains(&meeting.join_url), "{text}");
        let join = meeting.join_url.clone();
        let event = wait_for_google_event(&t, "the booked meeting with its Zoom link", |e| {
            e["deleted"] == false
                && event_start(e) == Some(start)
                && (e["location"].as_str().unwrap_or_default().contains(&join)
                    || e["description"].as_str().unwrap_or_default().contains(&join))
        })
        .await;
        assert_eq!(event["account"], "gina@google.sandbox", "{event}");
        assert!(
            event["attendees"].to_string().contains("ivy@client.example"),
            "the invitee is an attendee: {event}"
        );
        let id = event["id"].as_str().expect("event id").to_string();
        let row = format!("#events tr[data-event-id=\"{id}\"]");
        inv.goto_until("/sandbox/google/control", &format!("{row}[data-status=confirmed]")).await;
        inv.scroll_to(&row).await;
        inv.screenshot("google-event-written").await;

        // Cancelling from the email's link deletes the event in Google.
        inv.goto(&link_path(&t, &text, "/cancel")).await;
        inv.fill("#reason", "Something came up").await;
        inv.click_and_wait("#confirm-cancel").await;
        inv.wait_displayed("#booking-status[data-status=cancelled]").await;
        inv.screenshot("cancelled").await;
        wait_for_google_event(&t, "the event deleted", |e| e["id"] == id.as_str() && e["deleted"] == true).await;
        inv.goto_until("/sandbox/google/control", &format!("{row}[data-status=deleted]")).await;
        inv.scroll_to(&row).await;
        inv.screenshot("google-event-deleted").await;

        // The host's calendar still reads fine; then they disconnect it.
        b.goto("/settings/calendars").await;
        b.find(card).await;
        assert_eq!(b.count(&format!("{card} .read-error")).await, 0);
        b.click_and_wait("#disconnect-google").await;
        b.wait_text(".notice", "Google Calendar was disconnected")
            .await;
        assert_eq!(b.count("section.calendar-connection").await, 0);
        b.find("#connect-google").await;
        b.screenshot("google-disconnected").await;
    })
    .await;
}

/// Nora's Microsoft tenant does not let members consent to apps: the page says a
/// tenant admin must consent, and nothing is connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_microsoft_as_a_user_whose_tenant_needs_admin_consent_explains_it() {
    browser_test("microsoft_admin_consent", |h| async move {
        let t = TestApp::spawn().await;
        let org = t.create_org("Acme").await;
        let m = t.member(&org, "max@acme.example", "meetings").await;

        let b = h.browser("max", &t.url).await;
        sign_in(&b, &m.email).await;
        b.goto("/settings/calendars").await;
        b.wait_text("h1", "Calendar settings").await;
        b.click_and_wait("#connect-microsoft").await;
        let url = b.client.current_url().await.expect("url");
        assert!(
            url.path().starts_with("/sandbox/microsoft/")
                && url.path().ends_with("/oauth2/v2.0/authorize"),
            "the Microsoft consent page: {url}"
        );
        b.find("#account-nora").await;
        b.screenshot("microsoft-consent").await;
        b.click_and_wait("#account-nora").await;

        b.assert_path("/oauth/microsoft/callback").await;
        let title = b.text("#connect-error h1").await;
        assert!(title.contains("admin must consent"), "title: {title}");
        let explained = b.text("#connect-error").await;
        assert!(
            explained.contains("tenant administrator must grant admin consent"),
            "the page says what the tenant admin must do: {explained}"
        );
        assert!(explained.contains("Nothing was stored"), "{explained}");
        b.screenshot("admin-consent-required").await;

        // Back on Calendar settings nothing is connected and Microsoft is still offered.
        b.click_and_wait("#connect-error a.button").await;
        b.assert_path("/settings/calendars").await;
        assert_eq!(b.count("section.calendar-connection").await, 0);
        b.find("#connect-microsoft").await;

        // A CalDAV server URL that is not one: the form comes back with the message,
        // the user name kept and the password not.
        b.fill("#caldav-form input[name=server_url]", "caldav.example.com")
            .await;
        b.fill("#caldav-form input[name=username]", "max").await;
        b.fill("#caldav-form input[name=password]", "app-password")
            .await;
        b.click_and_wait("#add-caldav").await;
        b.assert_path("/settings/calendars/caldav").await;
        b.wait_text("#caldav-error", "http(s) URL").await;
        assert_eq!(
            b.attr("#caldav-form input[name=username]", "value").await,
            "max"
        );
        assert_eq!(
            b.attr("#caldav-form input[name=server_url]", "value").await,
            "caldav.example.com"
        );
        let password = b
            .find("#caldav-form input[name=password]")
            .await
            .prop("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        assert!(password.is_empty(), "the password is not sent back");
        assert_eq!(b.count("section.calendar-connection").await, 0);
        b.screenshot("caldav-error").await;
    })
    .await;
}
