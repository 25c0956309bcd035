-- A failure no later run can fix (a deal deleted in Agendor) is recorded as not
-- retryable, so the retry of failed deals leaves it alone.
alter table agendor_sync.deal_outcomes
    add column retryable boolean not null default true;
