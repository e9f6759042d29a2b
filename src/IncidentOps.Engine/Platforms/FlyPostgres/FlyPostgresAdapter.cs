using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Fly Postgres (a Fly app of its own) through flyctl. There is no 'postgres status' any more: status is
/// 'flyctl status --json' on the Postgres app, whose machines carry a 'role' health check (primary/replica).
/// 'postgres backup list' has no --json: it prints the table of flexctl on the primary machine (ID/Name, Alias,
/// Status, End time, Begin WAL). 'postgres backup restore' always restores into a NEW Postgres app.
/// </summary>
public sealed class FlyPostgresAdapter(AppDatabaseTarget database, ProcessRunner runner, TimeSpan timeout, IOperationSink sink)
    : DatabaseAdapterBase(database, runner, timeout, sink), IDatabaseAdapter
{
    private string App => Database.DatabaseApp!;
    private static CliCommand Fly(params string[] args) => new("flyctl", "flyctl", args);
    private static readonly Regex BackupIdRule = new("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\\z", RegexOptions.CultureInvariant);

    public async Task<AppDatabase> GetStatusAsync(CancellationToken ct)
    {
        var cmd = Fly("status", "-a", App, "--json");
        var s = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        if (s.ValueKind != JsonValueKind.Object) throw Invalid(cmd, "(document)", "is not an object");
        var machines = Arr(s, "Machines").Where(m => Str(m, "state") is not "destroyed").ToList();
        var nodes = machines.Select(m =>
        {
            var checks = Arr(m, "checks").ToList();
            // flyctl's own rule (machineRole): the role check's output when passing, "error" when not, "unknown" without it.
            var roleCheck = checks.FirstOrDefault(c => Str(c, "name") == "role");
            var role = roleCheck.ValueKind != JsonValueKind.Object ? "unknown" : Str(roleCheck, "status") == "passing" ? Str(roleCheck, "output")?.Trim() ?? "unknown" : "error";
            if (role == "leader") role = "primary";
            return new AppDatabaseNode
            {
                Id = Str(m, "id") ?? throw Invalid(cmd, "Machines[].id", "is missing"),
                Role = role, State = Str(m, "state"), Region = Str(m, "region"),
                Checks = checks.Select(c => $"{Str(c, "name")}: {Str(c, "status")}").ToArray(),
                Healthy = Str(m, "state") == "started" && checks.All(c => Str(c, "status") == "passing"),
            };
        }).ToList();
        var primary = nodes.FirstOrDefault(n => n.Role == "primary" && n.State == "started");
        AppState state; string? why = null;
        if (nodes.Count == 0) { state = AppState.Down; why = "no machines"; }
        else if (nodes.All(n => n.State != "started")) { state = AppState.Down; why = "no machine started"; }
        else if (primary is null) { state = AppState.Down; why = $"no primary (roles: {string.Join(", ", nodes.Select(n => $"{n.Id}={n.Role}"))})"; }
        else if (nodes.Any(n => !n.Healthy))
        {
            state = AppState.Degraded;
            why = $"{nodes.Count(n => n.Healthy)}/{nodes.Count} members healthy; failing: {string.Join(", ", nodes.Where(n => !n.Healthy).Select(n => $"{n.Id} ({n.State}; {string.Join(", ", n.Checks.Where(c => !c.EndsWith(": passing", StringComparison.Ordinal)))})"))}";
        }
        else state = AppState.Healthy;
        var first = machines.FirstOrDefault();
        string? Label(string name) => first.ValueKind == JsonValueKind.Object ? Str(first, "image_ref", "labels", name) : null;
        return new AppDatabase
        {
            Platform = PlatformKind.Fly, Name = Str(s, "Name") ?? App, Service = Database.Service, DatabaseApp = App,
            Engine = "postgres", Version = Label("fly.pg-version") ?? Label("fly.version"), State = state, Reason = why,
            Status = Str(s, "Status"), Region = primary?.Region ?? nodes.FirstOrDefault()?.Region, NodeCount = nodes.Count,
            Primary = primary?.Id, CreatedAt = machines.Select(m => Time(m, "created_at")).Min(), Nodes = nodes,
        };
    }

    public async Task<IReadOnlyList<AppDatabaseBackup>> GetBackupsAsync(CancellationToken ct)
    {
        var cmd = Fly("postgres", "backup", "list", "-a", App);
        var text = await RunTextAsync(cmd, ct).ConfigureAwait(false);
        FailOnRemoteExit(cmd, text);
        return ParseBackupTable(cmd, text);
    }

    /// <summary>
    /// flyctl runs flexctl on a machine and, in some versions, exits 0 even when flexctl failed, printing
    /// "Exit code: N" first. That is a failure, not output to parse.
    /// </summary>
    private static void FailOnRemoteExit(CliCommand cmd, string text)
    {
        var t = text.TrimStart();
        if (t.StartsWith("Exit code:", StringComparison.Ordinal) && !t.StartsWith("Exit code: 0", StringComparison.Ordinal))
            throw new IncidentOpsException(PlatformErrorIds.PlatformCommandFailed, IncidentOpsErrorCategory.FromStdErr,
                $"flyctl ran flexctl on the Postgres machine and it failed: {cmd.CommandLine}{Environment.NewLine}{Trimmed(text)}") { TargetObject = cmd.CommandLine };
    }

    private IReadOnlyList<AppDatabaseBackup> ParseBackupTable(CliCommand cmd, string text)
    {
        Dictionary<string, int>? header = null;
        var list = new List<AppDatabaseBackup>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || !line.StartsWith('|') || line.All(c => c is '|' or '+' or '-' or '=' or ' ')) continue;
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (header is null)
            {
                if (cells.Any(c => c.Equals("STATUS", StringComparison.OrdinalIgnoreCase)))
                    header = cells.Select((c, i) => (c.ToUpperInvariant(), i)).GroupBy(x => x.Item1).ToDictionary(g => g.Key, g => g.First().i);
                continue;
            }
            string? Cell(string name) => header.TryGetValue(name, out var i) && i < cells.Length && cells[i].Length > 0 ? cells[i] : null;
            var id = Cell("ID/NAME") ?? Cell("ID") ?? throw Invalid(cmd, "ID/Name", $"is empty in row '{line}'");
            var status = Cell("STATUS");
            list.Add(new AppDatabaseBackup
            {
                Platform = PlatformKind.Fly, Service = Database.Service, DatabaseApp = App, BackupId = id, Alias = Cell("ALIAS"),
                Status = status, Restorable = string.Equals(status, "DONE", StringComparison.OrdinalIgnoreCase),
                CreatedAt = BarmanTime(Cell("END TIME")) ?? IdTime(id),
            });
        }
        if (header is null)
        {
            if (text.Contains("No backups found", StringComparison.OrdinalIgnoreCase)) return [];
            throw Invalid(cmd, "ID/Name | Alias | Status | End time | Begin WAL", $"table is missing (output: {Trimmed(text)})");
        }
        return list.OrderByDescending(b => b.CreatedAt ?? DateTimeOffset.MinValue).ThenByDescending(b => b.BackupId, StringComparer.Ordinal).ToList();
    }

    /// <summary>barman prints ctime-style times in UTC: "Mon Nov 23 02:00:41 2026" (two spaces before a one-digit day).</summary>
    private static DateTimeOffset? BarmanTime(string? text)
    {
        if (text is null) return null;
        var t = Regex.Replace(text, @"\s+", " ").Trim();
        if (DateTimeOffset.TryParseExact(t, ["ddd MMM d HH:mm:ss yyyy", "ddd MMM dd HH:mm:ss yyyy"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var v)) return v;
        return DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out v) ? v : null;
    }

    /// <summary>barman backup ids are the start time (20261123T020000), used when a running backup has no end time yet.</summary>
    private static DateTimeOffset? IdTime(string id) =>
        DateTimeOffset.TryParseExact(id, "yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var v) ? v : null;

    public PlannedDatabaseChange<AppActionResult> PlanRestart(bool failover = false)
    {
        if (failover) throw FailoverNotSupported();
        var cmd = Fly("postgres", "restart", "-a", App);
        return new([cmd.CommandLine], async ct =>
        {
            var output = await RunTextAsync(cmd, ct).ConfigureAwait(false);
            return new AppActionResult
            {
                Platform = PlatformKind.Fly, Name = App, Action = "Restart database", Commands = [cmd.CommandLine], Succeeded = true,
                Output = SecretRedactor.Redact(Trimmed(output)),
            };
        });
    }

    public PlannedDatabaseChange<AppDatabaseBackup> PlanCreateBackup(string? name)
    {
        if (name is not null) CheckNewName(name, "a backup", "-Name before-rollback");
        var args = new List<string> { "postgres", "backup", "create", "-a", App };
        if (name is not null) args.AddRange(["--name", name]);
        var cmd = Fly([.. args]);
        return new([cmd.CommandLine], async ct =>
        {
            var output = await RunTextAsync(cmd, ct).ConfigureAwait(false);
            FailOnRemoteExit(cmd, output);
            var backups = await GetBackupsAsync(ct).ConfigureAwait(false);
            var made = name is null ? backups.FirstOrDefault() : backups.FirstOrDefault(b => b.Alias == name);
            return made ?? throw new IncidentOpsException(PlatformErrorIds.PlatformOutputInvalid, IncidentOpsErrorCategory.InvalidResult,
                $"'{cmd.CommandLine}' finished but 'flyctl postgres backup list -a {App}' shows no {(name is null ? "backup" : $"backup named '{name}'")}. Run Get-AppDatabaseBackup -Platform Fly -DatabaseApp {App} to check.");
        });
    }

    public PlannedDatabaseChange<AppDatabaseRestoreResult> PlanRestore(string backupId, string? newName, bool wait)
    {
        if (!BackupIdRule.IsMatch(backupId))
            throw new IncidentOpsException(PlatformErrorIds.BackupIdInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"'{backupId}' is not a Fly Postgres backup id or alias. Pass the BackupId (20261123T020000) or Alias shown by Get-AppDatabaseBackup -Platform Fly -DatabaseApp {App}.") { TargetObject = backupId };
        var target = CheckNewName(newName ?? DerivedName(App, backupId));
        var args = new List<string> { "postgres", "backup", "restore", target, "-a", App, "--restore-target-name", backupId };
        if (!wait) args.Add("--detach");
        var cmd = Fly([.. args]);
        var warning = $"Fly restores into a NEW Postgres app '{target}'; '{App}' is not changed. Once it is healthy, attach it to the app (flyctl postgres attach {target} -a <app>) or point DATABASE_URL at it.";
        return new([cmd.CommandLine], async ct =>
        {
            // A restore costs a new cluster: refuse a backup that does not exist or never finished, before launching anything.
            var backups = await GetBackupsAsync(ct).ConfigureAwait(false);
            var backup = backups.FirstOrDefault(b => b.BackupId == backupId || b.Alias == backupId)
                ?? throw new IncidentOpsException(PlatformErrorIds.DatabaseBackupNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                    $"{Database} has no backup '{backupId}'. Known: {(backups.Count == 0 ? "none" : string.Join(", ", backups.Take(10).Select(b => b.BackupId)))}. Run Get-AppDatabaseBackup to see them.") { TargetObject = backupId };
            if (!backup.Restorable)
                throw new IncidentOpsException(PlatformErrorIds.DatabaseBackupNotRestorable, IncidentOpsErrorCategory.InvalidOperation,
                    $"Backup '{backup.BackupId}' of {Database} is {backup.Status}, not DONE; pick a finished one (Get-AppDatabaseBackup | Where-Object Restorable).") { TargetObject = backupId };
            await RunTextAsync(cmd, ct).ConfigureAwait(false);
            Sink.Warning(warning);
            return new AppDatabaseRestoreResult
            {
                Platform = PlatformKind.Fly, Source = App, BackupId = backup.BackupId, NewName = target, DatabaseApp = target,
                Status = wait ? "restored" : "launching", Commands = [cmd.CommandLine], Warnings = [warning],
            };
        });
    }
}
