-- Containment policy: the actions in force and the policy's version, which
-- goes up with every change so gateways can tell a newer snapshot.

CREATE TABLE policy_actions (
    id         TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    doc        TEXT NOT NULL
);

CREATE TABLE policy_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   INTEGER NOT NULL
);
INSERT INTO policy_version (singleton, version) VALUES (1, 0);
