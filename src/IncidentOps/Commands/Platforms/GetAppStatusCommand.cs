using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Gets the state of an app on Fly.io, DigitalOcean App Platform, Kubernetes or systemd.</summary>
/// <remarks>
/// Replaces the runbooks' 'flyctl status', 'doctl apps get', 'kubectl get deployment/pods' and 'systemctl status'.
/// Returns one AppStatus per app: overall state (Healthy, Degraded, Down, Unknown) with the reason, desired and
/// ready instances, current version or image, last deployed time, and the instances (machines, pods, components
/// or the main process) with their state, region or node, restarts, last exit reason (OOMKilled,
/// CrashLoopBackOff) and health checks. The CLI runs with its JSON output through one process runner with a timeout.
/// </remarks>
/// <example>
/// <code>Get-AppStatus -Platform Fly -App ai-affiliate-empire</code>
/// <para>Shows the Fly.io app's state and its machines.</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService -Environment production | Get-AppStatus | Where-Object State -ne Healthy</code>
/// <para>Lists the production services that are not healthy.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "AppStatus")]
[OutputType(typeof(AppStatus))]
public sealed class GetAppStatusCommand : AppReadCmdlet
{
    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
            if (TryInvoke(ct => Engine.Platforms.GetStatusAsync(adapter, ct), out var status, target.ToString()))
            {
                WriteApp(status, target);
                RecordRead(target.ToString(), "Read app status", $"{status.State}{(status.Reason is null ? "" : $" ({status.Reason})")}: {status.ReadyInstances} of {status.DesiredInstances} instances running");
            }
    }
}
