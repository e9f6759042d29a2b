using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine.Config;

namespace IncidentOps.Commands;

/// <summary>Validates an IncidentOps configuration file and returns its problems as objects.</summary>
/// <remarks>
/// Parses the file and reports every problem as a ConfigFinding with its file, line and column: malformed
/// YAML, unknown keys (with the closest valid key suggested), unknown platforms or channel types, missing
/// required fields, bad durations, routing to channels or severities that do not exist, and references
/// (env:, file:, secret:) that do not resolve on this machine. A valid file returns nothing. With -Quiet it
/// returns $true when the file has no errors and $false otherwise, for scripts and CI.
/// </remarks>
/// <example>
/// <code>Test-IncidentOpsConfig -Path ./incidentops.yml</code>
/// <para>Lists every problem in the file, each with file:line:column.</para>
/// </example>
/// <example>
/// <code>if (-not (Test-IncidentOpsConfig -Quiet)) { throw 'incidentops.yml is invalid' }</code>
/// <para>Fails a deployment script when the configuration has errors.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "IncidentOpsConfig")]
[OutputType(typeof(ConfigFinding), typeof(bool))]
public sealed class TestIncidentOpsConfigCommand : IncidentOpsCmdlet
{
    /// <summary>Path of the configuration file. When omitted: $env:INCIDENTOPS_CONFIG, ./incidentops.yml, then ~/.config/incidentops/config.yml.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "ConfigPath", "FullName")]
    public string? Path { get; set; }

    /// <summary>Do not check that env:, file: and secret: references resolve on this machine (check the file's shape only).</summary>
    [Parameter]
    public SwitchParameter SkipReferences { get; set; }

    /// <summary>Return only $true (no errors) or $false instead of the findings.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override string? ConfigPathValue => Path;

    protected override void ProcessRecord()
    {
        string? file;
        try { file = ConfigService.FindConfigPath(Path is null ? null : ResolvePath(Path), CurrentDirectory); }
        catch (IncidentOpsException ex)
        {
            if (Quiet) { WriteObject(false); return; }
            WriteError(ToErrorRecord(ex, Path));
            return;
        }
        if (file is null)
        {
            WriteVerbose("No configuration file was found; the defaults apply.");
            if (Quiet) WriteObject(true);
            return;
        }
        if (!TryInvoke(ct => ConfigValidator.ValidateAsync(Engine.Config, file, Engine.References, !SkipReferences, ct), out var findings, file))
        {
            if (Quiet) WriteObject(false);
            return;
        }
        WriteVerbose($"{file}: {findings.Count(f => f.Severity == FindingSeverity.Error)} error(s), {findings.Count(f => f.Severity == FindingSeverity.Warning)} warning(s).");
        if (Quiet) WriteObject(findings.All(f => f.Severity != FindingSeverity.Error));
        else foreach (var f in findings) WriteObject(f);
    }
}
