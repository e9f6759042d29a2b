using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
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
    IReadOnlyList<KeyValuePair<string, ConfigValue>> Headers, string? Body, CliCommand? Command)
{
    /// <summary>The body's Content-Type when the action declares none (application/json for a JSON body, else text/plain).</summary>
    public string? ContentType { get; init; }
}

/// <summary>
/// Runs the runbook actions a service declares (Invoke-ServiceAction): an HTTP call, kubectl apply/delete -f of a
/// manifest, or a command of the service's platform CLI. Every run has a deadline and stops on cancellation (the CLI's
/// process tree is killed); a non-2xx answer or a non-zero exit is a failed result, never a success.
/// </summary>
public sealed partial class ServiceActionService(IOperationSink sink, ReferenceResolver references)
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
        // A value never carries a control character (a newline starts another line of a body, another command over ssh).
        foreach (var p in action.Parameters)
            if (Unsafe(args[p]) is { } bad)
                throw ParameterInvalid(service, action, p, args[p], $"holds {bad}", "Pass the value on one line, without control characters.");
        string Fill(string text, Func<string, string> encode) =>
            ConfigParser.ActionPlaceholder().Replace(text, m => encode(args[m.Groups[1].Value]));

        switch (action.Kind)
        {
            case ServiceActionKind.Http:
            {
                var template = action.ResolvedUrl ?? action.Url!;
                // Escaped, a value stays inside its path segment or query value; '.' and '..' are not escaped and would step out of it.
                foreach (Match m in ConfigParser.ActionPlaceholder().Matches(template))
                    if (args[m.Groups[1].Value].Trim() is "." or "..")
                        throw ParameterInvalid(service, action, m.Groups[1].Value, args[m.Groups[1].Value], "would be a '.' or '..' step in the URL, which moves the request to another path",
                            "Pass the name of the thing the action is for.");
                if (!Uri.TryCreate(Fill(template, Uri.EscapeDataString), UriKind.Absolute, out var url))
                {
                    var used = ConfigParser.ActionPlaceholder().Matches(template).Select(m => m.Groups[1].Value).Distinct().ToList();
                    throw new IncidentOpsException(ActionErrorIds.ParameterInvalid, IncidentOpsErrorCategory.InvalidArgument,
                        $"The action '{action.Name}' of {service.FullName} has no valid URL with the values given for {string.Join(", ", used.Select(u => $"'{u}'"))}: {template} does not become an absolute URL with them (a value in the host name must be a host name label). Nothing was sent.")
                    { TargetObject = used.FirstOrDefault() };
                }
                var headers = action.Headers.ToList();
                var declared = headers.FirstOrDefault(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value;
                var declaredType = declared is { IsSecret: false, IsReference: false } ? declared.ToString() : null;
                string? body = null, contentType = null;
                if (action.Body is { } bodyTemplate)
                {
                    var format = BodyFormat(bodyTemplate, declaredType);
                    body = format switch
                    {
                        ActionBodyFormat.Json => FillJson(bodyTemplate, args),
                        ActionBodyFormat.Form => Fill(bodyTemplate, Uri.EscapeDataString),
                        _ => Fill(bodyTemplate, v => v),
                    };
                    contentType = format == ActionBodyFormat.Json ? "application/json" : format == ActionBodyFormat.Form ? "application/x-www-form-urlencoded" : "text/plain";
                }
                var preview = new StringBuilder($"{action.Method} {url}");
                foreach (var (name, value) in headers) preview.Append('\n').Append(name).Append(": ").Append(ShowHeader(value));
                if (body is not null) preview.Append("\n\n").Append(SecretRedactor.Redact(body));
                return new ActionPlan(action, SecretRedactor.Redact($"{action.Method} {url}"), preview.ToString(), action.Method, url, headers, body, null) { ContentType = contentType };
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
                var argv = new List<string>();
                foreach (var template in action.Command.Skip(1))
                {
                    var filled = Fill(template, v => v);
                    // A value that begins an argument with '-' is read as an option by every one of these CLIs
                    // (--context=..., --kubeconfig=..., -n other, --app other, -H host): it would choose another
                    // cluster, namespace, app, account or host than the one the action is declared for.
                    if (filled.StartsWith('-') && !template.StartsWith('-') && ConfigParser.ActionPlaceholder().Match(template) is { Success: true, Index: 0 } first)
                        throw ParameterInvalid(service, action, first.Groups[1].Value, args[first.Groups[1].Value],
                            $"would begin the argument '{Shown(filled)}' of {action.Command[0]} with '-', so {action.Command[0]} would read it as an option (it could choose another cluster, namespace, app, account or host)",
                            "Pass the name itself, without a leading '-'. An option the action needs belongs in its command: in incidentops.yml.");
                    argv.Add(filled);
                }
                // A CLI's other file name (fly for flyctl) runs as the tool it is, so tools: and -FlyctlPath apply.
                var tool = PlatformRegistry.Tools.FirstOrDefault(t => t.Executables.Contains(action.Command[0]))?.Name ?? action.Command[0];
                // The service's platform provider says how its CLI runs (kubectl with the context, systemctl over ssh ...).
                var command = PlatformRegistry.ActionCommand(service, tool, argv);
                return new ActionPlan(action, command.CommandLine, command.CommandLine, null, null, [], null, command);
            }
        }
    }

    /// <summary>How a body's {placeholders} are filled in.</summary>
    private enum ActionBodyFormat { Text, Json, Form }

    /// <summary>
    /// A body is JSON when its declared Content-Type is JSON (application/json, or a +json type); without a declared
    /// Content-Type, when it starts with { or [ or parses as JSON with its placeholders filled in. It is a form when its
    /// declared Content-Type is application/x-www-form-urlencoded. Anything else is text, filled in as given.
    /// </summary>
    private static ActionBodyFormat BodyFormat(string template, string? declaredType)
    {
        if (declaredType is not null)
        {
            var media = declaredType.Split(';')[0].Trim();
            if (media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase)) return ActionBodyFormat.Json;
            return media.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) ? ActionBodyFormat.Form : ActionBodyFormat.Text;
        }
        var trimmed = template.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('[')) return ActionBodyFormat.Json;
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(FillJson(template, null));
            return ActionBodyFormat.Json;
        }
        catch (System.Text.Json.JsonException) { return ActionBodyFormat.Text; }
    }

    private static readonly System.Text.Encodings.Web.JavaScriptEncoder JsonText = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    [System.Text.RegularExpressions.GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\z")]
    private static partial System.Text.RegularExpressions.Regex JsonNumber();

    /// <summary>
    /// Fills a JSON body: a placeholder inside a JSON string gets the value JSON-escaped (a quote or backslash in it stays
    /// part of the string); a placeholder outside a string gets a JSON number, true, false or null as it is, and any other
    /// value as a JSON string. No value can add, remove or rewrite a field. Null values: a stand-in, to test the shape.
    /// </summary>
    private static string FillJson(string template, IReadOnlyDictionary<string, string>? args)
    {
        var matches = ConfigParser.ActionPlaceholder().Matches(template).ToDictionary(m => m.Index);
        var sb = new StringBuilder(template.Length);
        var inString = false;
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (matches.TryGetValue(i, out var m))
            {
                var value = args?[m.Groups[1].Value];
                if (inString) sb.Append(value is null ? "" : System.Text.Json.JsonEncodedText.Encode(value, JsonText).ToString());
                else if (value is null) sb.Append('0');
                else if (value is "true" or "false" or "null" || JsonNumber().IsMatch(value)) sb.Append(value);
                else sb.Append('"').Append(System.Text.Json.JsonEncodedText.Encode(value, JsonText).ToString()).Append('"');
                i += m.Length - 1;
                continue;
            }
            sb.Append(c);
            if (inString && c == '\\' && i + 1 < template.Length) { sb.Append(template[++i]); continue; }
            if (c == '"') inString = !inString;
        }
        return sb.ToString();
    }

    /// <summary>What makes a value unusable anywhere (a control character, a line or paragraph separator, a bidirectional override), or null.</summary>
    private static string? Unsafe(string value)
    {
        foreach (var ch in value)
        {
            if (ch == '\n') return "a newline";
            if (ch == '\r') return "a carriage return";
            if (ch == '\0') return "a NUL character";
            if (char.IsControl(ch)) return $"the control character U+{(int)ch:X4}";
            if (ch is '\u2028' or '\u2029' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069'))
                return $"the character U+{(int)ch:X4}, which changes how text reads on screen";
        }
        return null;
    }

    private static string Shown(string value)
    {
        var text = value.Length > 80 ? value[..80] + "…" : value;
        return string.Concat(text.Select(ch => char.IsControl(ch) ? $"\\u{(int)ch:x4}" : ch.ToString()));
    }

    private static IncidentOpsException ParameterInvalid(ServiceTarget service, ServiceAction action, string name, string value, string why, string fix) =>
        new(ActionErrorIds.ParameterInvalid, IncidentOpsErrorCategory.InvalidArgument,
            $"The value '{Shown(value)}' given for '{name}' (the action '{action.Name}' of {service.FullName}) {why}. {fix} Nothing was run.")
        { TargetObject = name };

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
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(plan.ContentType ?? (trimmed.StartsWith('{') || trimmed.StartsWith('[') ? "application/json" : "text/plain")) { CharSet = "utf-8" };
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
