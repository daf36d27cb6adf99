-- Where the catalog's thumbnail store lives (one row per database).  Every process that writes or
-- reads thumbnails of this database uses this folder, so a worker started with its own data
-- folder (another machine with a shared mount, another user) writes where the owner's window
-- reads.  The process that owns the embedded server records its own folder at start; a process
-- that connects to the database by URL uses the recorded one (or records its own if none is).
CREATE TABLE thumbnail_store (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    path        text NOT NULL,
    host        text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT now()
);
