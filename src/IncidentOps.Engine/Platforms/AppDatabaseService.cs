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
    /// <summary>Opens the adapter of a database target through its provider (PlatformRegistry).</summary>
    public IDatabaseAdapter Open(AppDatabaseTarget target, ToolPaths? paths, ToolPaths? configured, TimeSpan timeout) =>
        PlatformRegistry.Open(target, new ProviderContext(new ProcessRunner(sink, new ToolResolver(paths, configured)), timeout, sink));

    // The cmdlets reach a database only through this service: reads, and the plans of changes (what -WhatIf prints).
    public Task<AppDatabase> GetStatusAsync(IDatabaseAdapter adapter, CancellationToken ct) => adapter.GetStatusAsync(ct);
    public Task<IReadOnlyList<AppDatabaseBackup>> GetBackupsAsync(IDatabaseAdapter adapter, CancellationToken ct) => adapter.GetBackupsAsync(ct);
    public PlannedDatabaseChange<AppActionResult> PlanRestart(IDatabaseAdapter adapter, bool failover) => adapter.PlanRestart(failover);
    public PlannedDatabaseChange<AppDatabaseBackup> PlanCreateBackup(IDatabaseAdapter adapter, string? name) => adapter.PlanCreateBackup(name);

    /// <summary>Plans a restore into a new database: from a backup, or (backupId null) to a point in time (time null: the latest restorable).</summary>
    public PlannedDatabaseChange<AppDatabaseRestoreResult> PlanRestore(IDatabaseAdapter adapter, string? backupId, DateTimeOffset? time, string? newName, bool wait) =>
        backupId is not null ? adapter.PlanRestore(backupId, newName, wait) : adapter.PlanRestoreToTime(time, newName, wait);

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
