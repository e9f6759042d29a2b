using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Gets the state of a platform database: a Fly Postgres cluster or a DigitalOcean managed database.</summary>
/// <remarks>
/// Replaces the seeds' 'flyctl postgres status --app ai-affiliate-empire-db' (gone from current flyctl: a Fly
/// Postgres cluster is a Fly app, read with 'flyctl status --json', whose machines report their role through the
/// 'role' health check) and 'doctl databases get'. Returns one AppDatabase: overall state (Healthy, Degraded,
/// Down, Unknown) with the reason, the primary, the members with their role, state, region and checks (Fly), or
/// the engine, version, status, size and node count (DigitalOcean). Connection passwords in doctl's output are
/// never carried. The target comes from -Service (the service's postgres.fly or postgres.digitalOcean in
/// incidentops.yml) or directly from -Platform Fly -DatabaseApp or -Platform DigitalOcean -DatabaseId. Read-only.
/// </remarks>
/// <example>
/// <code>Get-AppDatabase -Platform Fly -DatabaseApp ai-affiliate-empire-db</code>
/// <para>Shows whether the Fly Postgres cluster has a primary and which members fail their checks.</para>
/// </example>
/// <example>
/// <code>Get-AppDatabase -Service production/api, production/portfolio | Where-Object State -ne Healthy</code>
/// <para>Checks the databases of two configured services and keeps the unhealthy ones.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "AppDatabase")]
[OutputType(typeof(AppDatabase))]
public sealed class GetAppDatabaseCommand : AppDatabaseReadCmdlet
{
    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
            if (TryInvoke(ct => Engine.AppDatabases.GetStatusAsync(adapter, ct), out var status, target.ToString()))
            {
                WriteObject(status);
                RecordRead(target.ToString(), "Read database status", $"{status.State}{(status.Reason is null ? "" : $" ({status.Reason})")}: {ReadSummary.Count(status.NodeCount, "member")}{(status.Primary is null ? "" : ", primary " + status.Primary)}");
            }
    }
}
