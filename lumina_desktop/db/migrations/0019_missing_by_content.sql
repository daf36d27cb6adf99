-- A scan at a million photos (issue 17): every new file is looked up among the catalog's missing
-- photos by content (a file that moved).  Planned on (catalog_id, status), as a catalog's
-- statistics can make it, the lookup read every missing row of the catalog for each batch of new
-- files: 50-90 ms a batch with 5,000 missing photos (a disconnected drive makes it far more).
-- Partial: only missing photos are in it, so it stays small whatever the catalog's size.
CREATE INDEX photos_missing_content_idx ON photos (catalog_id, content_hash) WHERE status = 'missing';
