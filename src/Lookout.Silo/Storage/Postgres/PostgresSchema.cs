// Numbered PostgreSQL migrations. Never edit a shipped one: add the next number.
namespace Lookout.Silo.Storage.Postgres;

/// <summary>The PostgreSQL schema as an ordered list of migrations.</summary>
internal static class PostgresSchema
{
    /// <summary>Advisory lock key that serializes migrations across silos starting together.</summary>
    public const long MigrationLockKey = 0x4C6F6F6B6F7574; // "Lookout"

    public static readonly IReadOnlyList<(int Version, string Sql)> Migrations =
    [
        (1, """
            -- Raw events. The primary key leads with app (sharding) and holds received_at (the future
            -- time-partition key must be part of it).
            create table lookout_reports (
                app text not null,
                id uuid not null,
                received_at timestamptz not null,
                batch_id uuid not null,
                type text not null,
                url text,
                report_host text,
                path text,
                referrer text,
                blocked_url text,
                blocked_host text,
                effective_directive text,
                violated_directive text,
                disposition text not null,
                classification text,
                noise_reason text,
                status_code integer,
                source_file text,
                line_number integer,
                column_number integer,
                sample text,
                user_agent text,
                browser text,
                browser_major text,
                os text,
                env text,
                release text,
                age_ms bigint not null,
                body jsonb not null,
                primary key (app, received_at, id)
            );
            -- Newest-first listing: ids are UUIDv7, so id order is receipt order.
            create index lookout_reports_app_id on lookout_reports (app, id desc);
            create index lookout_reports_id on lookout_reports (id);

            create table lookout_counts (
                app text not null,
                bucket timestamptz not null,
                dimension text not null,
                value text not null,
                count bigint not null,
                primary key (app, bucket, dimension, value)
            );
            create index lookout_counts_app_dimension on lookout_counts (app, dimension, bucket);

            create table lookout_apps (
                app text primary key,
                first_seen timestamptz not null,
                last_seen timestamptz not null,
                total bigint not null,
                noise bigint not null
            );

            -- One row per committed flush: a retried commit of the same batch hits the key and is a no-op.
            create table lookout_batches (
                app text not null,
                batch_id uuid not null,
                committed_at timestamptz not null,
                reports integer not null,
                primary key (app, batch_id)
            );
            """),
        (2, """
            -- A noise rule in dry-run mode records what it would have dropped.
            alter table lookout_reports add column noise_dry_run text;
            """),
        (3, """
            -- Search pages filter by these within an application, newest first.
            create index lookout_reports_app_blocked_host on lookout_reports (app, blocked_host, id desc);
            create index lookout_reports_app_classification on lookout_reports (app, classification, id desc);
            create index lookout_reports_app_violated on lookout_reports (app, violated_directive, id desc);
            create index lookout_reports_app_report_host on lookout_reports (app, report_host, id desc);
            """),
        (4, """
            -- Cluster membership: every silo registers, heartbeats, and marks silos that stopped heartbeating dead.
            create table lookout_silos (
                silo_id uuid primary key,
                address text not null,
                started_at timestamptz not null,
                last_heartbeat timestamptz not null,
                status text not null
            );
            """),
        (5, """
            -- Fields longer than their limit are cut, and the report says so.
            alter table lookout_reports add column truncated boolean not null default false;
            """),
        (6, """
            -- Raw events partitioned by day of receipt, so retention drops whole partitions. The existing
            -- table becomes the partition for everything up to the end of today (one scan to attach);
            -- daily partitions after it are created ahead of time by the silos.
            alter table lookout_reports rename to lookout_reports_legacy;
            alter table lookout_reports_legacy rename constraint lookout_reports_pkey to lookout_reports_legacy_pkey;
            alter index lookout_reports_app_id rename to lookout_reports_legacy_app_id;
            alter index lookout_reports_id rename to lookout_reports_legacy_id;
            alter index lookout_reports_app_blocked_host rename to lookout_reports_legacy_app_blocked_host;
            alter index lookout_reports_app_classification rename to lookout_reports_legacy_app_classification;
            alter index lookout_reports_app_violated rename to lookout_reports_legacy_app_violated;
            alter index lookout_reports_app_report_host rename to lookout_reports_legacy_app_report_host;
            create table lookout_reports (like lookout_reports_legacy including defaults) partition by range (received_at);
            alter table lookout_reports add primary key (app, received_at, id);
            create index lookout_reports_app_id on lookout_reports (app, id desc);
            create index lookout_reports_id on lookout_reports (id);
            create index lookout_reports_app_blocked_host on lookout_reports (app, blocked_host, id desc);
            create index lookout_reports_app_classification on lookout_reports (app, classification, id desc);
            create index lookout_reports_app_violated on lookout_reports (app, violated_directive, id desc);
            create index lookout_reports_app_report_host on lookout_reports (app, report_host, id desc);
            do $$
            declare upper_bound timestamptz;
            begin
                if exists (select 1 from lookout_reports_legacy) then
                    select date_trunc('day', greatest(max(received_at), now()) at time zone 'UTC') at time zone 'UTC' + interval '1 day'
                        into upper_bound from lookout_reports_legacy;
                    execute format('alter table lookout_reports attach partition lookout_reports_legacy for values from (minvalue) to (%L)', upper_bound);
                else
                    drop table lookout_reports_legacy;
                end if;
            end $$;
            create index lookout_batches_committed_at on lookout_batches (committed_at);

            -- Where retention cut the raw events: counts of older hours have no events behind them any
            -- more, so rebuild keeps them.
            create table lookout_retention (
                name text primary key,
                before timestamptz not null
            );
            """),
        (7, """
            -- Count deltas, appended by every commit in the same transaction as its raw events and folded
            -- into lookout_counts in the background (reads add the ones not folded yet). One row holds one
            -- application's deltas of one commit as parallel arrays: a commit then locks no counter row and
            -- writes one narrow row per application instead of an upsert per counter, and a fold merges a
            -- second's worth into one upsert per counter.
            create table lookout_count_deltas (
                app text not null,
                buckets timestamptz[] not null,
                dimensions text[] not null,
                "values" text[] not null,
                counts bigint[] not null
            );
            """),
        (8, """
            -- The data-protection key ring (session cookies), one XML element per key, shared by every silo.
            create table lookout_keys (
                name text primary key,
                xml text not null
            );
            """),
        (9, """
            -- Lookout runs on Orleans: its membership protocol and table go, Orleans' own take their place.
            drop table lookout_silos;

            -- rebuild bumps this, so a live application grain knows its memory no longer matches storage.
            alter table lookout_apps add column rebuilds bigint not null default 0;

            -- Orleans' ADO.NET providers read their SQL from this table once, when they start.
            create table OrleansQuery (
                QueryKey varchar(64) not null primary key,
                QueryText varchar(8000) not null
            );

            -- Orleans' cluster membership (Microsoft.Orleans.Clustering.AdoNet): one version row per
            -- cluster (DeploymentId = ClusterId), bumped by every membership change, and one row per silo.
            create table OrleansMembershipVersionTable (
                DeploymentId varchar(150) not null primary key,
                Timestamp timestamptz(3) not null default now(),
                Version integer not null default 0
            );
            create table OrleansMembershipTable (
                DeploymentId varchar(150) not null references OrleansMembershipVersionTable (DeploymentId),
                Address varchar(45) not null,
                Port integer not null,
                Generation integer not null,
                SiloName varchar(150) not null,
                HostName varchar(150) not null,
                Status integer not null,
                ProxyPort integer null,
                SuspectTimes varchar(8000) null,
                StartTime timestamptz(3) not null,
                IAmAliveTime timestamptz(3) not null,
                primary key (DeploymentId, Address, Port, Generation)
            );

            -- Orleans' grain state (Microsoft.Orleans.Persistence.AdoNet), binary payloads only. One row per
            -- service, state name and grain id; the unique index lets a first write insert exactly once.
            create table OrleansStorage (
                GrainIdHash integer not null,
                GrainIdN0 bigint not null,
                GrainIdN1 bigint not null,
                GrainTypeHash integer not null,
                GrainTypeString varchar(512) not null,
                GrainIdExtensionString varchar(512) null,
                ServiceId varchar(150) not null,
                PayloadBinary bytea null,
                ModifiedOn timestamptz not null,
                Version integer null
            );
            create unique index OrleansStorage_grain on OrleansStorage
                (ServiceId, GrainTypeString, GrainIdHash, GrainIdN0, GrainIdN1, coalesce(GrainIdExtensionString, ''));

            insert into OrleansQuery (QueryKey, QueryText) values
            ('UpdateIAmAlivetimeKey', '
                update OrleansMembershipTable set IAmAliveTime = @IAmAliveTime
                where DeploymentId = @DeploymentId and Address = @Address and Port = @Port and Generation = @Generation'),
            -- 1 when this call created the cluster''s version row, 0 when it existed.
            ('InsertMembershipVersionKey', '
                with inserted as (
                    insert into OrleansMembershipVersionTable (DeploymentId) values (@DeploymentId)
                    on conflict (DeploymentId) do nothing returning 1)
                select count(*)::integer from inserted'),
            -- The version row is bumped first, guarded by the expected version: a concurrent change waits
            -- on its lock, finds the version moved and inserts nothing. 1 on success, else 0.
            ('InsertMembershipKey', '
                with version as (
                    update OrleansMembershipVersionTable set Timestamp = now(), Version = Version + 1
                    where DeploymentId = @DeploymentId and Version = @Version
                    returning DeploymentId),
                inserted as (
                    insert into OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status,
                        ProxyPort, StartTime, IAmAliveTime)
                    select DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
                    from version
                    on conflict do nothing
                    returning 1)
                select count(*)::integer from inserted'),
            ('UpdateMembershipKey', '
                with version as (
                    update OrleansMembershipVersionTable set Timestamp = now(), Version = Version + 1
                    where DeploymentId = @DeploymentId and Version = @Version
                    returning DeploymentId),
                updated as (
                    update OrleansMembershipTable m set Status = @Status, SuspectTimes = @SuspectTimes, IAmAliveTime = @IAmAliveTime
                    from version v
                    where m.DeploymentId = v.DeploymentId and m.Address = @Address and m.Port = @Port and m.Generation = @Generation
                    returning 1)
                select count(*)::integer from updated'),
            -- The version row comes back even when the silo has no row yet (Address is then null).
            ('MembershipReadRowKey', '
                select v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
                    m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
                from OrleansMembershipVersionTable v
                left join OrleansMembershipTable m on m.DeploymentId = v.DeploymentId
                    and m.Address = @Address and m.Port = @Port and m.Generation = @Generation
                where v.DeploymentId = @DeploymentId'),
            ('MembershipReadAllKey', '
                select v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
                    m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
                from OrleansMembershipVersionTable v
                left join OrleansMembershipTable m on m.DeploymentId = v.DeploymentId
                where v.DeploymentId = @DeploymentId'),
            ('DeleteMembershipTableEntriesKey', '
                delete from OrleansMembershipTable where DeploymentId = @DeploymentId;
                delete from OrleansMembershipVersionTable where DeploymentId = @DeploymentId'),
            ('GatewaysQueryKey', '
                select Address, ProxyPort, Generation from OrleansMembershipTable
                where DeploymentId = @DeploymentId and Status = @Status and ProxyPort > 0'),
            -- Rows of silos declared dead (status 6) that stopped heartbeating before the cut-off.
            ('CleanupDefunctSiloEntriesKey', '
                delete from OrleansMembershipTable
                where DeploymentId = @DeploymentId and IAmAliveTime < @IAmAliveTime and Status = 6'),
            ('ReadFromStorageKey', '
                select PayloadBinary, now(), Version from OrleansStorage
                where ServiceId = @ServiceId and GrainTypeString = @GrainTypeString and GrainIdHash = @GrainIdHash
                    and GrainIdN0 = @GrainIdN0 and GrainIdN1 = @GrainIdN1
                    and coalesce(GrainIdExtensionString, ) = coalesce(@GrainIdExtensionString::varchar, )'),
            -- First write (no version read): insert at version 1 unless a row exists. Later writes: update
            -- when the stored version is the one read. Anything else returns the old version, which Orleans
            -- reports as an inconsistent state.
            ('WriteToStorageKey', '
                with updated as (
                    update OrleansStorage set PayloadBinary = @PayloadBinary, ModifiedOn = now(), Version = Version + 1
                    where @GrainStateVersion::integer is not null and ServiceId = @ServiceId and GrainTypeString = @GrainTypeString
                        and GrainIdHash = @GrainIdHash and GrainIdN0 = @GrainIdN0 and GrainIdN1 = @GrainIdN1
                        and coalesce(GrainIdExtensionString, ) = coalesce(@GrainIdExtensionString::varchar, )
                        and Version = @GrainStateVersion::integer
                    returning Version),
                inserted as (
                    insert into OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
                        GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
                    select @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString::varchar,
                        @ServiceId, @PayloadBinary, now(), 1
                    where @GrainStateVersion::integer is null
                    on conflict do nothing
                    returning Version)
                select coalesce((select Version from updated), (select Version from inserted), @GrainStateVersion::integer) as NewGrainStateVersion'),
            ('ClearStorageKey', '
                update OrleansStorage set PayloadBinary = null, ModifiedOn = now(), Version = Version + 1
                where ServiceId = @ServiceId and GrainTypeString = @GrainTypeString and GrainIdHash = @GrainIdHash
                    and GrainIdN0 = @GrainIdN0 and GrainIdN1 = @GrainIdN1
                    and coalesce(GrainIdExtensionString, ) = coalesce(@GrainIdExtensionString::varchar, )
                    and Version = @GrainStateVersion::integer
                returning Version as NewGrainStateVersion');
            """),
        (10, """
            -- NEL's sampling rate per report: a report stands for 1/sampling_fraction requests.
            alter table lookout_reports add column sampling_fraction double precision;
            """),
        (11, """
            -- Problem groups (issue 15). Every stored non-noise report names its group; the groups are the
            -- grains' projection, written in the same transaction as the reports.
            alter table lookout_reports add column group_id text;
            create table lookout_groups (
                app text not null,
                group_id text not null,
                type text not null,
                key json not null,
                title text not null,
                first_seen timestamptz not null,
                last_seen timestamptz not null,
                count bigint not null,
                status text not null,
                status_at timestamptz not null,
                regressed_at timestamptz,
                primary key (app, group_id)
            );
            -- What each commit adds to its groups, one row per application and commit as parallel arrays, folded
            -- into lookout_groups in the background like the count deltas: a commit appends one narrow row
            -- instead of updating a row per group, and a fold merges a second's worth into one upsert per group.
            -- New groups carry their definition (type, key, title) in the new_* arrays.
            create table lookout_group_deltas (
                app text not null,
                ids text[] not null,
                counts bigint[] not null,
                firsts timestamptz[] not null,
                lasts timestamptz[] not null,
                regressed timestamptz[] not null,
                new_ids text[] not null,
                new_types text[] not null,
                new_keys text[] not null,
                new_titles text[] not null
            );
            -- Distinct pages and clients (exact hashes or HyperLogLog registers), browsers and recent hours:
            -- estimates the grains save every few minutes, apart from the commit; no value can be read back from them.
            create table lookout_group_sketches (
                app text not null,
                group_id text not null,
                pages bytea not null,
                clients bytea not null,
                browsers text[] not null,
                -- Reports per hour of the last 26 hours, (hour, count) pairs: the sparkline and the spike baseline.
                hours bytea not null,
                primary key (app, group_id)
            );

            create table lookout_webhooks (
                id uuid primary key,
                app text not null,
                url text not null,
                events text[] not null,
                format text not null,
                created_at timestamptz not null
            );
            create index lookout_webhooks_app on lookout_webhooks (app);

            -- Alert events per webhook, inserted by the commit that raised them. The unique key stores an
            -- event once per webhook whoever raises it again; rows stay after delivery so that a late
            -- duplicate still hits the key.
            create table lookout_webhook_outbox (
                seq bigint generated always as identity primary key,
                webhook_id uuid not null references lookout_webhooks (id) on delete cascade,
                event_id text not null,
                kind text not null,
                event jsonb not null,
                queued_at timestamptz not null,
                delivery_id uuid,
                unique (webhook_id, event_id)
            );
            create index lookout_webhook_outbox_queued on lookout_webhook_outbox (webhook_id, seq) where delivery_id is null;

            create table lookout_webhook_deliveries (
                id uuid primary key,
                webhook_id uuid not null references lookout_webhooks (id) on delete cascade,
                url text not null,
                created_at timestamptz not null,
                kinds text[] not null,
                events integer not null,
                payload text not null,
                status text not null,
                attempts integer not null,
                next_attempt_at timestamptz not null,
                lease_until timestamptz,
                status_code integer,
                error text,
                finished_at timestamptz
            );
            create index lookout_webhook_deliveries_due on lookout_webhook_deliveries (next_attempt_at) where status = 'pending';
            create index lookout_webhook_deliveries_webhook on lookout_webhook_deliveries (webhook_id, created_at desc);

            -- One random salt per day for the distinct-clients sketches; old days are deleted.
            create table lookout_salts (
                day date primary key,
                salt bytea not null
            );
            """),
        (12, """
            -- Issue 14: the search indexes on the two low-cardinality columns cost every stored report two
            -- index insertions (about 25 µs of PostgreSQL CPU each on the benchmark VM, docs/PERFORMANCE.md round 6) and bought
            -- nothing bench/search.sh could measure over 1 000 000 reports of one application: a value that
            -- is common fills a page from the newest-first scan at once, a rare one is still found within
            -- tens of milliseconds, and combined queries are narrowed by the host indexes. Dropping the
            -- partitioned index drops its partitions' indexes, the pre-partitioning table's included.
            drop index if exists lookout_reports_app_classification;
            drop index if exists lookout_reports_app_violated;
            drop index if exists lookout_reports_legacy_app_classification;
            drop index if exists lookout_reports_legacy_app_violated;
            """),
    ];
}
