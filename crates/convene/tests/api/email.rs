//! Email through a real SMTP server (mailin-embedded, an SMTP server crate) listening
//! on loopback: the message that arrives is checked, not a mock's call log.

use convene_test_support::{extract_link, TestApp};
use mailin_embedded::{response, Handler, Response, Server, SslConfig};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
struct Received {
    from: String,
    to: Vec<String>,
    data: String,
}

#[derive(Clone)]
struct Collect {
    current: Received,
    inbox: Arc<Mutex<Vec<Received>>>,
}

impl Handler for Collect {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Received {
            from: from.to_string(),
            to: to.to_vec(),
            data: String::new(),
        };
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.push_str(&String::from_utf8_lossy(buf));
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.inbox
            .lock()
            .unwrap()
            .push(std::mem::take(&mut self.current));
        response::OK
    }
}

/// Starts an SMTP server on a free loopback port; returns the port and its inbox.
fn smtp_server() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let mut server = Server::new(Collect {
        current: Received::default(),
        inbox: inbox.clone(),
    });
    server
        .with_name("smtp.test")
        .with_ssl(SslConfig::None)
        .unwrap()
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, inbox)
}

/// Quoted-printable soft line breaks split long links; undo them to read the text.
fn unfold(qp: &str) -> String {
    qp.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

#[tokio::test]
async fn invitation_arrives_by_smtp_with_a_working_join_link() {
    let (port, inbox) = smtp_server();
    let t = TestApp::builder().with_smtp(port).spawn().await;
    let org = t.create_org("Acme").await;
    t.invite(&org.key, "Grace@Acme.example", "meetings").await;
    assert_eq!(t.run_jobs().await, 1);
    let mails = inbox.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(m.from, "no-reply@convene.test");
    assert_eq!(m.to, ["Grace@Acme.example"]);
    let text = unfold(&m.data);
    assert!(
        text.contains("Subject: Ada Admin invited you to Acme on Convene"),
        "{text}"
    );
    assert!(text.contains("multipart/alternative"), "{text}");
    let link = extract_link(&text, "/join/").expect("join link in the message");
    assert!(link.starts_with(&t.url), "{link}");
    // The link works: the join page opens and accepting activates the user.
    t.join(&link, "Grace").await;
    let (_, me) = t.get(&org.key, "/users?filter=active&q=grace").await;
    assert_eq!(me["data"][0]["name"], "Grace");
    // With SMTP configured nothing lands in the local outbox.
    assert_eq!(t.get(&org.key, "/outbox").await.1, serde_json::json!([]));
}
