using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Gets the release or deployment history of an app, newest first.</summary>
/// <remarks>
/// Replaces 'flyctl releases', 'doctl apps list-deployments', 'kubectl rollout history' (ReplicaSet revisions)
/// and, for systemd, the release directories under the configured releases path (on a remote host with -ComputerName:
/// one ssh -o BatchMode=yes command lists them and reads the 'current' link). Each AppDeployment has its
/// version, status, created time, image or commit, cause, and whether it is the current or the last good one
/// (the release Invoke-Rollback would go back to). The table shows a DigitalOcean deployment id (a 36-character UUID)
/// by its first 8 characters, as git shows a commit, so each deployment stays on one line at 80 columns; Format-List
/// shows the whole id, and Invoke-Rollback -ToVersion completes the short form to it (type d4d4d4d4 and press Tab).
/// </remarks>
/// <example>
/// <code>Get-AppDeployment -Platform Kubernetes -Deployment marketing -Namespace akaind-platform -First 5</code>
/// <para>Shows the last five revisions of the deployment.</para>
/// </example>
/// <example>
/// <code>Get-AppDeployment -Platform Systemd -Unit fastapi -ComputerName deploy@api-1 -ReleasesPath /srv/fastapi/releases</code>
/// <para>Lists the release directories on api-1 over ssh; FAILED-marked releases are never the last good one.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "AppDeployment")]
[OutputType(typeof(AppDeployment))]
public sealed class GetAppDeploymentCommand : AppReadCmdlet
{
    /// <summary>Return only the newest N releases.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(SuggestedValueCompleter))]
    public int First { get; set; } = int.MaxValue;

    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
            if (TryInvoke(ct => Engine.Platforms.GetDeploymentsAsync(adapter, ct), out var list, target.ToString()))
            {
                foreach (var d in list.Take(First)) WriteApp(d, target);
                var current = list.FirstOrDefault(d => d.IsCurrent);
                RecordRead(target.ToString(), "Read deployments", $"{ReadSummary.Count(list.Count, "deployment")}{(current is null ? "" : $", current {current.Version}")}");
            }
    }
}
