-- Farm's cluster state in PostgreSQL (Farm:Cluster:Provider=postgres): membership, grain state and reminders for
-- Orleans' ADO.NET providers (Microsoft.Orleans.{Clustering,Persistence,Reminders}.AdoNet, invariant "Npgsql").
--
-- Those providers issue no SQL of their own: at start-up they read named queries from the table OrleansQuery
-- (QueryKey, QueryText) and later run them with named parameters (@DeploymentId, @GrainStateVersion, ...), reading
-- the results by column name. Orleans' NuGet packages do not ship a schema, so Farm keeps this one, written for
-- those query keys, parameters and result columns. Orleans' own PostgreSQL scripts work with Farm's silos too;
-- scripts/postgres-schema.sh leaves a database that already has them alone.
--
-- Idempotent: tables are created when missing and every query is (re)written, so applying it again after a Farm
-- upgrade updates the queries and keeps the data. Apply with scripts/postgres-schema.sh (one transaction).
--
-- Conventions: parameters that may be NULL are CAST so PostgreSQL knows their type; a query that Orleans reads as
-- a yes/no answer returns one row with the number of rows it changed; versions (ETags) are integers that grow by
-- one per change, and a change whose expected version no longer matches changes nothing.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) PRIMARY KEY,
    QueryText text NOT NULL
);

-- Membership: one version row per cluster (Orleans' DeploymentId = Farm:Cluster:ClusterId), bumped by every change
-- of a silo's row so that concurrent changes are detected, and one row per silo incarnation.
CREATE TABLE IF NOT EXISTS farm_membership_version
(
    deployment_id text PRIMARY KEY,
    version       integer NOT NULL DEFAULT 0,
    changed_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS farm_membership
(
    deployment_id   text NOT NULL REFERENCES farm_membership_version (deployment_id) ON DELETE CASCADE,
    address         text NOT NULL,
    port            integer NOT NULL,
    generation      integer NOT NULL,
    silo_name       text NOT NULL,
    host_name       text NOT NULL,
    status          integer NOT NULL,
    proxy_port      integer NOT NULL,
    suspect_times   text NULL,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Grain state: one row per grain of a service (Farm:Cluster:ServiceId), keyed by the grain type and the grain
-- id's parts (the hashes Orleans also passes are not needed: the key itself is indexed). A cleared state keeps
-- its row with no payload, so its version keeps growing.
CREATE TABLE IF NOT EXISTS farm_grain_state
(
    service_id         text NOT NULL,
    grain_type         text NOT NULL,
    grain_id_n0        bigint NOT NULL,
    grain_id_n1        bigint NOT NULL,
    grain_id_extension text NOT NULL,
    payload            bytea NULL,
    version            integer NOT NULL,
    modified_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension)
);

-- Reminders of a service; grain_hash (the grain's uniform hash as a signed integer) lets each silo read the rows
-- of its own range of the hash ring.
CREATE TABLE IF NOT EXISTS farm_reminders
(
    service_id    text NOT NULL,
    grain_id      text NOT NULL,
    reminder_name text NOT NULL,
    start_time    timestamptz NOT NULL,
    period        bigint NOT NULL,
    grain_hash    integer NOT NULL,
    version       integer NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

CREATE INDEX IF NOT EXISTS farm_reminders_by_hash ON farm_reminders (service_id, grain_hash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Clustering ------------------------------------------------------------------------------------------------------

('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO farm_membership_version (deployment_id) VALUES (@DeploymentId)
        ON CONFLICT (deployment_id) DO NOTHING
        RETURNING 1)
    SELECT count(*) FROM created
$q$),

-- @Version is the table version the silo read; the row goes in only if it is still current and the silo's row is new.
('InsertMembershipKey', $q$
    WITH bumped AS (
        UPDATE farm_membership_version
        SET version = version + 1, changed_at = now()
        WHERE deployment_id = @DeploymentId AND version = @Version
          AND NOT EXISTS (
              SELECT 1 FROM farm_membership
              WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
        RETURNING deployment_id),
    inserted AS (
        INSERT INTO farm_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                     proxy_port, start_time, i_am_alive_time)
        SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
               @ProxyPort, @StartTime, @IAmAliveTime
        FROM bumped
        RETURNING 1)
    SELECT count(*) FROM inserted
$q$),

('UpdateMembershipKey', $q$
    WITH bumped AS (
        UPDATE farm_membership_version
        SET version = version + 1, changed_at = now()
        WHERE deployment_id = @DeploymentId AND version = @Version
          AND EXISTS (
              SELECT 1 FROM farm_membership
              WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
        RETURNING deployment_id),
    updated AS (
        UPDATE farm_membership AS m
        SET status = @Status, suspect_times = CAST(@SuspectTimes AS text), i_am_alive_time = @IAmAliveTime
        FROM bumped
        WHERE m.deployment_id = bumped.deployment_id
          AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
        RETURNING 1)
    SELECT count(*) FROM updated
$q$),

-- A heartbeat: no version change (Orleans expects it never to conflict).
('UpdateIAmAlivetimeKey', $q$
    UPDATE farm_membership
    SET i_am_alive_time = @IAmAliveTime
    WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

-- The version row always comes back (even with no silos): Orleans takes the table version from the first row.
('MembershipReadRowKey', $q$
    SELECT m.address AS "Address", m.port AS "Port", m.generation AS "Generation", m.silo_name AS "SiloName",
           m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
           m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime",
           v.version AS "Version"
    FROM farm_membership_version AS v
    LEFT JOIN farm_membership AS m
           ON m.deployment_id = v.deployment_id
          AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    WHERE v.deployment_id = @DeploymentId
$q$),

('MembershipReadAllKey', $q$
    SELECT m.address AS "Address", m.port AS "Port", m.generation AS "Generation", m.silo_name AS "SiloName",
           m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
           m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime",
           v.version AS "Version"
    FROM farm_membership_version AS v
    LEFT JOIN farm_membership AS m ON m.deployment_id = v.deployment_id
    WHERE v.deployment_id = @DeploymentId
$q$),

-- The silo rows go with their version row (ON DELETE CASCADE).
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM farm_membership_version WHERE deployment_id = @DeploymentId
$q$),

-- What a client connects to: active silos' gateways.
('GatewaysQueryKey', $q$
    SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
    FROM farm_membership
    WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),

-- Rows of silos not heard from since @IAmAliveTime, unless still marked active (3 = SiloStatus.Active).
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM farm_membership
    WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3
$q$),

-- Grain state -----------------------------------------------------------------------------------------------------

('ReadFromStorageKey', $q$
    SELECT payload AS "PayloadBinary", version AS "Version"
    FROM farm_grain_state
    WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension = COALESCE(CAST(@GrainIdExtensionString AS text), '')
$q$),

-- No expected version: the first write of a grain, which inserts version 1 unless a row exists. Otherwise an
-- update of the row holding exactly that version. No row back means a conflict (another activation wrote first).
('WriteToStorageKey', $q$
    WITH updated AS (
        UPDATE farm_grain_state
        SET payload = @PayloadBinary, version = version + 1, modified_at = now()
        WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
          AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND grain_id_extension = COALESCE(CAST(@GrainIdExtensionString AS text), '')
          AND version = CAST(@GrainStateVersion AS integer)
        RETURNING version),
    inserted AS (
        INSERT INTO farm_grain_state (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension, payload, version)
        SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
               COALESCE(CAST(@GrainIdExtensionString AS text), ''), @PayloadBinary, 1
        WHERE CAST(@GrainStateVersion AS integer) IS NULL
        ON CONFLICT DO NOTHING
        RETURNING version)
    SELECT version AS "NewGrainStateVersion" FROM updated
    UNION ALL
    SELECT version FROM inserted
$q$),

('ClearStorageKey', $q$
    UPDATE farm_grain_state
    SET payload = NULL, version = version + 1, modified_at = now()
    WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension = COALESCE(CAST(@GrainIdExtensionString AS text), '')
      AND version = CAST(@GrainStateVersion AS integer)
    RETURNING version AS "NewGrainStateVersion"
$q$),

-- For DeleteStateOnClear: Orleans expects the deleted row's version + 1 back.
('DeleteStorageKey', $q$
    DELETE FROM farm_grain_state
    WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension = COALESCE(CAST(@GrainIdExtensionString AS text), '')
      AND version = CAST(@GrainStateVersion AS integer)
    RETURNING version + 1 AS "NewGrainStateVersion"
$q$),

-- Reminders -------------------------------------------------------------------------------------------------------

('UpsertReminderRowKey', $q$
    INSERT INTO farm_reminders AS r (service_id, grain_id, reminder_name, start_time, period, grain_hash, version)
    VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, CAST(@Period AS bigint), @GrainHash, 0)
    ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
    SET start_time = excluded.start_time, period = excluded.period, grain_hash = excluded.grain_hash,
        version = r.version + 1
    RETURNING r.version AS "Version"
$q$),

('ReadReminderRowsKey', $q$
    SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
           period AS "Period", version AS "Version"
    FROM farm_reminders
    WHERE service_id = @ServiceId AND grain_id = @GrainId
$q$),

('ReadReminderRowKey', $q$
    SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
           period AS "Period", version AS "Version"
    FROM farm_reminders
    WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
$q$),

-- A silo's range of the hash ring, (BeginHash, EndHash]; Orleans picks this query when the range does not wrap...
('ReadRangeRows1Key', $q$
    SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
           period AS "Period", version AS "Version"
    FROM farm_reminders
    WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
$q$),

-- ...and this one when it wraps past the largest hash.
('ReadRangeRows2Key', $q$
    SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
           period AS "Period", version AS "Version"
    FROM farm_reminders
    WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
$q$),

('DeleteReminderRowKey', $q$
    WITH deleted AS (
        DELETE FROM farm_reminders
        WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
          AND version = @Version
        RETURNING 1)
    SELECT count(*) FROM deleted
$q$),

('DeleteReminderRowsKey', $q$
    DELETE FROM farm_reminders WHERE service_id = @ServiceId
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
