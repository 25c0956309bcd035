-- The integration's own tables, in the schema agendor_sync. They never reference V2
-- tables by foreign key: the sync must not alter V2's schema.

create table agendor_sync.runs (
    id                 bigserial primary key,
    empresa_id         bigint      not null,
    since              timestamptz not null,
    started_at         timestamptz not null default now(),
    finished_at        timestamptz,
    status             text        not null default 'running'
        check (status in ('running', 'succeeded', 'partial', 'failed')),
    -- True once the deal stream was read to the end: only such runs move the watermark.
    stream_completed   boolean     not null default false,
    error              text,
    fetched            integer     not null default 0,
    created            integer     not null default 0,
    already_integrated integer     not null default 0,
    failed             integer     not null default 0,
    ignored            integer     not null default 0
);
create index runs_empresa_started_idx on agendor_sync.runs (empresa_id, started_at desc);

create table agendor_sync.deal_outcomes (
    id          bigserial primary key,
    run_id      bigint      not null references agendor_sync.runs (id),
    empresa_id  bigint      not null,
    -- Null only for a malformed deal whose id could not be read.
    deal_id     bigint,
    outcome     text        not null
        check (outcome in ('created', 'already_integrated', 'failed', 'ignored')),
    surgery_id  bigint,
    client      text        check (client in ('created', 'found')),
    error       text,
    warnings    jsonb       not null default '[]',
    recorded_at timestamptz not null default now()
);
create index deal_outcomes_run_idx on agendor_sync.deal_outcomes (run_id);
create index deal_outcomes_deal_idx
    on agendor_sync.deal_outcomes (empresa_id, deal_id, recorded_at desc);
