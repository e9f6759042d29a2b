using System.Collections;
using System.Management.Automation;
using System.Net;
using System.Security;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Sets environment values or secrets of an app.</summary>
/// <remarks>
/// Fly: flyctl secrets import (values go through stdin, never the command line). Kubernetes: kubectl set env.
/// DigitalOcean: envs through an app spec update (type SECRET with -Secret). Values of secrets are masked in
/// -WhatIf text, verbose output, errors and the incident timeline. Most platforms restart the app to apply them.
/// </remarks>
/// <example>
/// <code>Set-AppSetting -Platform Fly -App ai-affiliate-empire -Setting @{ ENABLE_MOCK_MODE = 'true' }</code>
/// <para>The seed's 'flyctl secrets set ENABLE_MOCK_MODE=true'.</para>
/// </example>
/// <example>
/// <code>Set-AppSetting -Platform Kubernetes -Deployment marketing -Namespace akaind-platform -Setting @{ PAYMENT_PROVIDER = 'backup' }</code>
/// <para>The seed's 'kubectl set env deployment/marketing PAYMENT_PROVIDER=backup'.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "AppSetting", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AppActionResult))]
public sealed class SetAppSettingCommand : AppCmdlet, IForceSwitch
{
    /// <summary>Names and values to set; values may be strings or SecureStrings. A name is an environment variable name (letters, digits, '_', '.' and '-', starting with a letter or '_'); anything else, such as '--context', is AppSettingInvalid and nothing is changed. On Fly a value may not hold a line break (flyctl secrets import reads one NAME=value per line).</summary>
    [Parameter(Mandatory = true)]
    public Hashtable Setting { get; set; } = [];

    /// <summary>Treat the values as secrets (always the case on Fly.io): masked everywhere, stored encrypted where the platform can.</summary>
    [Parameter]
    public SwitchParameter Secret { get; set; }

    /// <summary>Change without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Setting)
        {
            var raw = e.Value is PSObject p ? p.BaseObject : e.Value;
            var value = raw is SecureString ss ? new NetworkCredential("", ss).Password : Convert.ToString(raw, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            if (Secret || raw is SecureString) RegisterSecret(value);
            values[e.Key.ToString()!] = value;
        }
        var secret = Secret || Setting.Values.OfType<object>().Any(v => (v is PSObject p ? p.BaseObject : v) is SecureString);
        foreach (var (target, adapter) in Targets())
        {
            if (!TryPlan(() => Engine.Platforms.PlanSetSettings(adapter, values, secret), target, out var change)) continue;
            if (TryChange(target.ToString(), "Set setting", string.Join("; ", change.Commands),
                    ct => Engine.Platforms.RunChangeAsync(adapter, "Set setting", change, false, Timeout, ct),
                    r => $"{string.Join("; ", r.Commands)} (set {string.Join(", ", values.Keys)})", out var result))
                WriteApp(result, target);
        }
    }
}
