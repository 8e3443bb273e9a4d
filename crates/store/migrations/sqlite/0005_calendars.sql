-- Calendars: the calendars of each calendar connection, which count for conflicts and
-- which receives booked meetings; read failures; the events Convene wrote for bookings.

-- A CalDAV connection's server (its user name and app password are sealed in
-- access_token, like an OAuth token).
ALTER TABLE connections ADD COLUMN server_url TEXT;
-- The last failure to read busy times; NULL once a read works again. A connection with
-- a read error does not count as a working calendar.
ALTER TABLE connections ADD COLUMN read_error TEXT;
ALTER TABLE connections ADD COLUMN read_error_at BIGINT;

CREATE TABLE connection_calendars (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    calendar_id TEXT NOT NULL,
    name TEXT NOT NULL,
    is_primary INTEGER NOT NULL DEFAULT FALSE,
    writable INTEGER NOT NULL DEFAULT FALSE,
    check_conflicts INTEGER NOT NULL DEFAULT TRUE,
    write_target INTEGER NOT NULL DEFAULT FALSE,
    PRIMARY KEY (connection_id, calendar_id)
);

-- One row per host of a booking whose calendar receives the meeting. The event id is
-- stored as soon as the provider answers, so a retried job updates instead of creating.
CREATE TABLE booking_events (
    booking_id TEXT NOT NULL REFERENCES bookings(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    connection_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    calendar_id TEXT NOT NULL,
    event_id TEXT,
    etag TEXT,
    synced_seq BIGINT NOT NULL DEFAULT -1,
    PRIMARY KEY (booking_id, user_id)
);
