-- Culling flags: a photo's decision (best, pick, reject) and its stars (0-5) are the user's, by
-- content hash; either may be set without the other.
ALTER TABLE photo_decisions ALTER COLUMN decision DROP NOT NULL;
ALTER TABLE photo_decisions ADD COLUMN stars smallint CHECK (stars IS NULL OR stars BETWEEN 0 AND 5);
ALTER TABLE photo_decisions ADD CONSTRAINT photo_decisions_not_empty CHECK (decision IS NOT NULL OR stars IS NOT NULL);
