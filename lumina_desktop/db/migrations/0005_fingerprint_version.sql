-- Which analysis chain made each fingerprint (core.media.FINGERPRINT_VERSION): rows written
-- before this column existed came from chain 1; a rescan refreshes rows older than the code's.
ALTER TABLE image_fingerprints ADD COLUMN version smallint NOT NULL DEFAULT 1 CHECK (version >= 1);
