using System.Collections;
using System.Management.Automation;

namespace IncidentOps.Commands;

/// <summary>Parameter sanitising: the bound parameters of a command as a timeline shows them, with no secret in them.</summary>
internal static class TimelineParameters
{
    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable", "WarningVariable",
        "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm", "InputObject", "ConfigPath",
    };

    /// <summary>Bound parameters fit for a timeline: no credentials, secure strings, or secret-looking names; values redacted.</summary>
    public static IReadOnlyDictionary<string, string> From(IDictionary<string, object> bound)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in bound)
        {
            if (Skipped.Contains(name)) continue;
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
