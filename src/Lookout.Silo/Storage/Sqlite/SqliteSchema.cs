// Numbered SQLite migrations. Times are Unix milliseconds, ids are lowercase UUID text (sorts like the bytes).
namespace Lookout.Silo.Storage.Sqlite;

/// <summary>The SQLite schema as an ordered list of migrations.</summary>
internal static class SqliteSchema
{
    public static readonly IReadOnlyList<(int Version, string Sql)> Migrations =
    [
        (1, """
            create table lookout_reports (
                app text not null,
                id text not null,
                received_at integer not null,
                batch_id text not null,
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
                age_ms integer not null,
                body text not null,
                primary key (app, received_at, id)
            );
            create index lookout_reports_app_id on lookout_reports (app, id desc);
            create index lookout_reports_id on lookout_reports (id);

            create table lookout_counts (
                app text not null,
                bucket integer not null,
                dimension text not null,
                value text not null,
                count integer not null,
                primary key (app, bucket, dimension, value)
            ) without rowid;
            create index lookout_counts_app_dimension on lookout_counts (app, dimension, bucket);

            create table lookout_apps (
                app text primary key,
                first_seen integer not null,
                last_seen integer not null,
                total integer not null,
                noise integer not null
            );

            create table lookout_batches (
                app text not null,
                batch_id text not null,
                committed_at integer not null,
                reports integer not null,
                primary key (app, batch_id)
            );
            """),
        (2, """
            alter table lookout_reports add column noise_dry_run text;
            """),
        (3, """
            create index lookout_reports_app_blocked_host on lookout_reports (app, blocked_host, id desc);
            create index lookout_reports_app_classification on lookout_reports (app, classification, id desc);
            create index lookout_reports_app_violated on lookout_reports (app, violated_directive, id desc);
            create index lookout_reports_app_report_host on lookout_reports (app, report_host, id desc);
            """),
        (4, """
            create table lookout_silos (
                silo_id text primary key,
                address text not null,
                started_at integer not null,
                last_heartbeat integer not null,
                status text not null
            );
            """),
        (5, """
            alter table lookout_reports add column truncated integer not null default 0;
            """),
        (6, """
            create table lookout_retention (
                name text primary key,
                before integer not null
            );
            create index lookout_batches_committed_at on lookout_batches (committed_at);
            """),
        (7, """
            -- Count deltas, appended by every commit and folded into lookout_counts in the background
            -- (reads add the ones not folded yet): appending to a table without indexes writes one page
            -- where upserting into lookout_counts' key wrote one per counter.
            create table lookout_count_deltas (
                app text not null,
                bucket integer not null,
                dimension text not null,
                value text not null,
                count integer not null
            );
            """),
        (8, """
            -- The data-protection key ring (session cookies), one XML element per key.
            create table lookout_keys (
                name text primary key,
                xml text not null
            );
            """),
        (9, """
            -- Lookout runs on Orleans (one silo, localhost clustering, on SQLite): the membership table goes.
            drop table lookout_silos;

            -- rebuild bumps this, so a live application grain knows its memory no longer matches storage.
            alter table lookout_apps add column rebuilds integer not null default 0;

            -- Orleans' ADO.NET grain storage reads its SQL from this table once, when it starts.
            create table OrleansQuery (
                QueryKey text not null primary key,
                QueryText text not null
            );

            -- Orleans' grain state, binary payloads only: one row per service, state name and grain id.
            create table OrleansStorage (
                GrainIdHash integer not null,
                GrainIdN0 integer not null,
                GrainIdN1 integer not null,
                GrainTypeHash integer not null,
                GrainTypeString text not null,
                GrainIdExtensionString text null,
                ServiceId text not null,
                PayloadBinary blob null,
                ModifiedOn text not null,
                Version integer null
            );
            create unique index OrleansStorage_grain on OrleansStorage
                (ServiceId, GrainTypeString, GrainIdHash, GrainIdN0, GrainIdN1, coalesce(GrainIdExtensionString, ''));

            insert into OrleansQuery (QueryKey, QueryText) values
            ('ReadFromStorageKey', '
                select PayloadBinary, Version from OrleansStorage where ServiceId = @ServiceId and GrainTypeString = @GrainTypeString and GrainIdHash = @GrainIdHash
                    and GrainIdN0 = @GrainIdN0 and GrainIdN1 = @GrainIdN1
                    and coalesce(GrainIdExtensionString, '''') = coalesce(@GrainIdExtensionString, '''')'),
            -- A first write inserts version 1; a later one updates only the version it read. A write with a
            -- stale version matches nothing and returns no version, which Orleans treats as a failed write.
            ('WriteToStorageKey', '
                insert into OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
                    GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
                values (@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString,
                    @ServiceId, @PayloadBinary, strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now''), 1)
                on conflict (ServiceId, GrainTypeString, GrainIdHash, GrainIdN0, GrainIdN1, coalesce(GrainIdExtensionString, ''''))
                do update set PayloadBinary = excluded.PayloadBinary, ModifiedOn = excluded.ModifiedOn, Version = Version + 1
                    where Version = @GrainStateVersion
                returning Version as NewGrainStateVersion'),
            ('ClearStorageKey', '
                update OrleansStorage set PayloadBinary = null, ModifiedOn = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now''), Version = Version + 1
                where ServiceId = @ServiceId and GrainTypeString = @GrainTypeString and GrainIdHash = @GrainIdHash
                    and GrainIdN0 = @GrainIdN0 and GrainIdN1 = @GrainIdN1
                    and coalesce(GrainIdExtensionString, '''') = coalesce(@GrainIdExtensionString, '''') and Version = @GrainStateVersion
                returning Version as NewGrainStateVersion');
            """),
        (10, """
            -- NEL's sampling rate per report: a report stands for 1/sampling_fraction requests.
            alter table lookout_reports add column sampling_fraction real;
            """),
        (11, """
            -- Problem groups (issue 15). Times are Unix milliseconds like everywhere in this schema.
            alter table lookout_reports add column group_id text;
            create table lookout_groups (
                app text not null,
                group_id text not null,
                type text not null,
                key text not null,
                title text not null,
                first_seen integer not null,
                last_seen integer not null,
                count integer not null,
                status text not null,
                status_at integer not null,
                regressed_at integer,
                primary key (app, group_id)
            );
            -- What each commit adds to its groups, folded into lookout_groups in the background like the count
            -- deltas. A new group's row carries its definition (type, key, title); others leave them empty.
            create table lookout_group_deltas (
                app text not null,
                group_id text not null,
                count integer not null,
                first integer not null,
                last integer not null,
                regressed integer,
                type text not null,
                key text not null,
                title text not null
            );
            -- Distinct pages and clients, browsers (tab-separated) and recent hours: estimates the grains save apart from the commit.
            create table lookout_group_sketches (
                app text not null,
                group_id text not null,
                pages blob not null,
                clients blob not null,
                browsers text not null,
                -- Reports per hour of the last 26 hours, (hour, count) pairs.
                hours blob not null,
                primary key (app, group_id)
            );

            create table lookout_webhooks (
                id text primary key,
                app text not null,
                url text not null,
                -- Alert kinds as ",new_group,spike," so that one instr() finds a kind.
                events text not null,
                format text not null,
                created_at integer not null
            );
            create index lookout_webhooks_app on lookout_webhooks (app);

            -- Alert events per webhook; kept after delivery so a duplicate still hits the unique key.
            create table lookout_webhook_outbox (
                seq integer primary key autoincrement,
                webhook_id text not null references lookout_webhooks (id) on delete cascade,
                event_id text not null,
                kind text not null,
                event text not null,
                queued_at integer not null,
                delivery_id text,
                unique (webhook_id, event_id)
            );

            create table lookout_webhook_deliveries (
                id text primary key,
                webhook_id text not null references lookout_webhooks (id) on delete cascade,
                url text not null,
                created_at integer not null,
                kinds text not null,
                events integer not null,
                payload text not null,
                status text not null,
                attempts integer not null,
                next_attempt_at integer not null,
                lease_until integer,
                status_code integer,
                error text,
                finished_at integer
            );
            create index lookout_webhook_deliveries_due on lookout_webhook_deliveries (next_attempt_at) where status = 'pending';
            create index lookout_webhook_deliveries_webhook on lookout_webhook_deliveries (webhook_id, created_at desc);

            create table lookout_salts (
                day text primary key,
                salt blob not null
            );
            """),
        (12, """
            -- Issue 14: the search indexes on the two low-cardinality columns cost every stored report two
            -- index insertions on the single writer and bought nothing the search benchmark could measure
            -- (docs/PERFORMANCE.md): a common value fills a page from the newest-first scan at once.
            drop index if exists lookout_reports_app_classification;
            drop index if exists lookout_reports_app_violated;
            """),
    ];
}
