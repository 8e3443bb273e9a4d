//! Outgoing email. Messages are always sent by the `send_email` job, never inline, so
//! a state change and its email commit together and a failed send is retried.
//!
//! With SMTP configured, lettre delivers them; without, they land in the local outbox
//! that admins read in the UI, so a fresh install still shows its invitations.

pub mod ics;
pub mod templates;

use anyhow::Context;
use convene_domain::OrgId;
use convene_store::{NewOutboxMessage, Store};
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// A rendered email, as queued in a `send_email` job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub org_id: Option<OrgId>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// An iCalendar invitation (`.ics` text), attached as `text/calendar`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<CalendarPart>,
    /// Identifies the message across retries: the outbox keeps one copy per key, and
    /// SMTP gets it as a stable `Message-ID`, so mail clients drop a redelivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CalendarPart {
    /// `REQUEST` or `CANCEL`, repeated in the MIME type as mail clients expect.
    pub method: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP; for a relay on localhost or a test server.
    None,
    StartTls,
    Tls,
}

#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Clone)]
pub enum Mailer {
    Outbox,
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

impl Mailer {
    pub fn smtp(s: &SmtpSettings, from: &str) -> anyhow::Result<Self> {
        let builder = match s.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .context("configuring SMTP STARTTLS")?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                .context("configuring SMTP TLS")?,
        };
        let mut builder = builder
            .port(s.port)
            .timeout(Some(std::time::Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Self::Smtp {
            transport: builder.build(),
            from: from
                .parse()
                .with_context(|| format!("the sender address '{from}' is not valid"))?,
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Mailer::Outbox => "outbox",
            Mailer::Smtp { .. } => "smtp",
        }
    }

    /// Delivers one message. Called by the email job only.
    pub async fn deliver(
        &self,
        store: &Store,
        now: jiff::Timestamp,
        m: &OutgoingEmail,
    ) -> anyhow::Result<()> {
        match self {
            Mailer::Outbox => {
                let mut tx = store.write().await?;
                tx.insert_outbox(
                    &NewOutboxMessage {
                        org_id: m.org_id,
                        to: m.to.clone(),
                        subject: m.subject.clone(),
                        text_body: m.text.clone(),
                        html_body: m.html.clone(),
                        calendar: m.calendar.as_ref().map(|c| c.content.clone()),
                        message_key: m.message_key.clone(),
                    },
                    now,
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let to: Mailbox =
                    m.to.parse()
                        .with_context(|| format!("recipient '{}' is not valid", m.to))?;
                let mut builder = lettre::Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&m.subject);
                if let Some(key) = &m.message_key {
                    let domain = from.email.domain();
                    builder = builder.message_id(Some(format!("<{key}@{domain}>")));
                }
                let text = SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(m.text.clone());
                let body = match &m.html {
                    Some(html) => MultiPart::alternative().singlepart(text).singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html.clone()),
                    ),
                    None => MultiPart::alternative().singlepart(text),
                };
                let message = match &m.calendar {
                    Some(cal) => {
                        let content_type = ContentType::parse(&format!(
                            "text/calendar; method={}; charset=UTF-8",
                            cal.method
                        ))
                        .context("calendar content type")?;
                        builder.multipart(
                            MultiPart::mixed().multipart(body).singlepart(
                                Attachment::new("invite.ics".to_string())
                                    .body(cal.content.clone(), content_type),
                            ),
                        )
                    }
                    None => builder.multipart(body),
                }
                .context("building the email")?;
                transport.send(message).await.context("sending by SMTP")?;
                Ok(())
            }
        }
    }
}
