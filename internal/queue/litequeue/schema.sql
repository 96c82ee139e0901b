-- The table of maragu.dev/goqite v0.4.0 (schema_sqlite.sql), made idempotent
-- so that every process that opens the file may run it.
create table if not exists goqite (
  id text primary key default ('m_' || lower(hex(randomblob(16)))),
  created text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  updated text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  queue text not null,
  body blob not null,
  timeout text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  received integer not null default 0,
  priority integer not null default 0
) strict;

create trigger if not exists goqite_updated_timestamp after update on goqite begin
  update goqite set updated = strftime('%Y-%m-%dT%H:%M:%fZ') where id = old.id;
end;

create index if not exists goqite_queue_priority_created_idx on goqite (queue, priority desc, created);

-- Added by this package: dead-lettering looks for messages received at least
-- MaxReceives times; only messages received twice or more are indexed, so a
-- receive does not scan the whole backlog and the first receive of a message
-- costs no index update.
create index if not exists goqite_redelivered_idx on goqite (queue, timeout) where received >= 2;
