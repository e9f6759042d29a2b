using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Internal;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>Parameter sanitising: the bound parameters of a command as they may appear on a timeline (no secrets).</summary>
internal static class ParameterSanitizer
{
    /// <summary>Parameters every command has, or that say nothing about the change itself.</summary>
    private static readonly HashSet<string> Omitted = new(StringComparer.OrdinalIgnoreCase)
    {
        nameof(CommonParameters.Verbose), nameof(CommonParameters.Debug), nameof(CommonParameters.ErrorAction), nameof(CommonParameters.WarningAction),
        nameof(CommonParameters.InformationAction), "ProgressAction" /* PowerShell 7.4+; not in the reference assembly */, nameof(CommonParameters.ErrorVariable),
        nameof(CommonParameters.WarningVariable), nameof(CommonParameters.InformationVariable), nameof(CommonParameters.OutVariable),
        nameof(CommonParameters.OutBuffer), nameof(CommonParameters.PipelineVariable),
        nameof(ShouldProcessParameters.WhatIf), nameof(ShouldProcessParameters.Confirm),
        "InputObject", nameof(ConfiguredCmdlet.ConfigPath),
    };

    /// <summary>Bound parameters fit for a timeline: no credentials, secure strings, or secret-looking names; values redacted.</summary>
    public static IReadOnlyDictionary<string, string> Sanitize(IDictionary<string, object> boundParameters)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in boundParameters)
        {
            if (Omitted.Contains(name)) continue;
            if (value is PSCredential or System.Security.SecureString) continue;
            if (SecretRedactor.IsSecretName(name) && value is not SwitchParameter and not bool)
            {
                result[name] = SecretRedactor.Mask;
                continue;
            }
            result[name] = SecretRedactor.Redact(FormatValue(value));
        }
        return result;
    }

    private static string FormatValue(object? value) => value switch
    {
        null => "",
        SwitchParameter s => s.IsPresent ? "True" : "False",
        string s => s,
        PSObject p => FormatValue(p.BaseObject),
        IEnumerable e => string.Join(",", e.Cast<object?>().Take(50).Select(FormatValue)),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
