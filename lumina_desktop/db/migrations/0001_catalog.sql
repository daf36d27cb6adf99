-- Catalogs, their folders and the images found in them.
-- Paths are stored as text for display/search; a path that is not valid UTF-8 on disk also
-- keeps its exact bytes in path_bytes (NULL otherwise), so nothing is lost.

CREATE TABLE catalogs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(btrim(name)) > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE UNIQUE INDEX catalogs_name_key ON catalogs (lower(name));

CREATE TABLE catalog_folders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    catalog_id  bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    path        text NOT NULL,
    path_bytes  bytea,
    added_at    timestamptz NOT NULL DEFAULT now(),
    last_scan_at timestamptz,
    UNIQUE (catalog_id, path)
);

CREATE TABLE images (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    catalog_id       bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    folder_id        bigint REFERENCES catalog_folders (id) ON DELETE SET NULL,
    path             text NOT NULL,
    path_bytes       bytea,
    file_name        text NOT NULL,
    size_bytes       bigint,
    mtime_ns         bigint,
    content_hash     text,
    image_data_hash  text,
    file_type        text,
    format           text,
    width            integer,
    height           integer,
    capture_time     timestamp(6),
    capture_offset_min smallint,
    date_source      text,
    date_confidence  text,
    camera_make      text,
    camera_model     text,
    body_serial      text,
    lens             text,
    iso              integer,
    aperture         real,
    shutter_s        double precision,
    focal_length_mm  real,
    gps_lat          double precision,
    gps_lon          double precision,
    gps_alt          real,
    orientation      smallint,
    rating           smallint,
    keywords         text[] NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'ok', 'error', 'missing')),
    error            text,
    added_at         timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (catalog_id, path)
);
CREATE INDEX images_catalog_capture_idx ON images (catalog_id, capture_time, id);
CREATE INDEX images_catalog_added_idx ON images (catalog_id, added_at DESC, id);
CREATE INDEX images_folder_idx ON images (folder_id);
CREATE INDEX images_content_hash_idx ON images (catalog_id, content_hash);
CREATE INDEX images_status_idx ON images (catalog_id, status) WHERE status <> 'ok';
