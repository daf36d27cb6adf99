-- Ingest: per-batch result counters, discovery statistics, richer image rows, fingerprints.

ALTER TABLE job_batches ADD COLUMN result jsonb;
ALTER TABLE jobs ADD COLUMN discovery jsonb;

ALTER TABLE images
    ADD COLUMN kind         text CHECK (kind IN ('image', 'raw', 'video')),
    ADD COLUMN duration_s   real,
    ADD COLUMN warnings     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN error_reason text,
    ADD COLUMN thumb_sizes  smallint[] NOT NULL DEFAULT '{}',
    ADD COLUMN analysed_at  timestamptz;

CREATE INDEX images_image_data_hash_idx ON images (catalog_id, image_data_hash);
CREATE INDEX images_catalog_name_idx ON images (catalog_id, file_name, id);
CREATE INDEX images_catalog_size_idx ON images (catalog_id, size_bytes, id);

-- Perceptual data from the one decode, so later jobs never decode again.
CREATE TABLE image_fingerprints (
    image_id     bigint PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    content_hash text NOT NULL,
    phash        bytea NOT NULL CHECK (length(phash) = 32),
    dhash        bytea NOT NULL CHECK (length(dhash) = 32),
    grey         bytea,
    grey_size    smallint,
    aspect       real
);
CREATE INDEX image_fingerprints_content_idx ON image_fingerprints (content_hash);
