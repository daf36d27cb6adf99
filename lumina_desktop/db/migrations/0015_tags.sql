-- Tags of photos, by content (issue 15): they survive rescans, moves and renames.  A tag is a
-- lower-case friendly word ('dog', 'golden retriever', 'beach', 'screenshot', 'people') with a
-- confidence 0-1 and its source: the classifier ('model'), a rule on pixels or EXIF
-- ('heuristic') or the user ('user').  The tags job replaces only its own rows ('model' and
-- 'heuristic'); a user's rows are never touched by it.  A user row with is_rejected says "not
-- this tag": it hides the job's tag of that name for that content, now and after every rerun.
CREATE TABLE photo_tags (
    catalog_id    bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    content_hash  text NOT NULL,
    tag           text NOT NULL CHECK (tag <> '' AND tag = lower(btrim(tag))),
    source        text NOT NULL CHECK (source IN ('model', 'heuristic', 'user')),
    confidence    real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    is_rejected   boolean NOT NULL DEFAULT false CHECK (source = 'user' OR NOT is_rejected),
    tagged_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (catalog_id, content_hash, tag, source)
);
CREATE INDEX photo_tags_tag_idx ON photo_tags (catalog_id, tag);

-- Which contents the tags job has looked at, and by which version of its model and rules, so a
-- photo without any tag is not looked at again.
CREATE TABLE photo_tagging (
    catalog_id    bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    content_hash  text NOT NULL,
    version       smallint NOT NULL,
    faces         smallint NOT NULL DEFAULT 0,
    tagged_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (catalog_id, content_hash)
);

-- Faces found by the tags job, for a later clustering step: boxes as fractions (0-1) of the
-- upright picture, the detector's confidence, and room for an embedding and a person.
CREATE TABLE photo_faces (
    catalog_id    bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    content_hash  text NOT NULL,
    face_no       smallint NOT NULL,
    x             real NOT NULL CHECK (x >= 0 AND x <= 1),
    y             real NOT NULL CHECK (y >= 0 AND y <= 1),
    w             real NOT NULL CHECK (w > 0 AND w <= 1),
    h             real NOT NULL CHECK (h > 0 AND h <= 1),
    confidence    real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    detector      text NOT NULL,
    embedding     bytea,
    person_id     bigint,
    PRIMARY KEY (catalog_id, content_hash, face_no)
);
