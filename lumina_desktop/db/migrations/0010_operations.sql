-- The operations journal: every file the app moves (to the trash, and back) is written here
-- before it moves, with where it goes, so an interrupted move is finished or undone from the
-- journal alone.  Trashed photos stay in the catalog, hidden from views, until undone.
CREATE TABLE operations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    catalog_id   bigint REFERENCES catalogs (id) ON DELETE SET NULL,
    kind         text NOT NULL DEFAULT 'trash' CHECK (kind IN ('trash')),
    description  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    undone_at    timestamptz
);

CREATE TABLE operation_items (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id   bigint NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
    photo_id       bigint REFERENCES photos (id) ON DELETE SET NULL,
    original_path  text NOT NULL,
    original_bytes bytea,
    trash_kind     text NOT NULL CHECK (trash_kind IN ('system', 'filesystem', 'app')),
    trash_path     text NOT NULL,
    trash_info     text,
    content_hash   text NOT NULL,
    size_bytes     bigint,
    state          text NOT NULL DEFAULT 'planned'
                   CHECK (state IN ('planned', 'trashed', 'restored', 'failed')),
    error          text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operation_items_op_idx ON operation_items (operation_id, id);
CREATE INDEX operation_items_photo_idx ON operation_items (photo_id);

ALTER TABLE photos ADD COLUMN trashed_at timestamptz;
CREATE INDEX photos_trashed_idx ON photos (catalog_id) WHERE trashed_at IS NOT NULL;
