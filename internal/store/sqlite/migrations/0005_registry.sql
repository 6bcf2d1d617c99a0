-- The model registry: one row per registered model version (its record as
-- a JSON document, with the columns lists filter and order on), and each
-- version's history.

CREATE TABLE model_versions (
    name            TEXT    NOT NULL,
    version         TEXT    NOT NULL,
    registered_at   TEXT    NOT NULL,
    manifest_digest TEXT    NOT NULL,
    deployed        INTEGER NOT NULL,
    revision        INTEGER NOT NULL,
    doc             TEXT    NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_by_time ON model_versions (name, registered_at, version);
CREATE INDEX model_versions_deployed ON model_versions (deployed, name);

CREATE TABLE model_events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    actor   TEXT NOT NULL,
    detail  TEXT NOT NULL,
    FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
);
CREATE INDEX model_events_by_version ON model_events (name, version, seq);
