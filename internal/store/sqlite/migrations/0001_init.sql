-- The incident core: incidents, their timelines, evidence and custody,
-- tasks, API tokens, the audit log and the imported ATLAS catalogue.

CREATE TABLE incidents (
    id            TEXT PRIMARY KEY,
    phase         TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    severity      INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    timeline_len  INTEGER NOT NULL DEFAULT 0,
    timeline_head TEXT    NOT NULL DEFAULT '',
    doc           TEXT    NOT NULL
);
CREATE INDEX incidents_by_phase    ON incidents (phase, id);
CREATE INDEX incidents_by_type     ON incidents (type, id);
CREATE INDEX incidents_by_severity ON incidents (severity, id);

CREATE TABLE timeline (
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    PRIMARY KEY (incident_id, seq)
);

CREATE TABLE blobs (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    custody_len  INTEGER NOT NULL DEFAULT 0,
    custody_head TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE evidence (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT    NOT NULL REFERENCES incidents (id),
    sha256       TEXT    NOT NULL REFERENCES blobs (sha256),
    name         TEXT    NOT NULL,
    media_type   TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    collected_by TEXT    NOT NULL,
    collected_at TEXT    NOT NULL
);
CREATE INDEX evidence_by_incident ON evidence (incident_id, id);
CREATE INDEX evidence_by_blob     ON evidence (sha256, id);

CREATE TABLE custody (
    sha256      TEXT    NOT NULL REFERENCES blobs (sha256),
    seq         INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    incident_id TEXT    NOT NULL,
    addr        TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    PRIMARY KEY (sha256, seq)
);

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    version     INTEGER NOT NULL,
    doc         TEXT    NOT NULL
);
CREATE INDEX tasks_by_incident ON tasks (incident_id, id);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    last_used  TEXT,
    revoked    TEXT
);

CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    role   TEXT NOT NULL,
    addr   TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_by_actor  ON audit (actor, id);
CREATE INDEX audit_by_action ON audit (action, id);

CREATE TABLE atlas_catalog (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   TEXT NOT NULL
);

CREATE TABLE atlas_techniques (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    parent  TEXT NOT NULL,
    tactics TEXT NOT NULL
);
