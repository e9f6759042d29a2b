using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Gets an app's environment values and secrets (secret values are never shown; credentials are masked unless -NoRedaction).</summary>
/// <remarks>
/// Fly: flyctl secrets list (names only). Kubernetes: the deployment's container env (secretKeyRef values are
/// secrets). DigitalOcean: the app spec's envs (type SECRET values are secrets). systemd: the unit's Environment=.
/// </remarks>
/// <example>
/// <code>Get-AppSetting -Platform Kubernetes -Deployment marketing -Namespace akaind-platform -Key PAYMENT_*</code>
/// <para>Shows the payment settings of the deployment.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "AppSetting")]
[OutputType(typeof(AppSetting))]
public sealed class GetAppSettingCommand : AppReadCmdlet
{
    /// <summary>Setting names to return (wildcards allowed). Defaults to all.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Key { get; set; }

    /// <summary>
    /// Show values as the platform stores them. By default a setting named like a secret (PASSWORD, TOKEN,
    /// API_KEY...) or whose value carries a credential (a URL with a password) is marked IsSecret and its
    /// credential is masked. Platform secrets (Fly secrets, Kubernetes secretKeyRef, DigitalOcean SECRET) are
    /// never readable.
    /// </summary>
    [Parameter]
    public SwitchParameter NoRedaction { get; set; }

    protected override void ProcessRecord()
    {
        var patterns = (Key ?? ["*"]).Select(k => new WildcardPattern(k, WildcardOptions.IgnoreCase)).ToList();
        foreach (var (target, adapter) in Targets())
            if (TryInvoke(ct => Engine.Platforms.GetSettingsAsync(adapter, !NoRedaction, ct), out var settings, target.ToString()))
            {
                var matched = settings.Where(s => patterns.Any(p => p.IsMatch(s.Key))).ToList();
                foreach (var s in matched) WriteApp(s, target);
                // Names only: a setting's value never goes on the timeline.
                RecordRead(target.ToString(), "Read settings", $"{ReadSummary.Count(matched.Count, "setting")}: {string.Join(", ", matched.Select(s => s.Key).Take(20))}");
            }
    }
}
