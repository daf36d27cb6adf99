-- The job engine: jobs, their batches, live progress, history that outlives pruning,
-- per-item errors, and the processes (app windows, CLI, headless workers) that run them.

CREATE TABLE job_workers (
    worker_id     text PRIMARY KEY,
    host          text NOT NULL,
    pid           integer NOT NULL,
    role          text NOT NULL,
    threads       integer NOT NULL DEFAULT 0,
    busy          integer NOT NULL DEFAULT 0,
    queued        integer NOT NULL DEFAULT 0,
    items_done    bigint NOT NULL DEFAULT 0,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at    timestamptz
);

CREATE TABLE jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    catalog_id       bigint REFERENCES catalogs (id) ON DELETE CASCADE,
    kind             text NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'running', 'succeeded', 'failed',
                                      'cancelling', 'cancelled', 'interrupted')),
    params           jsonb NOT NULL DEFAULT '{}'::jsonb,
    owner            text,
    heartbeat_at     timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    discovered       boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    error            text,
    result           jsonb
);
CREATE INDEX jobs_active_idx ON jobs (state) WHERE state IN ('pending', 'running', 'cancelling');
CREATE INDEX jobs_catalog_idx ON jobs (catalog_id, created_at DESC);

CREATE TABLE job_batches (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id        bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq           integer NOT NULL,
    items         jsonb NOT NULL,
    item_count    integer NOT NULL,
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts      integer NOT NULL DEFAULT 0,
    claimed_by    text,
    claimed_at    timestamptz,
    processed     integer NOT NULL DEFAULT 0,
    succeeded     integer NOT NULL DEFAULT 0,
    failed        integer NOT NULL DEFAULT 0,
    started_at    timestamptz,
    finished_at   timestamptz,
    duration_s    double precision,
    error         text,
    UNIQUE (job_id, seq)
);
CREATE INDEX job_batches_claim_idx ON job_batches (job_id, seq) WHERE state = 'pending';
CREATE INDEX job_batches_running_idx ON job_batches (claimed_by) WHERE state = 'running';

CREATE TABLE job_progress (
    job_id      bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    phase       text NOT NULL DEFAULT '',
    done        bigint NOT NULL DEFAULT 0,
    total       bigint NOT NULL DEFAULT 0,
    fraction    double precision NOT NULL DEFAULT 0 CHECK (fraction >= 0 AND fraction <= 1),
    message     text NOT NULL DEFAULT '',
    rate        double precision,
    eta_s       double precision,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per finished job; no foreign key, so it survives pruning of jobs and batches.
CREATE TABLE job_history (
    job_id       bigint PRIMARY KEY,
    catalog_id   bigint,
    kind         text NOT NULL,
    state        text NOT NULL,
    params       jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    started_at   timestamptz,
    finished_at  timestamptz NOT NULL,
    duration_s   double precision,
    items_total  bigint NOT NULL DEFAULT 0,
    items_failed bigint NOT NULL DEFAULT 0,
    error        text,
    result       jsonb
);
CREATE INDEX job_history_kind_idx ON job_history (kind, finished_at DESC);

CREATE TABLE job_item_errors (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    batch_id     bigint REFERENCES job_batches (id) ON DELETE SET NULL,
    item         text NOT NULL,
    error_class  text NOT NULL,
    message      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_id, item)
);
