using System.Diagnostics;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Platform database operations of the seeds (flyctl postgres status/restart/backup, doctl databases and
/// backups): opens the adapter for a database target and runs the steps that wrap a change (waiting for health).
/// </summary>
public sealed class AppDatabaseService(IOperationSink sink)
{
    public IDatabaseAdapter Open(AppDatabaseTarget target, CliPaths? paths, ToolPaths? configured, TimeSpan timeout)
    {
        TargetNames.CheckTarget(target);
        var runner = new ProcessRunner(sink, new ToolResolver(paths, configured));
        return target.Platform switch
        {
            PlatformKind.Fly when !string.IsNullOrEmpty(target.DatabaseApp) => new FlyPostgresAdapter(target, runner, timeout, sink),
            PlatformKind.DigitalOcean when !string.IsNullOrEmpty(target.DatabaseId) => new DigitalOceanDatabaseAdapter(target, runner, timeout, sink),
            PlatformKind.Fly => throw Incomplete(target, "-DatabaseApp (the Fly Postgres app name)"),
            PlatformKind.DigitalOcean => throw Incomplete(target, "-DatabaseId (the database cluster id from 'doctl databases list')"),
            PlatformKind.None => throw new IncidentOpsException("DatabaseTargetIncomplete", IncidentOpsErrorCategory.InvalidArgument,
                "No platform given. Pass -Platform Fly -DatabaseApp NAME, -Platform DigitalOcean -DatabaseId ID, or -Service NAME of a configured service with postgres.fly or postgres.digitalOcean."),
            _ => throw new IncidentOpsException("PlatformOperationNotSupported", IncidentOpsErrorCategory.NotImplemented,
                $"{target.Platform} has no managed database these cmdlets can drive. For PostgreSQL you run yourself, use the Pg cmdlets (Get-PgActivity, Stop-PgBackend) and your own backup tooling (pg_dump, pgBackRest)."),
        };
    }

    private static IncidentOpsException Incomplete(AppDatabaseTarget t, string what) => new("DatabaseTargetIncomplete", IncidentOpsErrorCategory.InvalidArgument,
        $"A {t.Platform} database target needs {what}. Pass it, or use -Service with a configured service whose postgres has {(t.Platform == PlatformKind.Fly ? "fly" : "digitalOcean")}: set.") { TargetObject = t.ToString() };

    /// <summary>Runs a planned restart; with wait, polls the database until it is healthy again or the timeout passes.</summary>
    public async Task<AppActionResult> RestartAsync(IDatabaseAdapter adapter, PlannedDatabaseChange<AppActionResult> change, bool wait, TimeSpan timeout, CancellationToken ct)
    {
        var result = await change.Execute(ct).ConfigureAwait(false);
        if (!wait) return result;
        var after = await WaitHealthyAsync(adapter, timeout, ct).ConfigureAwait(false);
        return new AppActionResult
        {
            Platform = result.Platform, Name = result.Name, Action = result.Action, Commands = result.Commands, Output = result.Output,
            StateAfter = after, Succeeded = after == AppState.Healthy,
        };
    }

    /// <summary>Polls Get-AppDatabase until Healthy; returns the last state seen when the timeout passes first.</summary>
    public async Task<AppState> WaitHealthyAsync(IDatabaseAdapter adapter, TimeSpan timeout, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var attempt = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var status = await adapter.GetStatusAsync(ct).ConfigureAwait(false);
            sink.Progress(new OperationProgress(62, $"Waiting for {adapter.Database}", $"{status.State}{(status.Reason is null ? "" : ": " + status.Reason)}"));
            if (status.State == AppState.Healthy || sw.Elapsed >= timeout)
            {
                sink.Progress(new OperationProgress(62, $"Waiting for {adapter.Database}", status.State.ToString(), Completed: true));
                return status.State;
            }
            var delay = TimeSpan.FromSeconds(Math.Min(10, 1 << Math.Min(attempt++, 3)));
            if (delay > timeout - sw.Elapsed) delay = timeout - sw.Elapsed;
            if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
        }
    }
}
