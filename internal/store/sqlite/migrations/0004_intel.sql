-- Threat-intelligence feeds: each import replaces the indicators of its
-- feed (by name), so re-importing an updated feed is idempotent.

CREATE TABLE intel_feeds (
    name        TEXT PRIMARY KEY,
    imported_at TEXT    NOT NULL,
    imported_by TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    count       INTEGER NOT NULL
);

CREATE TABLE intel_indicators (
    feed  TEXT    NOT NULL REFERENCES intel_feeds (name) ON DELETE CASCADE,
    seq   INTEGER NOT NULL,
    type  TEXT    NOT NULL,
    value TEXT    NOT NULL,
    doc   TEXT    NOT NULL,
    PRIMARY KEY (feed, seq)
);
CREATE INDEX intel_by_value ON intel_indicators (type, value);
