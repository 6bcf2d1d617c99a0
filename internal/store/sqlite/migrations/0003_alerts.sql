-- Alerts raised by detectors, the analysts' verdicts on them, and the
-- suppression list that false positives feed.

CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    at          TEXT    NOT NULL,
    detector    TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    severity    INTEGER NOT NULL,
    fingerprint TEXT    NOT NULL,
    verdict     TEXT    NOT NULL DEFAULT '',
    version     INTEGER NOT NULL,
    doc         TEXT    NOT NULL
);
CREATE INDEX alerts_by_detector    ON alerts (detector, id);
CREATE INDEX alerts_by_type        ON alerts (type, id);
CREATE INDEX alerts_by_fingerprint ON alerts (fingerprint, id);

CREATE TABLE suppressions (
    fingerprint TEXT PRIMARY KEY,
    alert_id    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    note        TEXT NOT NULL
);
