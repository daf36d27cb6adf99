-- The camera filter at a million photos (issue 17): one camera's photos in date order, and how
-- many there are (of a kind), from one index instead of two passes over every row (its first
-- screen took 0.34 s).  The browse query compares make and model with "=" / "IS NULL", which an
-- index serves (IS NOT DISTINCT FROM is never served by one).
CREATE INDEX photos_browse_camera_idx ON photos (catalog_id, camera_make, camera_model, capture_time, id)
    INCLUDE (kind) WHERE trashed_at IS NULL;
