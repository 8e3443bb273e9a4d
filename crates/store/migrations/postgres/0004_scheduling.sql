-- Scheduling and booking: availability, event types, bookings and their meetings.
-- Instants are BIGINT Unix milliseconds (UTC); civil times live only in the
-- availability text, interpreted in the user's time zone.

CREATE TABLE availability (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    weekly TEXT NOT NULL,
    overrides TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Bumped by every booking that involves the user, first thing in its transaction:
-- the row lock serializes bookings of one host on both backends.
ALTER TABLE users ADD COLUMN booking_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE event_types (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    duration_min BIGINT NOT NULL,
    interval_min BIGINT NOT NULL,
    buffer_before_min BIGINT NOT NULL,
    buffer_after_min BIGINT NOT NULL,
    min_notice_min BIGINT NOT NULL,
    window_days BIGINT NOT NULL,
    daily_limit BIGINT,
    location TEXT NOT NULL,
    questions TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, slug)
);

CREATE TABLE event_type_hosts (
    event_type_id TEXT NOT NULL REFERENCES event_types(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id),
    priority BIGINT NOT NULL DEFAULT 0,
    weight BIGINT NOT NULL DEFAULT 1,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (event_type_id, user_id)
);
CREATE INDEX event_type_hosts_by_user ON event_type_hosts (user_id);

CREATE TABLE bookings (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    event_type_id TEXT NOT NULL REFERENCES event_types(id),
    host_user_id TEXT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL,
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    title TEXT NOT NULL,
    invitee_name TEXT NOT NULL,
    invitee_email TEXT NOT NULL,
    invitee_time_zone TEXT NOT NULL,
    answers TEXT NOT NULL,
    location_kind TEXT NOT NULL,
    location_text TEXT,
    sequence BIGINT NOT NULL DEFAULT 0,
    manage_token_hash TEXT NOT NULL UNIQUE,
    -- The token itself, sealed like provider tokens: emails re-rendered by a retried job
    -- must carry the same Reschedule / Cancel links.
    manage_token_sealed TEXT NOT NULL,
    previous_start_at BIGINT,
    idempotency_key TEXT,
    request_hash TEXT,
    meeting_state TEXT NOT NULL,
    meeting_provider TEXT,
    meeting_host_user_id TEXT,
    meeting_id TEXT,
    join_url TEXT,
    meeting_synced_seq BIGINT NOT NULL DEFAULT -1,
    meeting_attempted_at BIGINT,
    meeting_error TEXT,
    -- The sequence whose emails were queued; emails go out once per sequence.
    notified_seq BIGINT NOT NULL DEFAULT -1,
    -- The invitee was told the link will follow; send it once the meeting exists.
    link_owed BOOLEAN NOT NULL DEFAULT FALSE,
    sync_lease_until BIGINT,
    cancel_reason TEXT,
    cancelled_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, idempotency_key)
);
CREATE INDEX bookings_by_org_start ON bookings (org_id, start_at, id);
CREATE INDEX bookings_by_event_type ON bookings (event_type_id, created_at);

-- One row per host of a booking (Collective meetings have several), so a host's busy
-- time is one indexed range scan whatever the event type.
CREATE TABLE booking_hosts (
    booking_id TEXT NOT NULL REFERENCES bookings(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (booking_id, user_id)
);
CREATE INDEX booking_hosts_busy ON booking_hosts (user_id, active, start_at);

-- Provider meetings that must be deleted: a replaced meeting after a host change, or
-- one created twice by a crash. The sync job deletes them and removes the row.
CREATE TABLE orphan_meetings (
    provider TEXT NOT NULL,
    meeting_id TEXT NOT NULL,
    host_user_id TEXT NOT NULL,
    booking_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, meeting_id)
);

ALTER TABLE outbox ADD COLUMN message_key TEXT;
ALTER TABLE outbox ADD COLUMN calendar TEXT;
CREATE UNIQUE INDEX outbox_message_key ON outbox (message_key);
