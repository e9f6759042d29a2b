using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using IncidentOps.Actions;
using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Actions;

/// <summary>
/// One action made concrete for one run: its {placeholders} filled in, the exact request or command line, and the
/// preview -WhatIf prints (secrets masked). Header values stay references until <see cref="ServiceActionService.RunAsync"/>.
/// </summary>
public sealed record ActionPlan(ServiceAction Action, string Target, string Preview, string? Method, Uri? Url,
    IReadOnlyList<KeyValuePair<string, ConfigValue>> Headers, string? Body, CliCommand? Command);

/// <summary>
/// Runs the runbook actions a service declares (Invoke-ServiceAction): an HTTP call, kubectl apply/delete -f of a
/// manifest, or a command of the service's platform CLI. Every run has a deadline and stops on cancellation (the CLI's
/// process tree is killed); a non-2xx answer or a non-zero exit is a failed result, never a success.
/// </summary>
public sealed class ServiceActionService(IOperationSink sink, ReferenceResolver references)
{
    /// <summary>The most of a response body or CLI output kept in the result (characters).</summary>
    public const int MaxOutputChars = 2000;
    /// <summary>The most of a response body read (bytes); the rest is not read.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    /// <summary>The timeout used when neither the action nor -TimeoutSec gives one.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The action of that name on the service, or ActionNotFound saying which exist.</summary>
    public static ServiceAction Find(ServiceTarget service, string name)
    {
        var action = service.Actions.FirstOrDefault(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (action is not null) return action;
        var known = service.Actions.Select(a => a.Name).ToList();
        throw new IncidentOpsException(ActionErrorIds.NotFound, IncidentOpsErrorCategory.ObjectNotFound,
            known.Count == 0
                ? $"{service.FullName} declares no actions. Declare them under environments.{service.Environment}.services.{service.Service}.actions in incidentops.yml (see the README's Actions section)."
                : $"{service.FullName} has no action '{name}'.{ConfigParser.Suggest(name, known)} Its actions: {string.Join(", ", known)} (Get-ServiceAction -Service {service.FullName}).")
        { TargetObject = name };
    }

    /// <summary>Fills in the action's parameters and builds the exact request or command line.</summary>
    public ActionPlan Plan(ServiceTarget service, ServiceAction action, IReadOnlyDictionary<string, string>? arguments)
    {
        var args = new Dictionary<string, string>(arguments ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        foreach (var key in args.Keys.Where(k => !action.Parameters.Contains(k, StringComparer.OrdinalIgnoreCase)))
            throw new IncidentOpsException(ActionErrorIds.ParameterUnknown, IncidentOpsErrorCategory.InvalidArgument,
                $"The action '{action.Name}' of {service.FullName} takes no parameter '{key}'.{(action.Parameters.Length == 0 ? " It takes none: drop -Parameter." : $" It takes: {string.Join(", ", action.Parameters)}.")}")
            { TargetObject = key };
        foreach (var p in action.Parameters.Where(p => !args.ContainsKey(p) || string.IsNullOrWhiteSpace(args[p])))
            throw new IncidentOpsException(ActionErrorIds.ParameterMissing, IncidentOpsErrorCategory.InvalidArgument,
                $"The action '{action.Name}' of {service.FullName} needs a value for '{p}'. Pass it with -Parameter @{{ {p} = '...' }}.")
            { TargetObject = p };
        string Fill(string text, Func<string, string> encode) =>
            ConfigParser.ActionPlaceholder().Replace(text, m => encode(args[m.Groups[1].Value]));

        switch (action.Kind)
        {
            case ServiceActionKind.Http:
            {
                var url = new Uri(Fill(action.ResolvedUrl ?? action.Url!, Uri.EscapeDataString));
                var body = action.Body is null ? null : Fill(action.Body, v => v);
                var headers = action.Headers.ToList();
                var preview = new StringBuilder($"{action.Method} {url}");
                foreach (var (name, value) in headers) preview.Append('\n').Append(name).Append(": ").Append(ShowHeader(value));
                if (body is not null) preview.Append("\n\n").Append(SecretRedactor.Redact(body));
                return new ActionPlan(action, SecretRedactor.Redact($"{action.Method} {url}"), preview.ToString(), action.Method, url, headers, body, null);
            }
            case ServiceActionKind.Manifest:
            {
                if (!File.Exists(action.ManifestPath))
                    throw new IncidentOpsException(ActionErrorIds.ManifestNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                        $"The action '{action.Name}' of {service.FullName} applies the manifest '{action.ManifestPath}', which does not exist. Restore the file, or fix the path in {action.Location?.ToString() ?? "incidentops.yml"} (it is relative to the configuration file).")
                    { TargetObject = action.ManifestPath };
                var command = PlatformRegistry.ManifestCommand(service, action.ManifestOperation!, action.ManifestPath!);
                return new ActionPlan(action, command.CommandLine, command.CommandLine, null, null, [], null, command);
            }
            default:
            {
                var argv = action.Command.Skip(1).Select(a => Fill(a, v => v)).ToList();
                // A CLI's other file name (fly for flyctl) runs as the tool it is, so tools: and -FlyctlPath apply.
                var tool = PlatformRegistry.Tools.FirstOrDefault(t => t.Executables.Contains(action.Command[0]))?.Name ?? action.Command[0];
                // The service's platform provider says how its CLI runs (kubectl with the context, systemctl over ssh ...).
                var command = PlatformRegistry.ActionCommand(service, tool, argv);
                return new ActionPlan(action, command.CommandLine, command.CommandLine, null, null, [], null, command);
            }
        }
    }

    private static string ShowHeader(ConfigValue value) =>
        !value.IsSecret ? value.ToString() : value.IsReference ? $"{SecretRedactor.Mask} ({value})" : SecretRedactor.Mask;

    /// <summary>Runs a planned action within <paramref name="timeout"/> (cut to the command's deadline).</summary>
    public async Task<ServiceActionResult> RunAsync(ServiceTarget service, ActionPlan plan, ToolPaths? tools, ToolPaths? paths, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var sw = Stopwatch.StartNew();
        if (plan.Command is { } command)
        {
            var runner = new ProcessRunner(sink, new ToolResolver(paths, tools));
            var r = await runner.RunAsync(command, OperationDeadline.Cap(timeout), cancellationToken, throwOnError: false).ConfigureAwait(false);
            var output = Excerpt(r.ExitCode == 0 ? r.StandardOutput : (r.StandardError.Trim().Length > 0 ? r.StandardError : r.StandardOutput));
            return new ServiceActionResult
            {
                Service = service.FullName, Name = plan.Action.Name, Kind = plan.Action.Kind, Target = plan.Target, ExitCode = r.ExitCode,
                Duration = r.Elapsed, Succeeded = r.ExitCode == 0, Outcome = r.ExitCode == 0 ? "Succeeded" : $"exit code {r.ExitCode}",
                Output = output, StartedAt = started,
            };
        }

        // Secret header values are resolved only now (and registered for masking by the resolver).
        var headers = new List<(string Name, string Value)>();
        foreach (var (name, value) in plan.Headers)
            headers.Add((name, await references.ResolveAsync(value, cancellationToken).ConfigureAwait(false)));

        var connect = OperationDeadline.Cap(timeout);
        // ConnectTimeout must be positive; a deadline already spent is enforced by the token below.
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, ConnectTimeout = connect > TimeSpan.Zero ? connect : TimeSpan.FromMilliseconds(1) };
        using var client = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(new HttpMethod(plan.Method!), plan.Url);
        if (plan.Body is not null)
        {
            request.Content = new StringContent(plan.Body, new UTF8Encoding(false));
            var trimmed = plan.Body.TrimStart();
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(trimmed.StartsWith('{') || trimmed.StartsWith('[') ? "application/json" : "text/plain") { CharSet = "utf-8" };
        }
        foreach (var (name, value) in headers)
        {
            if (request.Headers.TryAddWithoutValidation(name, value)) continue;
            request.Content ??= new ByteArrayContent([]);
            request.Content.Headers.Remove(name);
            request.Content.Headers.TryAddWithoutValidation(name, value);
        }
        if (!headers.Any(h => h.Name.Equals("User-Agent", StringComparison.OrdinalIgnoreCase))) request.Headers.UserAgent.ParseAdd("IncidentOps");

        var limit = OperationDeadline.Cap(timeout);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (!OperationDeadline.Bounds(timeout)) call.CancelAfter(limit);
        sink.Verbose($"Sending: {plan.Target}");
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, call.Token).ConfigureAwait(false);
            var body = await ReadCappedAsync(response, call.Token).ConfigureAwait(false);
            sw.Stop();
            var status = (int)response.StatusCode;
            var ok = status is >= 200 and < 300;
            return new ServiceActionResult
            {
                Service = service.FullName, Name = plan.Action.Name, Kind = plan.Action.Kind, Target = plan.Target, StatusCode = status,
                Duration = sw.Elapsed, Succeeded = ok, Outcome = ok ? "Succeeded" : $"HTTP {status} {response.ReasonPhrase}".TrimEnd(),
                Output = Excerpt(body), StartedAt = started,
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IncidentOpsException(DeadlineErrorIds.ConnectionTimeout, IncidentOpsErrorCategory.OperationTimeout,
                $"{plan.Target} did not answer within {limit.TotalSeconds:0.#} s, so the request was abandoned. The service may still have acted on it: check before running the action again. Raise -TimeoutSec (or the action's timeout) if it is known to be slow.")
            { TargetObject = plan.Target };
        }
        catch (HttpRequestException ex)
        {
            throw new IncidentOpsException(ActionErrorIds.HttpUnreachable, IncidentOpsErrorCategory.ConnectionError,
                $"The action '{plan.Action.Name}' could not reach {plan.Target}: {ex.Message}{(ex.InnerException is null || ex.Message.Contains(ex.InnerException.Message, StringComparison.Ordinal) ? "" : " (" + ex.InnerException.Message + ")")}. Check the service's baseUrl and that it is up.", ex)
            { TargetObject = plan.Target };
        }
    }

    /// <summary>The error of a failed result: ActionHttpFailed or ActionCommandFailed, with what came back.</summary>
    public static IncidentOpsException Failure(ServiceActionResult result) => result.Kind == ServiceActionKind.Http
        ? new IncidentOpsException(ActionErrorIds.HttpFailed, IncidentOpsErrorCategory.InvalidResult,
            $"The action '{result.Name}' of {result.Service} failed: {result.Target} answered {result.Outcome}.{(string.IsNullOrWhiteSpace(result.Output) ? "" : " Response: " + result.Output)}")
        { TargetObject = result }
        : new IncidentOpsException(ActionErrorIds.CommandFailed, IncidentOpsErrorCategory.FromStdErr,
            $"The action '{result.Name}' of {result.Service} failed: {result.Target} exited with code {result.ExitCode}.{(string.IsNullOrWhiteSpace(result.Output) ? "" : " Output: " + result.Output)}")
        { TargetObject = result };

    /// <summary>The timeline's one-line result: what was sent and what came back.</summary>
    public static string Summary(ServiceActionResult r) =>
        $"{r.Target}: {(r.StatusCode is { } s ? $"HTTP {s}" : $"exit code {r.ExitCode}")}{(r.Succeeded ? "" : $" ({r.Outcome})")} in {r.Duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    private static async Task<string> ReadCappedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxResponseBytes];
        var total = 0;
        int n;
        while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0) total += n;
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static string? Excerpt(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        if (text.Length > MaxOutputChars) text = text[..MaxOutputChars] + " ...";
        return SecretRedactor.Redact(text);
    }
}
