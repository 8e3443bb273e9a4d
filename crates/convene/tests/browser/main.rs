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
