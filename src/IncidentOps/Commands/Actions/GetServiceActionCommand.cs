using System.Management.Automation;
using IncidentOps.Actions;

namespace IncidentOps.Commands;

/// <summary>Lists the runbook actions the configured services declare.</summary>
/// <remarks>
/// A service can declare named mitigations of its own under `actions:` in incidentops.yml: an HTTP call, a
/// Kubernetes manifest to apply or delete, or a command of its platform CLI. This cmdlet lists them as objects
/// (secret header values are shown as their references, masked); Invoke-ServiceAction runs one.
/// </remarks>
/// <example>
/// <code>Get-ServiceAction</code>
/// <para>Lists every action of every configured service.</para>
/// </example>
/// <example>
/// <code>Get-ServiceAction -Service production/api -Name emergency-stop | Format-List *</code>
/// <para>Shows the exact declaration of one action: method, URL, headers (masked), body and ConfirmImpact.</para>
/// </example>
/// <example>
/// <code>Get-ServiceAction -Service production/marketing -Name rate-limit-strict | Invoke-ServiceAction -WhatIf</code>
/// <para>Pipes an action into Invoke-ServiceAction, which shows the kubectl command line it would run.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "ServiceAction")]
[OutputType(typeof(ServiceAction))]
public sealed class GetServiceActionCommand : ConfiguredCmdlet
{
    /// <summary>Configured service(s) whose actions to list ("environment/service" or the name alone); wildcards allowed. Default: every service.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    [SupportsWildcards]
    public string[]? Service { get; set; }

    /// <summary>Name(s) of the actions to list; wildcards allowed. Default: all of them.</summary>
    [Parameter(Position = 1)]
    [ArgumentCompleter(typeof(ServiceActionNameCompleter))]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Only services of this environment (production, staging).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    protected override void ProcessRecord()
    {
        var services = Service is { Length: > 0 }
            ? ResolveServices(Environment, Service)
            : Config.Services.Where(s => Environment is null || s.Environment.Equals(Environment, StringComparison.OrdinalIgnoreCase)).ToList();
        var patterns = (Name ?? []).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        var found = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var action in services.SelectMany(s => s.Actions))
        {
            if (patterns.Count > 0 && !patterns.Any(p => p.IsMatch(action.Name))) continue;
            found.Add(action.Name);
            if (action.Kind == ServiceActionKind.Manifest && !File.Exists(action.ManifestPath))
                WriteWarning($"{action}: the manifest '{action.ManifestPath}' does not exist, so Invoke-ServiceAction cannot run this action.");
            WriteObject(action);
        }
        // A name typed exactly that nothing declares is a mistake worth saying; a wildcard matching nothing is not.
        foreach (var n in (Name ?? []).Where(n => !WildcardPattern.ContainsWildcardCharacters(n) && !found.Contains(n)))
        {
            var known = services.SelectMany(s => s.Actions).Select(a => a.Name).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            WriteInputError(ActionErrorIds.NotFound,
                $"No action '{n}' is declared for {(Service is { Length: > 0 } ? string.Join(", ", services.Select(s => s.FullName)) : "any service")}. {(known.Count == 0 ? "No actions are declared: add them under a service's actions: key in incidentops.yml." : "Declared: " + string.Join(", ", known) + ".")}",
                n, IncidentOpsErrorCategory.ObjectNotFound);
        }
    }
}
