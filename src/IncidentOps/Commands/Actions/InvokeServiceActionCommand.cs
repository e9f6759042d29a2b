using System.Collections;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using IncidentOps.Actions;
using IncidentOps.Config;
using IncidentOps.Engine.Actions;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Runs a runbook action a service declares in incidentops.yml.</summary>
/// <remarks>
/// An action is an HTTP call to the service (seed 001's POST .../emergency-stop), a Kubernetes manifest applied or
/// deleted with kubectl (seed 003's kubectl apply -f k8s/rate-limit-strict.yaml), or a command of the service's
/// platform CLI given as an argument list (flyctl ips block ...). -WhatIf prints the exact request (method, URL,
/// headers with secrets masked, body) or command line. The action's declared confirmImpact decides whether it asks
/// first, as a cmdlet's ConfirmImpact would against $ConfirmPreference; -Force skips the question. -TimeoutSec (default:
/// the action's timeout, else 60 s) is the deadline of the whole run; Ctrl+C stops it at once and kills the CLI. The
/// run is recorded on the active incident's timeline, so New-IncidentReport lists it. A non-2xx answer or a non-zero exit
/// is an error (ActionHttpFailed, ActionCommandFailed) whose target object is the result; nothing is written to the
/// output then. A -Parameter value never changes which server, cluster, account or app the action acts on: a value that
/// would be read as a CLI option, holds a control character or steps out of a URL path is ActionParameterInvalid, and
/// nothing runs.
/// </remarks>
/// <example>
/// <code>Invoke-ServiceAction -Service production/api -Name emergency-stop -WhatIf</code>
/// <para>Shows the POST request it would send, with the Authorization header masked.</para>
/// </example>
/// <example>
/// <code>Invoke-ServiceAction production/api block-ip -Parameter @{ ip = '203.0.113.7' } -Force</code>
/// <para>Runs flyctl ips block 203.0.113.7 --app ai-affiliate-empire without asking, and records it on the incident.</para>
/// </example>
/// <example>
/// <code>Invoke-ServiceAction -Service production/marketing -Name rate-limit-strict -TimeoutSec 30</code>
/// <para>Applies k8s/rate-limit-strict.yaml with kubectl in the service's context and namespace, asking first when the action's confirmImpact is at or above $ConfirmPreference.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "ServiceAction", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ServiceActionResult))]
public sealed class InvokeServiceActionCommand : IncidentActionCmdlet
{
    /// <summary>The configured service ("environment/service", or the name alone when unambiguous). Binds from Get-ServiceAction output.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string Service { get; set; } = "";

    /// <summary>The action's name, as declared under the service's actions: key. Tab completion offers the chosen service's actions.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceActionNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>Environment of the service (production, staging), when -Service is the name alone.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Values for the action's declared parameters, filling its {name} placeholders: @{ ip = '203.0.113.7' }. In a command each stays one argument, and a value that would begin an argument with '-' (--context=..., -n other) is refused. In a URL a value is escaped ('.' and '..' are refused). In a JSON body (declared Content-Type JSON, or a body that starts with { or [ or parses as JSON) a value inside a string is JSON-escaped and one outside a string becomes a number, true, false, null or a JSON string; in a form body it is URL-escaped. Headers are sent as written. A value with a control character (a newline, NUL) is refused everywhere. A refused value is ActionParameterInvalid, and nothing runs.</summary>
    [Parameter]
    public Hashtable? Parameter { get; set; }

    /// <summary>Deadline in seconds for the whole run, counted from its start (after any confirmation). Default: the action's declared timeout, else 60. Past it the request is abandoned or the CLI killed, and the command stops with OperationTimeout.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public double TimeoutSec { get; set; }

    /// <summary>Path of flyctl when it is not on PATH (overrides tools.flyctl in incidentops.yml).</summary>
    [Parameter]
    public string? FlyctlPath { get; set; }

    /// <summary>Path of doctl when it is not on PATH (overrides tools.doctl).</summary>
    [Parameter]
    public string? DoctlPath { get; set; }

    /// <summary>Path of kubectl when it is not on PATH (overrides tools.kubectl).</summary>
    [Parameter]
    public string? KubectlPath { get; set; }

    /// <summary>Path of systemctl (overrides tools.systemctl).</summary>
    [Parameter]
    public string? SystemctlPath { get; set; }

    /// <summary>Path of journalctl (overrides tools.journalctl).</summary>
    [Parameter]
    public string? JournalctlPath { get; set; }

    /// <summary>Path of ssh, used for systemd services with a host (overrides tools.ssh).</summary>
    [Parameter]
    public string? SshPath { get; set; }

    /// <summary>Run without asking for confirmation, whatever the action's confirmImpact.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private TimeSpan _timeout = ServiceActionService.DefaultTimeout;
    private bool _yesToAll, _noToAll;

    protected override TimeSpan? OperationTimeout => _timeout;

    protected override void ProcessRecord() => Run();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Run()
    {
        if (WildcardPattern.ContainsWildcardCharacters(Service))
        {
            WriteInputError(ConfigErrorIds.ServiceAmbiguous, $"-Service '{Service}' has wildcards; Invoke-ServiceAction runs one service's action. Name it exactly (Get-ServiceAction lists them).", Service);
            return;
        }
        ServiceTarget service;
        ServiceAction action;
        ActionPlan plan;
        try
        {
            service = ConfigService.ResolveService(Config, Environment, Service);
            action = ServiceActionService.Find(service, Name);
            plan = Engine.Actions.Plan(service, action, Arguments());
        }
        catch (IncidentOpsException ex)
        {
            WriteError(ToErrorRecord(ex, $"{Service}:{Name}"));
            return;
        }
        _timeout = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? TimeSpan.FromSeconds(TimeoutSec) : action.Timeout ?? ServiceActionService.DefaultTimeout;

        if (!ConfirmDeclaredImpact(service, action, plan)) return;
        var config = Config;
        string? Local(string? path) => path is null ? null : ResolvePath(path);
        // Each provider's CLI names the parameter that overrides its path (-FlyctlPath, -KubectlPath ...).
        var paths = PlatformRegistry.GivenPaths(name => Local(GetType().GetProperty(name)?.GetValue(this) as string));
        if (TryChange(service.FullName, $"Invoke {action.Name}", plan.Preview,
                ct => Engine.Actions.RunAsync(service, plan, config.Tools, paths, _timeout, ct),
                ServiceActionService.Summary, out var result, r => r.Succeeded))
        {
            if (result.Succeeded) WriteObject(result);
            else WriteError(ToErrorRecord(ServiceActionService.Failure(result), result));
        }
    }

    /// <summary>
    /// The cmdlet's own ConfirmImpact is Low, so ShouldProcess alone would never ask; each action declares its own.
    /// Ask here, as PowerShell would for a cmdlet of that impact: when it is at or above $ConfirmPreference, unless
    /// -Force, -WhatIf or -Confirm (either way) decides, or ShouldProcess is going to ask anyway.
    /// </summary>
    private bool ConfirmDeclaredImpact(ServiceTarget service, ServiceAction action, ActionPlan plan)
    {
        if (Force || IsWhatIf || MyInvocation.BoundParameters.ContainsKey(nameof(System.Management.Automation.Internal.ShouldProcessParameters.Confirm))) return true;
        var preference = LanguagePrimitives.TryConvertTo<ConfirmImpact>(SessionState.PSVariable.GetValue("ConfirmPreference"), out var p) ? p : ConfirmImpact.High;
        if (preference == ConfirmImpact.None) return true;
        if (ConfirmImpact.Low >= preference) return true; // ShouldProcess asks
        var declared = action.ConfirmImpact switch { ActionImpact.Low => ConfirmImpact.Low, ActionImpact.Medium => ConfirmImpact.Medium, _ => ConfirmImpact.High };
        if (declared < preference) return true;
        return ShouldContinue($"Invoke the action '{action.Name}' of {service.FullName} (confirmImpact {action.ConfirmImpact})?{System.Environment.NewLine}{plan.Preview}",
            "Confirm", ref _yesToAll, ref _noToAll);
    }

    private Dictionary<string, string> Arguments()
    {
        var args = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (Parameter is null) return args;
        foreach (DictionaryEntry e in Parameter)
        {
            var key = Convert.ToString(e.Key, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            var value = e.Value is PSObject ps ? ps.BaseObject : e.Value;
            args[key] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
        }
        return args;
    }
}
