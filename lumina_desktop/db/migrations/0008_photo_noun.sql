-- One noun for a photo: the code says "photo" (PhotoSummary, photo ids, PhotoStatus), and so
-- does the schema now.  images → photos, image_fingerprints → photo_fingerprints, every
-- image_id → photo_id, with their sequence, indexes and constraints.  Renames only: no row is
-- rewritten, ids and foreign keys stay as they are.
-- Not renamed: photos.image_data_hash (the hash of the picture data, apart from metadata, as
-- core.media.FileIdentity names it) and the media kind 'image' (a photo that is not RAW or video).

ALTER TABLE images RENAME TO photos;
ALTER SEQUENCE images_id_seq RENAME TO photos_id_seq;
ALTER TABLE image_fingerprints RENAME TO photo_fingerprints;
ALTER TABLE photo_fingerprints RENAME COLUMN image_id TO photo_id;
ALTER TABLE duplicate_groups RENAME COLUMN keeper_image_id TO keeper_photo_id;
ALTER TABLE duplicate_members RENAME COLUMN image_id TO photo_id;

ALTER INDEX images_catalog_capture_idx RENAME TO photos_catalog_capture_idx;
ALTER INDEX images_catalog_added_idx RENAME TO photos_catalog_added_idx;
ALTER INDEX images_catalog_name_idx RENAME TO photos_catalog_name_idx;
ALTER INDEX images_catalog_size_idx RENAME TO photos_catalog_size_idx;
ALTER INDEX images_folder_idx RENAME TO photos_folder_idx;
ALTER INDEX images_content_hash_idx RENAME TO photos_content_hash_idx;
ALTER INDEX images_image_data_hash_idx RENAME TO photos_image_data_hash_idx;
ALTER INDEX images_status_idx RENAME TO photos_status_idx;
ALTER INDEX image_fingerprints_content_idx RENAME TO photo_fingerprints_content_idx;
ALTER INDEX duplicate_members_image_idx RENAME TO duplicate_members_photo_idx;

-- Constraints (and the indexes of the primary and unique keys, renamed with them).  Listed from
-- the catalog rather than by name: PostgreSQL 18 also names NOT NULL constraints, older
-- servers do not, and a database may have been created by either.
DO $$
DECLARE
    c record;
    renamed text;
BEGIN
    FOR c IN
        SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conrelid <> 0 AND conname ~ 'image'
        ORDER BY conrelid::regclass::text, conname
    LOOP
        renamed := replace(regexp_replace(regexp_replace(c.conname, '^images_', 'photos_'),
                                          '^image_fingerprints_', 'photo_fingerprints_'),
                           'image_id', 'photo_id');
        IF renamed <> c.conname THEN
            EXECUTE format('ALTER TABLE %s RENAME CONSTRAINT %I TO %I', c.tbl, c.conname, renamed);
        END IF;
    END LOOP;
END
$$;
