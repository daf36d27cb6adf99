-- The change feed says what changed about the photos (added, removed, analysed, thumbnail,
-- quality, tags, burst, duplicates, folders), so a view re-reads only what it must.
-- A row with no photo ids means "photos of this catalog changed in these aspects, not itemised".
ALTER TABLE catalog_changes ADD COLUMN aspects text[] NOT NULL DEFAULT '{}';
