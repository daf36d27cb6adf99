-- A duplicate group member that is an exact copy (same bytes: tier 'identical'; same pixels:
-- tier 'same_picture') of another member rather than of the keeper names that member's photo
-- here; NULL means a copy of the keeper.  No foreign key: a photo deleted from the catalog takes
-- its own member rows with it (photo_id cascades), and every load of the groups
-- (analysis.duplicates.apply_decisions) turns a copy whose file left the group into an
-- unverified near copy; a foreign key would also cost a scan of this table per deleted photo.
ALTER TABLE duplicate_members ADD COLUMN copy_of bigint;
