//! WebDAV/CalDAV XML: the request bodies the adapter sends, and the `207 Multi-Status`
//! answers it reads (RFC 4918 §14.16, RFC 4791). Private to the `caldav` module.
//!
//! Elements are matched by namespace and local name, never by prefix: servers write
//! `D:`, `d:`, `a:` or a default namespace for `DAV:` as they please. Only properties
//! in a `propstat` whose status is 2xx count; a `404` propstat means "no such
//! property". The parser (`roxmltree`) refuses DTDs, so entity expansion cannot blow
//! up memory.

use std::fmt;

pub(super) const DAV: &str = "DAV:";
pub(super) const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";

/// Step 1 of discovery (RFC 5397).
pub(super) const PROPFIND_PRINCIPAL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:">
  <d:prop><d:current-user-principal/></d:prop>
</d:propfind>"#;

/// Step 2: where the principal's calendars live, and who the principal is.
pub(super) const PROPFIND_HOME: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop>
    <c:calendar-home-set/>
    <c:calendar-user-address-set/>
    <d:displayname/>
  </d:prop>
</d:propfind>"#;

/// Step 3 (Depth 1 on the calendar home): which children are calendars.
pub(super) const PROPFIND_CALENDARS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop>
    <d:resourcetype/>
    <d:displayname/>
    <c:supported-calendar-component-set/>
    <d:current-user-privilege-set/>
  </d:prop>
</d:propfind>"#;

/// A `calendar-query` REPORT for the VEVENTs overlapping `[start, end)` (times in
/// iCalendar UTC form, `20261201T150000Z`), asking the server to expand recurrences.
///
/// It also names the few properties busy times need (RFC 4791 §9.6.1), so servers
/// that honour `comp`/`prop` send much less than whole events with long invitations;
/// servers that do not simply send everything.
pub(super) fn calendar_query(start: &str, end: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop>
    <d:getetag/>
    <c:calendar-data>
      <c:comp name="VCALENDAR">
        <c:prop name="VERSION"/>
        <c:comp name="VEVENT">
          <c:prop name="UID"/>
          <c:prop name="DTSTART"/>
          <c:prop name="DTEND"/>
          <c:prop name="DURATION"/>
          <c:prop name="RRULE"/>
          <c:prop name="RDATE"/>
          <c:prop name="EXDATE"/>
          <c:prop name="RECURRENCE-ID"/>
          <c:prop name="TRANSP"/>
          <c:prop name="STATUS"/>
        </c:comp>
      </c:comp>
      <c:expand start="{start}" end="{end}"/>
    </c:calendar-data>
  </d:prop>
  <c:filter>
    <c:comp-filter name="VCALENDAR">
      <c:comp-filter name="VEVENT">
        <c:time-range start="{start}" end="{end}"/>
      </c:comp-filter>
    </c:comp-filter>
  </c:filter>
</c:calendar-query>"#
    )
}

/// The answer was not a WebDAV multistatus document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NotMultistatus(pub String);

impl fmt::Display for NotMultistatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `<response>` of a multistatus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct DavResponse {
    /// As the server wrote it (usually an absolute path); resolve against the request
    /// URL.
    pub href: String,
    /// A response-level `<status>` (used instead of propstats, e.g. `404` for a
    /// member that vanished); `None` when the response carries propstats.
    pub status: Option<u16>,
    pub props: Props,
}

/// The properties Convene reads, from the response's 2xx propstats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Props {
    pub current_user_principal: Option<String>,
    pub calendar_home_set: Vec<String>,
    pub calendar_user_address_set: Vec<String>,
    pub displayname: Option<String>,
    pub is_collection: bool,
    pub is_calendar: bool,
    /// Component names (`VEVENT`, `VTODO`); `None` when the server did not report the
    /// set, which RFC 4791 says means "any component".
    pub supported_components: Option<Vec<String>>,
    /// Local names of the `DAV:` privileges granted (`read`, `write`, `all`, …);
    /// `None` when the server did not report them.
    pub privileges: Option<Vec<String>>,
    pub getetag: Option<String>,
    pub calendar_data: Option<String>,
}

/// Reads a `207 Multi-Status` body. Anything else (HTML, JSON, XML with another root,
/// broken XML) is [`NotMultistatus`].
pub(super) fn parse_multistatus(body: &[u8]) -> Result<Vec<DavResponse>, NotMultistatus> {
    let text =
        std::str::from_utf8(body).map_err(|_| NotMultistatus("the body is not UTF-8".into()))?;
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| NotMultistatus(format!("the body is not XML: {e}")))?;
    let root = doc.root_element();
    if !is(root, DAV, "multistatus") {
        return Err(NotMultistatus(format!(
            "the XML root is <{}> where <DAV:multistatus> was expected",
            root.tag_name().name()
        )));
    }
    Ok(root
        .children()
        .filter(|n| is(*n, DAV, "response"))
        .map(response)
        .collect())
}

fn response(node: roxmltree::Node<'_, '_>) -> DavResponse {
    let mut out = DavResponse::default();
    for child in node.children().filter(roxmltree::Node::is_element) {
        if is(child, DAV, "href") && out.href.is_empty() {
            out.href = text_of(child).trim().to_owned();
        } else if is(child, DAV, "status") {
            out.status = status_code(&text_of(child));
        } else if is(child, DAV, "propstat") {
            let ok = child
                .children()
                .find(|n| is(*n, DAV, "status"))
                .and_then(|s| status_code(&text_of(s)))
                .is_some_and(|code| (200..300).contains(&code));
            if !ok {
                continue;
            }
            for prop in child.children().filter(|n| is(*n, DAV, "prop")) {
                read_props(prop, &mut out.props);
            }
        }
    }
    out
}

fn read_props(prop: roxmltree::Node<'_, '_>, props: &mut Props) {
    for p in prop.children().filter(roxmltree::Node::is_element) {
        if is(p, DAV, "current-user-principal") {
            props.current_user_principal = hrefs(p).into_iter().next();
        } else if is(p, CALDAV, "calendar-home-set") {
            props.calendar_home_set = hrefs(p);
        } else if is(p, CALDAV, "calendar-user-address-set") {
            props.calendar_user_address_set = hrefs(p);
        } else if is(p, DAV, "displayname") {
            let name = text_of(p).trim().to_owned();
            props.displayname = (!name.is_empty()).then_some(name);
        } else if is(p, DAV, "resourcetype") {
            props.is_collection = p.children().any(|n| is(n, DAV, "collection"));
            props.is_calendar = p.children().any(|n| is(n, CALDAV, "calendar"));
        } else if is(p, CALDAV, "supported-calendar-component-set") {
            props.supported_components = Some(
                p.children()
                    .filter(|n| is(*n, CALDAV, "comp"))
                    .filter_map(|n| n.attribute("name"))
                    .map(str::to_ascii_uppercase)
                    .collect(),
            );
        } else if is(p, DAV, "current-user-privilege-set") {
            props.privileges = Some(
                p.descendants()
                    .filter(|n| is(*n, DAV, "privilege"))
                    .flat_map(|n| n.children().filter(roxmltree::Node::is_element))
                    .map(|n| n.tag_name().name().to_owned())
                    .collect(),
            );
        } else if is(p, DAV, "getetag") {
            let etag = text_of(p).trim().to_owned();
            props.getetag = (!etag.is_empty()).then_some(etag);
        } else if is(p, CALDAV, "calendar-data") {
            props.calendar_data = Some(text_of(p));
        }
    }
}

fn is(node: roxmltree::Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(namespace)
}

/// The `DAV:href` children of a property, trimmed, empty ones dropped.
fn hrefs(node: roxmltree::Node<'_, '_>) -> Vec<String> {
    node.children()
        .filter(|n| is(*n, DAV, "href"))
        .map(|n| text_of(n).trim().to_owned())
        .filter(|h| !h.is_empty())
        .collect()
}

/// All the text directly inside an element (text and CDATA sections joined).
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.children()
        .filter(roxmltree::Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

/// `HTTP/1.1 200 OK` → 200.
fn status_code(line: &str) -> Option<u16> {
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_principal_with_an_upper_case_prefix() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<D:multistatus xmlns:D="DAV:">
  <D:response>
    <D:href>/</D:href>
    <D:propstat>
      <D:prop><D:current-user-principal><D:href>/alice/</D:href></D:current-user-principal></D:prop>
      <D:status>HTTP/1.1 200 OK</D:status>
    </D:propstat>
  </D:response>
</D:multistatus>"#;
        let r = parse_multistatus(body.as_bytes()).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].href, "/");
        assert_eq!(
            r[0].props.current_user_principal.as_deref(),
            Some("/alice/")
        );
    }

    #[test]
    fn reads_calendars_with_a_default_namespace_and_lower_case_prefixes() {
        // Nextcloud-like: default namespace for DAV:, `cal:` for CalDAV, a 404
        // propstat for a property the collection does not have.
        let body = r#"<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">
  <response>
    <href>/dav/calendars/alice/</href>
    <propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat>
    <propstat><prop><displayname/><cal:supported-calendar-component-set/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
  </response>
  <response>
    <href>/dav/calendars/alice/work/</href>
    <propstat>
      <prop>
        <resourcetype><collection/><cal:calendar/></resourcetype>
        <displayname>Work</displayname>
        <cal:supported-calendar-component-set><cal:comp name="VEVENT"/><cal:comp name="vtodo"/></cal:supported-calendar-component-set>
        <current-user-privilege-set><privilege><read/></privilege><privilege><write/></privilege></current-user-privilege-set>
      </prop>
      <status>HTTP/1.1 200 OK</status>
    </propstat>
  </response>
  <response>
    <href>/dav/calendars/alice/gone/</href>
    <status>HTTP/1.1 404 Not Found</status>
  </response>
</multistatus>"#;
        let r = parse_multistatus(body.as_bytes()).unwrap();
        assert_eq!(r.len(), 3);
        assert!(r[0].props.is_collection && !r[0].props.is_calendar);
        assert_eq!(r[0].props.displayname, None);
        assert_eq!(r[0].props.supported_components, None);
        let work = &r[1].props;
        assert!(work.is_calendar);
        assert_eq!(work.displayname.as_deref(), Some("Work"));
        assert_eq!(
            work.supported_components.as_deref(),
            Some(&["VEVENT".to_owned(), "VTODO".to_owned()][..])
        );
        assert_eq!(
            work.privileges.as_deref(),
            Some(&["read".to_owned(), "write".to_owned()][..])
        );
        assert_eq!(r[2].status, Some(404));
    }

    #[test]
    fn reads_home_sets_addresses_and_calendar_data() {
        let body = r#"<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:response>
    <d:href>/alice/</d:href>
    <d:propstat><d:prop>
      <c:calendar-home-set><d:href> /alice/ </d:href></c:calendar-home-set>
      <c:calendar-user-address-set><d:href>mailto:alice@example.org</d:href><d:href>/alice/</d:href></c:calendar-user-address-set>
      <d:displayname>Alice A.</d:displayname>
    </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
  </d:response>
  <d:response>
    <d:href>/alice/work/a.ics</d:href>
    <d:propstat><d:prop>
      <d:getetag>"abc"</d:getetag>
      <c:calendar-data><![CDATA[BEGIN:VCALENDAR
END:VCALENDAR
]]></c:calendar-data>
    </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
  </d:response>
</d:multistatus>"#;
        let r = parse_multistatus(body.as_bytes()).unwrap();
        assert_eq!(r[0].props.calendar_home_set, vec!["/alice/".to_owned()]);
        assert_eq!(
            r[0].props.calendar_user_address_set,
            vec!["mailto:alice@example.org".to_owned(), "/alice/".to_owned()]
        );
        assert_eq!(r[0].props.displayname.as_deref(), Some("Alice A."));
        assert_eq!(r[1].props.getetag.as_deref(), Some("\"abc\""));
        assert_eq!(
            r[1].props.calendar_data.as_deref(),
            Some("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
        );
    }

    #[test]
    fn anything_but_a_multistatus_is_refused() {
        for body in [
            "<!DOCTYPE html><html><body>Welcome</body></html>",
            "<html><body>Welcome</body></html>",
            r#"{"error":"nope"}"#,
            "",
            "<d:multistatus xmlns:d=\"DAV:\"><d:response>",
            // A multistatus in the wrong namespace is not WebDAV.
            "<multistatus><response/></multistatus>",
            // DTDs are refused (no entity expansion).
            r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><d:multistatus xmlns:d="DAV:">&lol;</d:multistatus>"#,
        ] {
            assert!(parse_multistatus(body.as_bytes()).is_err(), "{body}");
        }
        assert!(parse_multistatus(&[0xff, 0xfe, 0x3c]).is_err());
    }

    #[test]
    fn the_query_names_the_window() {
        let q = calendar_query("20260316T000000Z", "20260406T000000Z");
        assert!(q.contains(r#"<c:expand start="20260316T000000Z" end="20260406T000000Z"/>"#));
        assert!(q.contains(r#"<c:time-range start="20260316T000000Z" end="20260406T000000Z"/>"#));
        assert!(roxmltree::Document::parse(&q).is_ok());
    }
}
