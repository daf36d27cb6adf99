-- Duplicate detection: results of each run (kept apart from user decisions), and decisions
-- keyed by content hashes so they survive rescans, moves and renames.

CREATE TABLE duplicate_runs (
    job_id       bigint PRIMARY KEY,
    catalog_id   bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    incremental  boolean NOT NULL DEFAULT false,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    photos       integer NOT NULL DEFAULT 0,
    high_water   timestamptz,
    is_current   boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX duplicate_runs_current_idx ON duplicate_runs (catalog_id) WHERE is_current;

CREATE TABLE duplicate_groups (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_job_id          bigint NOT NULL REFERENCES duplicate_runs (job_id) ON DELETE CASCADE,
    catalog_id          bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    component_key       bigint NOT NULL,
    tier                text NOT NULL CHECK (tier IN ('identical', 'same_picture', 'near_copy')),
    keeper_image_id     bigint NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    keeper_content_hash text NOT NULL,
    size                integer NOT NULL,
    is_suspicious       boolean NOT NULL DEFAULT false,
    has_unverified      boolean NOT NULL DEFAULT false
);
CREATE INDEX duplicate_groups_run_idx ON duplicate_groups (run_job_id, component_key);

CREATE TABLE duplicate_members (
    group_id        bigint NOT NULL REFERENCES duplicate_groups (id) ON DELETE CASCADE,
    image_id        bigint NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    content_hash    text NOT NULL,
    tier            text NOT NULL CHECK (tier IN ('identical', 'same_picture', 'near_copy')),
    match           text NOT NULL,
    similarity      real,
    phash_distance  integer,
    is_verified     boolean NOT NULL,
    reason          text NOT NULL,
    PRIMARY KEY (group_id, image_id)
);
CREATE INDEX duplicate_members_image_idx ON duplicate_members (image_id);

CREATE TABLE duplicate_decisions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    catalog_id      bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    decision        text NOT NULL CHECK (decision IN ('not_duplicate', 'keep')),
    content_hash_a  text NOT NULL,
    content_hash_b  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (catalog_id, decision, content_hash_a, content_hash_b)
);
