using System.Globalization;
using IncidentOps.Redis;
using IncidentOps.Engine.Config;
using StackExchange.Redis;

namespace IncidentOps.Engine.Redis;

/// <summary>
/// The Redis runbook steps of seeds 002/003 (redis-cli ping, info memory, info keyspace, FLUSHDB) and the
/// questions that follow them (clients, evictions, slow log, replication). One short-lived connection per
/// endpoint and call: a triage tool must not keep sockets to a struggling server.
/// </summary>
/// <param name="references">Resolves env:, file: and secret: references in the service's redis URL.</param>
/// <param name="tunnels">The tunnels this invocation holds open (port-forwards to a cluster's Redis).</param>
/// <param name="sink">Where progress, warnings and verbose text go.</param>
public sealed class RedisService(ReferenceResolver references, Tunnels.TunnelLeases tunnels, IOperationSink sink)
{
    /// <summary>Share of maxmemory above which Get-RedisInfo warns.</summary>
    public const double MemoryWarningPercent = 85.0;

    private IOperationSink Sink => sink;

    /// <summary>Turns a request (connection string, configured service, credential) into connection settings.</summary>
    public async Task<RedisConnectionSettings> ResolveAsync(RedisConnectionRequest request, CancellationToken cancellationToken)
    {
        string text;
        if (!string.IsNullOrWhiteSpace(request.ConnectionString)) text = request.ConnectionString;
        else if (request.Service is { } service)
        {
            if (service.Redis is null)
                throw new IncidentOpsException(RedisErrorIds.RedisNotConfigured, IncidentOpsErrorCategory.ObjectNotFound,
                    $"The service {service.FullName} has no redis setting in {service.Location?.File ?? "the configuration"}. Add 'redis: env:REDIS_URL' to it, or pass -ConnectionString.")
                { TargetObject = service.FullName };
            // Parse registers the password it finds; the host:port itself is not a secret and must stay visible.
            text = await references.ResolveAsync(service.Redis, cancellationToken).ConfigureAwait(false);
        }
        else if (System.Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 } fromEnv)
        {
            // The seeds export REDIS_URL; honour it like redis-cli -u "$REDIS_URL" would.
            Sink.Verbose("Using the Redis named by $env:REDIS_URL.");
            text = fromEnv;
        }
        else
            throw new IncidentOpsException(RedisErrorIds.RedisTargetMissing, IncidentOpsErrorCategory.InvalidArgument,
                "No Redis was named. Pass -ConnectionString (host:port or redis://user:password@host:port/db), -Service, pipe a service from Get-IncidentOpsService, or set $env:REDIS_URL.");
        var settings = RedisConnectionSettings.Parse(text);
        if (request.Credential is { } c) settings = settings.WithCredential(c.UserName, c.Password);
        if (await TrustAsync(request, cancellationToken).ConfigureAwait(false) is { } trust)
        {
            if (settings.Ssl) settings = settings.WithTrust(trust);
            else Sink.Verbose($"{trust.Source} is not used: the connection is not TLS (use rediss:// for TLS).");
        }
        // redis.tunnel: noted for -WhatIf and the timeline; OpenAsync connects through it.
        TunnelFor(request, settings.Endpoints[0]);
        return settings;
    }

    /// <summary>
    /// What TLS trusts beyond the system's roots: -SkipCertificateCheck, -CaCertificate (a file), or the service's
    /// redis.caCertificate (a file relative to the configuration, or PEM text through env:/file:/secret:).
    /// </summary>
    private async Task<TlsTrust?> TrustAsync(RedisConnectionRequest request, CancellationToken cancellationToken)
    {
        if (request.SkipCertificateCheck) return TlsTrust.SkipCheck();
        if (!string.IsNullOrWhiteSpace(request.CaCertificate)) return TlsTrust.FromCa(request.CaCertificate, $"-CaCertificate {request.CaCertificate}", RedisErrorIds.RedisCaCertificateInvalid, CaSigned);
        if (!string.IsNullOrWhiteSpace(request.ConnectionString) || request.Service is not { RedisCaCertificate: { } ca } service) return null;
        return await TlsTrust.FromConfigAsync(references, ca, service.Location?.File, $"redis.caCertificate of {service.FullName}", RedisErrorIds.RedisCaCertificateInvalid, CaSigned, cancellationToken).ConfigureAwait(false);
    }

    private const string CaSigned = "the Redis server's certificate (for a managed Redis, the provider's 'CA certificate' download)";

    /// <summary>The service's redis.tunnel to an endpoint, when the request reaches Redis through the service's configured connection.</summary>
    private Tunnels.TunnelSpec? TunnelFor(RedisConnectionRequest request, (string Host, int Port) ep) =>
        string.IsNullOrWhiteSpace(request.ConnectionString) && request.Service is { RedisTunnel: { } tunnel } service
            ? new Tunnels.TunnelRouter(tunnels, Sink).Resolve(tunnel, service, ep.Host, ep.Port)
            : null;

    private async Task<RedisEndpointConnection> OpenAsync(RedisConnectionSettings s, (string Host, int Port) ep, RedisConnectionRequest request, bool admin, CancellationToken ct)
    {
        Sink.Verbose($"Connecting to {RedisConnectionSettings.FormatEndpoint(ep.Host, ep.Port)}{(s.Ssl ? " over TLS" : "")} (timeout {request.Timeout.TotalSeconds:0.#} s{(admin ? ", admin commands allowed" : "")}).");
        if (TunnelFor(request, ep) is { } tunnel)
        {
            var (host, port) = await new Tunnels.TunnelRouter(tunnels, Sink).RouteAsync(tunnel, request.Timeout, ct).ConfigureAwait(false);
            // TLS through the tunnel still checks the certificate against the configured host name.
            if (s.Ssl)
            {
                var options = s.Options?.Clone() ?? new ConfigurationOptions();
                if (string.IsNullOrEmpty(options.SslHost)) options.SslHost = ep.Host;
                s = new RedisConnectionSettings { Endpoints = s.Endpoints, User = s.User, Password = s.Password, Ssl = s.Ssl, Database = s.Database, Options = options, Trust = s.Trust };
            }
            return Warned(await RedisEndpointConnection.OpenAsync(s, host, port, request.Timeout, admin, ct, RedisConnectionSettings.FormatEndpoint(ep.Host, ep.Port)).ConfigureAwait(false));
        }
        return Warned(await RedisEndpointConnection.OpenAsync(s, ep.Host, ep.Port, request.Timeout, admin, ct).ConfigureAwait(false));
    }

    /// <summary>Warns, as redis-cli does ("AUTH failed: ..."), when the server refused the password but the connection works without one.</summary>
    private RedisEndpointConnection Warned(RedisEndpointConnection conn)
    {
        if (conn.PasswordRefused is { } answer)
            Sink.Warning($"Redis at {conn.Endpoint} refused the password given ({answer}) but needs none: the commands run as its default user. Remove the password from the URL (or -Credential), or check that this is the server you meant.");
        return conn;
    }

    // ------------------------------------------------------------------ Test-RedisConnection

    /// <summary>PINGs every endpoint <paramref name="count"/> times. An unreachable endpoint is a result with a Reason.</summary>
    public async Task<IReadOnlyList<RedisConnectionTest>> TestAsync(RedisConnectionRequest request, int count, CancellationToken cancellationToken)
    {
        if (count < 1) throw new IncidentOpsException(RedisErrorIds.RedisCountInvalid, IncidentOpsErrorCategory.InvalidArgument, $"-Count {count} is not valid: send at least one PING.");
        var settings = await ResolveAsync(request, cancellationToken).ConfigureAwait(false);
        var results = new List<RedisConnectionTest>();
        foreach (var ep in settings.Endpoints)
            results.Add(await TestEndpointAsync(settings, ep, request, count, cancellationToken).ConfigureAwait(false));
        return results;
    }

    private async Task<RedisConnectionTest> TestEndpointAsync(RedisConnectionSettings s, (string Host, int Port) ep, RedisConnectionRequest request, int count, CancellationToken ct)
    {
        var endpoint = RedisConnectionSettings.FormatEndpoint(ep.Host, ep.Port);
        var service = request.Service?.FullName;
        RedisEndpointConnection conn;
        try { conn = await OpenAsync(s, ep, request, admin: false, ct).ConfigureAwait(false); }
        catch (RedisUnavailableException ex)
        {
            Sink.Verbose(ex.Detail is null ? $"{endpoint}: {ex.Reason}" : $"{endpoint}: {ex.Reason}; the client library said: {ex.Detail}");
            return new RedisConnectionTest { Endpoint = endpoint, Service = service, Tls = s.Ssl, Count = count, Reachable = false, Reason = ex.Reason, Detail = ex.Detail };
        }
        await using (conn.ConfigureAwait(false))
        {
            var samples = new List<double>(count);
            string? reason = null;
            for (var i = 0; i < count; i++)
            {
                try { samples.Add((await conn.PingAsync(ct).ConfigureAwait(false)).TotalMilliseconds); }
                catch (IncidentOpsException ex) { reason = ex.Message; }
            }
            var stats = LatencyStats(samples);
            var role = conn.Server.ServerType == ServerType.Sentinel ? "sentinel" : conn.Server.IsReplica ? "replica" : "master";
            return new RedisConnectionTest
            {
                Endpoint = endpoint, Service = service, Tls = s.Ssl, Count = count, Answered = samples.Count,
                Reachable = samples.Count > 0, Reason = samples.Count == count ? (conn.PasswordRefused is null ? null : RedisEndpointConnection.PasswordNotNeeded) : reason,
                Detail = conn.PasswordRefused,
                LatencyMinMs = stats?.Min, LatencyP50Ms = stats?.P50, LatencyMaxMs = stats?.Max,
                Role = role, Version = conn.Server.Version?.ToString(),
            };
        }
    }

    /// <summary>Min, median and max of the samples (milliseconds, rounded to microseconds); null when there are none.</summary>
    public static (double Min, double P50, double Max)? LatencyStats(IReadOnlyList<double> samples)
    {
        if (samples.Count == 0) return null;
        var sorted = samples.Order().ToArray();
        var mid = sorted.Length / 2;
        var p50 = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return (Math.Round(sorted[0], 3), Math.Round(p50, 3), Math.Round(sorted[^1], 3));
    }

    // ------------------------------------------------------------------ Get-RedisInfo

    /// <summary>Reads INFO and returns one typed object per section (one per database for keyspace).</summary>
    public async Task<IReadOnlyList<RedisInfo>> GetInfoAsync(RedisConnectionRequest request, IReadOnlyCollection<RedisInfoSection> sections, CancellationToken cancellationToken)
    {
        var settings = await ResolveAsync(request, cancellationToken).ConfigureAwait(false);
        var wanted = sections.Count == 0 || sections.Contains(RedisInfoSection.All)
            ? [RedisInfoSection.Server, RedisInfoSection.Clients, RedisInfoSection.Memory, RedisInfoSection.Persistence, RedisInfoSection.Stats, RedisInfoSection.Replication, RedisInfoSection.Keyspace]
            : sections.Distinct().ToArray();
        var results = new List<RedisInfo>();
        foreach (var ep in settings.Endpoints)
        {
            var conn = await OpenAsync(settings, ep, request, admin: true, cancellationToken).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                // One round trip: a single section by name, otherwise "all" (memory also needs evicted_keys from stats).
                var raw = wanted.Length == 1 && wanted[0] != RedisInfoSection.Memory
                    ? await conn.InfoRawAsync(wanted[0].ToString().ToLowerInvariant(), cancellationToken).ConfigureAwait(false)
                    : await conn.InfoRawAsync("all", cancellationToken).ConfigureAwait(false);
                var parsed = ParseInfo(raw);
                foreach (var section in wanted)
                    results.AddRange(BuildSection(conn.Endpoint, section, parsed));
            }
        }
        foreach (var m in results.OfType<RedisMemoryInfo>())
            if (m.UsedPercentOfMax is > MemoryWarningPercent)
                Sink.Warning($"Redis {m.Endpoint} uses {m.UsedPercentOfMax:0.#}% of maxmemory ({m.UsedMemoryHuman} of {m.MaxMemoryHuman}, policy {m.EvictionPolicy}, {m.EvictedKeys} keys evicted so far).");
        return results;
    }

    /// <summary>Parses INFO text ("# Section" headers, then name:value lines) into section → fields.</summary>
    public static Dictionary<string, Dictionary<string, string>> ParseInfo(string raw)
    {
        var result = new Dictionary<string, Dictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        var current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        result[""] = current;
        foreach (var line in raw.Split('\n'))
        {
            var l = line.TrimEnd('\r');
            if (l.Length == 0) continue;
            if (l.StartsWith('#'))
            {
                current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                result[l.TrimStart('#').Trim()] = current;
                continue;
            }
            var colon = l.IndexOf(':');
            if (colon > 0) current[l[..colon]] = l[(colon + 1)..];
        }
        return result;
    }

    private static IEnumerable<RedisInfo> BuildSection(string endpoint, RedisInfoSection section, Dictionary<string, Dictionary<string, string>> info)
    {
        var f = info.TryGetValue(section.ToString(), out var d) ? d : new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var stats = info.TryGetValue("Stats", out var st) ? st : null;
        string? S(string k) => f.TryGetValue(k, out var v) ? v : null;
        long? L(string k) => f.TryGetValue(k, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
        double? D(string k) => f.TryGetValue(k, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;
        bool? B(string k) => L(k) is { } n ? n != 0 : null;
        switch (section)
        {
            case RedisInfoSection.Server:
                yield return new RedisServerInfo
                {
                    Endpoint = endpoint, Fields = f, Version = S("redis_version"), Mode = S("redis_mode"), OS = S("os"), ProcessId = L("process_id"),
                    TcpPort = (int?)L("tcp_port"), UptimeSeconds = L("uptime_in_seconds"), ConfigFile = S("config_file"),
                };
                break;
            case RedisInfoSection.Clients:
                yield return new RedisClientsInfo
                {
                    Endpoint = endpoint, Fields = f, ConnectedClients = L("connected_clients"), BlockedClients = L("blocked_clients"), MaxClients = L("maxclients"),
                    TrackingClients = L("tracking_clients"), ClientRecentMaxInputBuffer = L("client_recent_max_input_buffer"), ClientRecentMaxOutputBuffer = L("client_recent_max_output_buffer"),
                };
                break;
            case RedisInfoSection.Memory:
                var max = L("maxmemory");
                long? evicted = stats is not null && stats.TryGetValue("evicted_keys", out var ev) && long.TryParse(ev, CultureInfo.InvariantCulture, out var evn) ? evn : null;
                yield return new RedisMemoryInfo
                {
                    Endpoint = endpoint, Fields = f, UsedMemory = L("used_memory"), UsedMemoryHuman = S("used_memory_human"), UsedMemoryRss = L("used_memory_rss"),
                    UsedMemoryRssHuman = S("used_memory_rss_human") ?? (L("used_memory_rss") is { } rss ? RedisInfo.FormatBytes(rss) : null),
                    UsedMemoryPeak = L("used_memory_peak"), UsedMemoryPeakHuman = S("used_memory_peak_human"),
                    MaxMemory = max, MaxMemoryHuman = S("maxmemory_human") ?? (max is { } m ? RedisInfo.FormatBytes(m) : null),
                    EvictionPolicy = S("maxmemory_policy"), FragmentationRatio = D("mem_fragmentation_ratio"), EvictedKeys = evicted,
                };
                break;
            case RedisInfoSection.Persistence:
                yield return new RedisPersistenceInfo
                {
                    Endpoint = endpoint, Fields = f, Loading = B("loading"), ChangesSinceLastSave = L("rdb_changes_since_last_save"), BgSaveInProgress = B("rdb_bgsave_in_progress"),
                    LastSaveTime = L("rdb_last_save_time") is { } t ? DateTimeOffset.FromUnixTimeSeconds(t) : null, LastBgSaveStatus = S("rdb_last_bgsave_status"),
                    AofEnabled = B("aof_enabled"), AofRewriteInProgress = B("aof_rewrite_in_progress"), LastAofWriteStatus = S("aof_last_write_status"),
                };
                break;
            case RedisInfoSection.Stats:
                yield return new RedisStatsInfo
                {
                    Endpoint = endpoint, Fields = f, TotalConnectionsReceived = L("total_connections_received"), TotalCommandsProcessed = L("total_commands_processed"),
                    InstantaneousOpsPerSec = D("instantaneous_ops_per_sec"), RejectedConnections = L("rejected_connections"), ExpiredKeys = L("expired_keys"),
                    EvictedKeys = L("evicted_keys"), KeyspaceHits = L("keyspace_hits"), KeyspaceMisses = L("keyspace_misses"),
                };
                break;
            case RedisInfoSection.Replication:
                yield return new RedisReplicationInfo
                {
                    Endpoint = endpoint, Fields = f, Role = S("role"), ConnectedReplicas = L("connected_slaves"),
                    Replicas = f.Where(kv => kv.Key.StartsWith("slave", StringComparison.Ordinal) && int.TryParse(kv.Key[5..], out _)).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value).ToArray(),
                    MasterHost = S("master_host"), MasterPort = (int?)L("master_port"), MasterLinkStatus = S("master_link_status"),
                    MasterLastIoSecondsAgo = L("master_last_io_seconds_ago"), MasterReplOffset = L("master_repl_offset"),
                };
                break;
            case RedisInfoSection.Keyspace:
                // INFO keyspace lists only databases that hold keys; an empty server lists none, and no row at all read as
                // "nothing came back". One row says it: no keys in any database.
                if (!f.Keys.Any(k => ParseDb(k) is not null))
                {
                    yield return new RedisKeyspaceInfo { Endpoint = endpoint, Fields = f, Database = 0, Empty = true };
                    break;
                }
                foreach (var (key, value) in f.OrderBy(kv => ParseDb(kv.Key) ?? int.MaxValue))
                {
                    if (ParseDb(key) is not { } db) continue;
                    var parts = value.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
                        .ToDictionary(p => p[0], p => long.TryParse(p[1], CultureInfo.InvariantCulture, out var n) ? n : 0);
                    yield return new RedisKeyspaceInfo
                    {
                        Endpoint = endpoint, Fields = new Dictionary<string, string> { [key] = value }, Database = db,
                        Keys = parts.GetValueOrDefault("keys"), Expires = parts.GetValueOrDefault("expires"), AvgTtlMs = parts.GetValueOrDefault("avg_ttl"),
                    };
                }
                break;
        }
    }

    private static int? ParseDb(string key) =>
        key.StartsWith("db", StringComparison.Ordinal) && int.TryParse(key.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    // ------------------------------------------------------------------ slow log and clients

    /// <summary>SLOWLOG GET count on every endpoint, newest first.</summary>
    public async Task<IReadOnlyList<RedisSlowLogEntry>> GetSlowLogAsync(RedisConnectionRequest request, int count, CancellationToken cancellationToken)
    {
        var settings = await ResolveAsync(request, cancellationToken).ConfigureAwait(false);
        var results = new List<RedisSlowLogEntry>();
        foreach (var ep in settings.Endpoints)
        {
            var conn = await OpenAsync(settings, ep, request, admin: true, cancellationToken).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                var entries = await conn.RunAsync($"SLOWLOG GET {count}", s => s.SlowlogGetAsync(count), cancellationToken).ConfigureAwait(false);
                results.AddRange(entries.Select(e => new RedisSlowLogEntry
                {
                    Endpoint = conn.Endpoint, Id = e.UniqueId, Time = new DateTimeOffset(DateTime.SpecifyKind(e.Time, DateTimeKind.Utc)),
                    Duration = e.Duration, Arguments = RedactSlowLogArguments(e.Arguments.Select(a => a.ToString())),
                }));
            }
        }
        return results;
    }

    /// <summary>
    /// A slow log entry's arguments with every credential masked. Redis 7 redacts AUTH, HELLO, MIGRATE and ACL SETUSER
    /// itself, older servers (and some managed ones) do not: ACL SETUSER's password rules (&gt;pw, &lt;pw, #hash, !hash)
    /// and MIGRATE's AUTH2 user password are masked here; AUTH, requirepass and masterauth by the shared redactor.
    /// </summary>
    public static string[] RedactSlowLogArguments(IEnumerable<string?> arguments)
    {
        var list = arguments.Select(a => a ?? "").ToArray();
        var aclSetUser = list.Length > 1 && list[0].Equals("ACL", StringComparison.OrdinalIgnoreCase) && list[1].Equals("SETUSER", StringComparison.OrdinalIgnoreCase);
        var masked = new bool[list.Length];
        for (var i = 0; i < list.Length; i++)
        {
            if (aclSetUser && i > 2 && list[i].Length > 0 && list[i][0] is '>' or '<' or '#' or '!') masked[i] = true;
            if (list[i].Equals("AUTH2", StringComparison.OrdinalIgnoreCase))
                for (var j = i + 1; j < list.Length; j++) masked[j] = true;
        }
        var redacted = SecretRedactor.RedactArguments(list);
        for (var i = 0; i < redacted.Length; i++)
            if (masked[i]) redacted[i] = aclSetUser ? list[i][0] + SecretRedactor.Mask : SecretRedactor.Mask;
        return redacted;
    }

    /// <summary>CLIENT LIST on every endpoint.</summary>
    public async Task<IReadOnlyList<RedisClient>> GetClientsAsync(RedisConnectionRequest request, CancellationToken cancellationToken)
    {
        var settings = await ResolveAsync(request, cancellationToken).ConfigureAwait(false);
        var results = new List<RedisClient>();
        foreach (var ep in settings.Endpoints)
        {
            var conn = await OpenAsync(settings, ep, request, admin: true, cancellationToken).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                var clients = await conn.RunAsync("CLIENT LIST", s => s.ClientListAsync(), cancellationToken).ConfigureAwait(false);
                results.AddRange(clients.Select(c => new RedisClient
                {
                    Endpoint = conn.Endpoint, Id = c.Id, Address = c.Address?.ToString(), Name = string.IsNullOrEmpty(c.Name) ? null : c.Name, Database = c.Database,
                    Age = TimeSpan.FromSeconds(c.AgeSeconds), Idle = TimeSpan.FromSeconds(c.IdleSeconds), LastCommand = c.LastCommand,
                    Flags = c.FlagsRaw, LibraryName = c.LibraryName,
                }));
            }
        }
        return results;
    }

    // ------------------------------------------------------------------ Clear-RedisDatabase

    /// <summary>What a flush would do: the endpoint, the database and how many keys it holds now (for -WhatIf and the prompt).</summary>
    public sealed record FlushPlan(string Endpoint, int? Database, bool AllDatabases, bool Async, string Command, long Keys)
    {
        /// <summary>The connection the plan was made on: the flush goes there, not to whatever the service's reference names by then.</summary>
        internal RedisConnectionSettings? Settings { get; init; }

        public string Describe() => $"{Command} on {Endpoint}{(AllDatabases ? " (every database)" : $" db {Database}")} would remove {Keys} key{(Keys == 1 ? "" : "s")}";
    }

    /// <summary>Counts the keys a flush would remove; changes nothing.</summary>
    public async Task<FlushPlan> PlanFlushAsync(RedisConnectionRequest request, int? database, bool allDatabases, bool async, CancellationToken cancellationToken)
    {
        var settings = await ResolveAsync(request, cancellationToken).ConfigureAwait(false);
        var ep = PrimaryEndpoint(settings);
        var db = allDatabases ? (int?)null : database ?? settings.Database ?? 0;
        var conn = await OpenAsync(settings, ep, request, admin: true, cancellationToken).ConfigureAwait(false);
        await using (conn.ConfigureAwait(false))
        {
            // -WhatIf and the prompt must not offer a flush that would be refused, or that would only half happen.
            await EnsureWholeFlushAsync(conn, cancellationToken).ConfigureAwait(false);
            var keys = await CountKeysAsync(conn, db, cancellationToken).ConfigureAwait(false);
            return new FlushPlan(conn.Endpoint, db, allDatabases, async, FlushCommand(allDatabases, async), keys) { Settings = settings };
        }
    }

    /// <summary>Runs FLUSHDB (or FLUSHALL with allDatabases) and reports the key count before and after.</summary>
    public async Task<RedisFlushResult> FlushAsync(RedisConnectionRequest request, int? database, bool allDatabases, bool async, CancellationToken cancellationToken)
    {
        var settings = await ResolveAsync(request, cancellationToken).ConfigureAwait(false);
        return await FlushAsync(settings, request, allDatabases ? null : database ?? settings.Database ?? 0, allDatabases, async, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the flush a plan described (after -WhatIf's or the prompt's confirmation) on the connection the plan resolved:
    /// the service's redis reference (a file: or secret: that a failover rewrote meanwhile) is not read a second time, so
    /// the flush goes to the server and database the person confirmed. <paramref name="attempt"/> (optional) tells the
    /// caller, even after it stopped waiting (Ctrl+C), whether the flush command was handed to the server yet.
    /// </summary>
    public async Task<RedisFlushResult> FlushAsync(FlushPlan plan, RedisConnectionRequest request, CancellationToken cancellationToken, FlushAttempt? attempt = null)
    {
        var settings = plan.Settings ?? await ResolveAsync(request, cancellationToken).ConfigureAwait(false);
        return await FlushAsync(settings, request, plan.Database, plan.AllDatabases, plan.Async, cancellationToken, attempt).ConfigureAwait(false);
    }

    private async Task<RedisFlushResult> FlushAsync(RedisConnectionSettings settings, RedisConnectionRequest request, int? db, bool allDatabases, bool async, CancellationToken cancellationToken,
        FlushAttempt? attempt = null)
    {
        var ep = PrimaryEndpoint(settings);
        var conn = await OpenAsync(settings, ep, request, admin: true, cancellationToken).ConfigureAwait(false);
        await using (conn.ConfigureAwait(false))
        {
            await EnsureWholeFlushAsync(conn, cancellationToken).ConfigureAwait(false);
            var before = await CountKeysAsync(conn, db, cancellationToken).ConfigureAwait(false);
            var command = FlushCommand(allDatabases, async);
            object[] args = async ? ["ASYNC"] : [];
            var sent = new SentFlush(conn.Endpoint, command, db, allDatabases, async, before);
            // Up to here nothing was flushed: a stop (Ctrl+C, the deadline) before this line is a plain failure. A caller that
            // already told the user so (it gave up waiting and abandoned the attempt) must not see the flush sent after all.
            cancellationToken.ThrowIfCancellationRequested();
            if (attempt is not null && !attempt.TryMarkSent(sent)) throw new OperationCanceledException(cancellationToken);
            // From here on the command may reach the server and run there whatever becomes of its answer.
            Sink.Verbose($"Sending {command}{(db is { } n ? $" to db {n}" : "")} on {conn.Endpoint} ({before} keys).");
            // Once sent, the flush runs on the server whether or not its answer arrives in time: end the wait just before
            // the command's deadline so that an answer that does not come is reported as unconfirmed, not as a failure.
            var wait = OperationDeadline.Cap(request.Timeout, OperationDeadline.Margin);
            try
            {
                if (allDatabases)
                    await conn.RunAsync(command, s => s.ExecuteAsync("FLUSHALL", args).WaitAsync(wait), cancellationToken).ConfigureAwait(false);
                else
                    await conn.RunAsync(command, s => s.ExecuteAsync(db, "FLUSHDB", args, CommandFlags.None).WaitAsync(wait), cancellationToken).ConfigureAwait(false);
            }
            catch (IncidentOpsException ex) when (ex.ErrorId == RedisErrorIds.RedisTimeout)
            {
                throw sent.Unconfirmed($"did not answer within {wait.TotalSeconds:0.#} s of -TimeoutSec {request.Timeout.TotalSeconds:0.#}", ex, slow: true);
            }
            catch (IncidentOpsException ex) when (ex.ErrorId == RedisErrorIds.RedisConnectionFailed && !NeverSent(ex))
            {
                // The connection broke with the command on its way or on the server: it may have run to the end there.
                throw sent.Unconfirmed($"the connection was lost before its answer came ({ConnectionDetail(ex)})", ex, slow: false);
            }
            attempt?.MarkAnswered();
            // The server answered OK: the flush happened. Failing to count what is left must not turn it into a failure.
            long? after;
            try { after = await CountKeysAsync(conn, db, cancellationToken).ConfigureAwait(false); }
            catch (IncidentOpsException ex)
            {
                Sink.Warning($"{command} on {conn.Endpoint} was done (the server answered OK), but the keys left could not be counted afterwards: {ex.Message}");
                after = null;
            }
            return new RedisFlushResult { Endpoint = conn.Endpoint, Database = db, AllDatabases = allDatabases, Async = async, Command = command, KeysBefore = before, KeysAfter = after };
        }
    }

    /// <summary>
    /// True when the client refused to send the command at all because it had no connection (StackExchange.Redis fails
    /// such a command before writing it): then nothing reached the server.
    /// </summary>
    private static bool NeverSent(IncidentOpsException ex) =>
        ex.InnerException is RedisConnectionException { FailureType: ConnectionFailureType.UnableToResolvePhysicalConnection };

    private static string ConnectionDetail(IncidentOpsException ex) =>
        ex.InnerException is RedisConnectionException rce ? SecretRedactor.Redact($"{rce.FailureType}") : "connection error";

    /// <summary>
    /// What is known of one flush while it runs, readable from another thread: the cmdlet stops waiting for the engine at
    /// Ctrl+C, and then asks whether the command had already been handed to the server (its outcome is then unknown) or
    /// not (nothing was flushed), or had even been answered (it was done).
    /// </summary>
    public sealed class FlushAttempt
    {
        private const int Pending = 0, Abandoned = 1, SentState = 2, AnsweredState = 3;
        private int _state;
        private SentFlush? _sent;

        /// <summary>The flush command was handed to the server (null: it was not, so nothing was flushed).</summary>
        public SentFlush? Sent => Volatile.Read(ref _state) >= SentState ? Volatile.Read(ref _sent) : null;

        /// <summary>The server answered the flush command OK: it was done.</summary>
        public bool Answered => Volatile.Read(ref _state) == AnsweredState;

        /// <summary>
        /// The caller stops waiting (Ctrl+C, its deadline): when the command was not sent yet, it never will be (returns
        /// null: nothing was flushed, for certain); otherwise returns what was sent.
        /// </summary>
        public SentFlush? Abandon() =>
            Interlocked.CompareExchange(ref _state, Abandoned, Pending) == Pending ? null : Volatile.Read(ref _sent);

        /// <summary>Marks the command as about to be sent; false when the caller abandoned the attempt first (then it must not be sent).</summary>
        internal bool TryMarkSent(SentFlush sent)
        {
            Volatile.Write(ref _sent, sent);
            return Interlocked.CompareExchange(ref _state, SentState, Pending) == Pending;
        }

        internal void MarkAnswered() => Interlocked.CompareExchange(ref _state, AnsweredState, SentState);
    }

    /// <summary>A flush command that was handed to the server: where, which, and how many keys were there before.</summary>
    public sealed record SentFlush(string Endpoint, string Command, int? Database, bool AllDatabases, bool Async, long KeysBefore)
    {
        /// <summary>The result of a flush the server answered OK, when the keys left were not counted afterwards.</summary>
        public RedisFlushResult Done() =>
            new() { Endpoint = Endpoint, Database = Database, AllDatabases = AllDatabases, Async = Async, Command = Command, KeysBefore = KeysBefore, KeysAfter = null };

        /// <summary>What a flush the server answered OK did, for the timeline: the keys before, and the keys left when counted.</summary>
        public static string Summary(RedisFlushResult r) =>
            $"{r.Command}: {r.KeysBefore} keys before, {(r.KeysAfter is { } after ? $"{after} after" : "the keys left were not counted")}";

        /// <summary>
        /// The flush was sent and no answer came (<paramref name="why"/>: what ended the wait): it may still complete on the
        /// server, so it is neither success nor failure (RedisFlushUnconfirmed), and the message says how to check.
        /// </summary>
        public IncidentOpsException Unconfirmed(string why, Exception? inner, bool slow = false)
        {
            var scope = Database is { } n ? $"db {n}" : "every database";
            var check = Database is { } m
                ? $"Check the key count before acting again: Get-RedisInfo Keyspace ({Endpoint} db{m} gone or 0 keys means it completed), or redis-cli -n {m} DBSIZE"
                : "Check the key count before acting again: Get-RedisInfo Keyspace (no database left means it completed), or redis-cli INFO keyspace";
            return new IncidentOpsException(RedisErrorIds.RedisFlushUnconfirmed, IncidentOpsErrorCategory.ResourceBusy,
                $"{Command} was sent to {Endpoint} ({scope}, {KeysBefore} key{(KeysBefore == 1 ? "" : "s")} before) but {why}. " +
                $"It may still complete on the server{(slow ? " (freeing a large keyspace takes a while)" : "")}: it is neither confirmed nor undone. {check}. " +
                "If keys remain once the server answers again, run Clear-RedisDatabase again" + (slow ? " with a larger -TimeoutSec, or with -Async." : "."), inner)
            { TargetObject = Endpoint };
        }
    }

    /// <summary>
    /// Refuses a flush that cannot do what it says: on a replica (read-only), or on one master of a Redis Cluster with
    /// several, where FLUSHDB/FLUSHALL empty only the slots of that node and report 0 keys left while the other masters
    /// keep theirs (a half-flushed cache that looks flushed).
    /// </summary>
    private static async Task EnsureWholeFlushAsync(RedisEndpointConnection conn, CancellationToken ct)
    {
        if (conn.Server.IsReplica)
            throw new IncidentOpsException(RedisErrorIds.RedisIsReplica, IncidentOpsErrorCategory.InvalidOperation,
                $"{conn.Endpoint} is a read-only replica: flush its master instead.") { TargetObject = conn.Endpoint };
        if (conn.Server.ServerType != ServerType.Cluster) return;
        var nodes = await conn.RunAsync("CLUSTER NODES", s => s.ClusterNodesAsync(), ct).ConfigureAwait(false);
        var masters = nodes?.Nodes.Where(n => !n.IsReplica && n.Slots.Count > 0).ToList() ?? [];
        if (masters.Count <= 1) return;
        var others = masters.Where(n => !n.IsMyself).Select(n => n.EndPoint?.ToString() ?? n.NodeId).ToList();
        throw new IncidentOpsException(RedisErrorIds.RedisClusterFlushPartial, IncidentOpsErrorCategory.InvalidOperation,
            $"{conn.Endpoint} is one of {masters.Count} masters of a Redis Cluster: a flush there would remove only the keys of its own slots and leave those on {string.Join(", ", others)}, so the cache would be half flushed. Nothing was flushed. " +
            "Flush every master together, for example with redis-cli --cluster call <host:port> FLUSHALL.") { TargetObject = conn.Endpoint };
    }

    private static string FlushCommand(bool all, bool async) => (all ? "FLUSHALL" : "FLUSHDB") + (async ? " ASYNC" : "");

    private static (string Host, int Port) PrimaryEndpoint(RedisConnectionSettings settings)
    {
        if (settings.Endpoints.Count != 1)
            throw new IncidentOpsException(RedisErrorIds.RedisEndpointAmbiguous, IncidentOpsErrorCategory.InvalidArgument,
                $"The connection string names {settings.Endpoints.Count} endpoints; a flush goes to exactly one. Pass -ConnectionString with the master's host:port only.");
        return settings.Endpoints[0];
    }

    private static async Task<long> CountKeysAsync(RedisEndpointConnection conn, int? db, CancellationToken ct)
    {
        if (db is { } n) return await conn.RunAsync($"DBSIZE (db {n})", s => s.DatabaseSizeAsync(n), ct).ConfigureAwait(false);
        var info = ParseInfo(await conn.InfoRawAsync("keyspace", ct).ConfigureAwait(false));
        return BuildSection(conn.Endpoint, RedisInfoSection.Keyspace, info).OfType<RedisKeyspaceInfo>().Sum(k => k.Keys);
    }
}
