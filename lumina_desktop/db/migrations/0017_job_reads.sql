-- What the incremental duplicates and bursts runs read of a large catalog (issue 17).
--
-- An incremental duplicates run reads every indexed photo's id, pHash and analysed_at
-- (db.duplicates.hash_arrays).  Two covering indexes make that read two index-only scans merged
-- by photo id instead of scans of both tables' heaps (a million photos: about 1 s instead of 2).
-- A rescan's read of the catalog (db.photos.known_files) takes the fingerprints' version from the
-- second one too, instead of from their heap (grey pictures: about 0.5 GB at a million photos).
CREATE INDEX photos_indexed_photo_idx ON photos (catalog_id, id) INCLUDE (analysed_at)
    WHERE status = 'ok' AND trashed_at IS NULL;
CREATE INDEX photo_fingerprints_phash_idx ON photo_fingerprints (photo_id) INCLUDE (phash, version);

-- An incremental bursts run reads the frames near the photos a scan changed by the capture-time
-- index, and the frames that share a burst id with those: by this index.
CREATE INDEX photos_burst_uuid_idx ON photos (catalog_id, burst_uuid) WHERE burst_uuid IS NOT NULL;
