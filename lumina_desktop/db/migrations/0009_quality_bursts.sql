-- Quality scores from pixels, bursts with a best pick, and the user's culling decisions.
--
-- photos.quality is the overall score (0-100) copied from photo_quality, so the grid can sort and
-- filter by it with an index like the other sort keys; photo_quality holds the sub-scores, the
-- reason words and the raw measures, per photo, for the content hash they were measured on.
-- photos.burst_uuid is Apple's BurstUUID (or a maker's burst id) from the file.
ALTER TABLE photos ADD COLUMN quality real CHECK (quality IS NULL OR quality BETWEEN 0 AND 100);
ALTER TABLE photos ADD COLUMN burst_uuid text;
CREATE INDEX photos_catalog_quality_idx ON photos (catalog_id, quality, id);

CREATE TABLE photo_quality (
    photo_id          bigint PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    content_hash      text NOT NULL,
    version           smallint NOT NULL,
    overall           real NOT NULL,
    sharpness         real,
    subject_sharpness real,
    motion_blur       real,
    noise             real,
    exposure          real,
    contrast          real,
    blockiness        real,
    reasons           text[] NOT NULL DEFAULT '{}',
    measures          jsonb NOT NULL,
    source_px         integer,               -- long edge of the picture it was measured on
    scored_at         timestamptz NOT NULL DEFAULT now()
);

-- A burst: frames one camera took in quick succession.  Detection results only; what the user
-- decided lives in photo_decisions (by content hash), so re-detection never loses a decision.
CREATE TABLE bursts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    catalog_id    bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    camera        text NOT NULL,
    started_at    timestamp(6) NOT NULL,
    ended_at      timestamp(6) NOT NULL,
    size          integer NOT NULL CHECK (size >= 2),
    best_photo_id bigint REFERENCES photos (id) ON DELETE SET NULL,
    pick_reasons  text[] NOT NULL DEFAULT '{}',
    summary       jsonb NOT NULL DEFAULT '{}'::jsonb,
    job_id        bigint,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bursts_catalog_idx ON bursts (catalog_id, started_at, id);

CREATE TABLE burst_members (
    photo_id           bigint PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    burst_id           bigint NOT NULL REFERENCES bursts (id) ON DELETE CASCADE,
    position           integer NOT NULL,          -- 1.. in shooting order
    rank               integer,                   -- 1 = best; NULL until scored
    is_best            boolean NOT NULL DEFAULT false,
    reasons            text[] NOT NULL DEFAULT '{}',
    relative_sharpness real
);
CREATE INDEX burst_members_burst_idx ON burst_members (burst_id, position);

-- The user's culling decisions, by content: they survive rescans, moves and re-detection.
CREATE TABLE photo_decisions (
    catalog_id    bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    content_hash  text NOT NULL,
    decision      text NOT NULL CHECK (decision IN ('best', 'pick', 'reject')),
    decided_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (catalog_id, content_hash)
);
