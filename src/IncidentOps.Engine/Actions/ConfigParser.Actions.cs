using System.Text.RegularExpressions;
using IncidentOps.Actions;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using YamlDotNet.RepresentationModel;

namespace IncidentOps.Engine.Config;

/// <summary>The actions: and baseUrl: keys of a service (declared runbook actions, Invoke-ServiceAction).</summary>
public static partial class ConfigParser
{
    private static readonly string[] ActionKeys = ["kind", "description", "confirmImpact", "timeout", "parameters", "method", "url", "headers", "body", "apply", "delete", "command"];
    private static readonly string[] HttpKeys = ["method", "url", "headers", "body"];
    private static readonly string[] ManifestKeys = ["apply", "delete"];
    private static readonly string[] CommandKeys = ["command"];
    private static readonly string[] ActionKinds = ["http", "manifest", "command"];

    /// <summary>The CLIs a command action may run, by platform: the platform's own CLI (its provider says which), nothing else.</summary>
    public static IReadOnlyList<string> ActionClis(PlatformKind platform) => PlatformRegistry.ActionClis(platform);

    /// <summary>{name} placeholders in a url, body or argument.</summary>
    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_-]*)\}")]
    public static partial Regex ActionPlaceholder();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*\z")]
    private static partial Regex ActionName();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_-]*\z")]
    private static partial Regex ParameterName();

    [GeneratedRegex(@"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\z")]
    private static partial Regex HeaderToken();

    private static (string? BaseUrl, IReadOnlyList<ServiceAction> Actions) ParseServiceActions(Ctx ctx, string env, string service, string where,
        PlatformKind platform, YamlNode? baseUrlNode, YamlNode? actionsNode, IReadOnlyList<HealthEndpoint> health)
    {
        string? baseUrl = null;
        if (baseUrlNode is not null)
        {
            baseUrl = ctx.Scalar(baseUrlNode, "baseUrl");
            if (baseUrl is not null && !(Uri.TryCreate(baseUrl, UriKind.Absolute, out var b) && (b.Scheme == Uri.UriSchemeHttp || b.Scheme == Uri.UriSchemeHttps)))
            {
                ctx.Error(ActionErrorIds.InvalidUrl, $"{where}.baseUrl is '{baseUrl}', which is not an absolute http:// or https:// URL (for example: baseUrl: https://api.example.com).", baseUrlNode);
                baseUrl = null;
            }
        }
        if (actionsNode is null) return (baseUrl, []);
        if (actionsNode is not YamlMappingNode map)
        {
            ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where}.actions must map action names to their definitions (for example: emergency-stop: {{ url: /api/emergency-stop }}).", actionsNode);
            return (baseUrl, []);
        }
        // Relative action URLs go to baseUrl, else to the origin of the first health endpoint.
        var effectiveBase = baseUrl ?? health.Select(h => Uri.TryCreate(h.Url, UriKind.Absolute, out var u) ? u.GetLeftPart(UriPartial.Authority) : null).FirstOrDefault(u => u is not null);
        var list = new List<ServiceAction>();
        foreach (var (name, node) in ctx.Entries(map, null, where + ".actions"))
        {
            var action = ParseAction(ctx, env, service, $"{where}.actions.{name}", name, platform, effectiveBase, node, KeyNode(map, name));
            if (action is not null) list.Add(action);
        }
        return (baseUrl, list);
    }

    /// <summary>What one action's kind-specific keys gave, and the texts whose {placeholders} must be declared.</summary>
    private sealed class ActionDraft
    {
        public string? Method, Url, ResolvedUrl, Body, Operation, Manifest;
        public Dictionary<string, ConfigValue> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);
        public string[] Command = [];
        public List<(string Text, YamlNode Node)> Used { get; } = [];
    }

    private static ServiceAction? ParseAction(Ctx ctx, string env, string service, string where, string name, PlatformKind platform, string? baseUrl, YamlNode node, YamlNode keyNode)
    {
        if (!ActionName().IsMatch(name))
            ctx.Error(ActionErrorIds.InvalidField, $"The action name '{name}' ({where}) may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit.", keyNode);
        if (node is not YamlMappingNode m)
        {
            ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where} must be a mapping (kind, url or apply or command, confirmImpact, ...).", node);
            return null;
        }
        var values = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (k, v) in ctx.Entries(m, ActionKeys, where)) values[k] = v;
        if (ParseActionKind(ctx, where, m, values) is not { } kind) return null;

        string? description = values.TryGetValue("description", out var dn) ? ctx.Scalar(dn, "description") : null;
        var impact = ParseConfirmImpact(ctx, where, values);
        var timeout = ParseActionTimeout(ctx, where, values);
        var parameters = values.TryGetValue("parameters", out var pn) ? ctx.StringList(pn, "parameters") : [];
        foreach (var p in parameters.Where(p => !ParameterName().IsMatch(p)))
            ctx.Error(ActionErrorIds.InvalidField, $"{where}.parameters has '{p}'; a parameter name holds letters, digits, '_' and '-' and starts with a letter or '_'.", pn!);

        var draft = new ActionDraft();
        switch (kind)
        {
            case ServiceActionKind.Http: ParseHttpAction(ctx, where, m, values, baseUrl, draft); break;
            case ServiceActionKind.Manifest: ParseManifestAction(ctx, where, m, values, platform, draft); break;
            case ServiceActionKind.Command: ParseCommandAction(ctx, where, m, values, platform, draft); break;
        }

        foreach (var (text, at) in draft.Used)
            foreach (Match match in ActionPlaceholder().Matches(text))
                if (!parameters.Contains(match.Groups[1].Value, StringComparer.Ordinal))
                    ctx.Error(ActionErrorIds.UndeclaredParameter, $"{where} uses {{{match.Groups[1].Value}}}, which parameters does not declare. Add it (parameters: [{match.Groups[1].Value}]) so Invoke-ServiceAction asks for it with -Parameter.", at);

        return new ServiceAction
        {
            Service = $"{env}/{service}", Environment = env, Name = name, Kind = kind, Description = description, ConfirmImpact = impact,
            Timeout = timeout, Parameters = parameters, Platform = platform, Method = draft.Method, Url = draft.Url, ResolvedUrl = draft.ResolvedUrl,
            Headers = draft.Headers, Body = draft.Body, ManifestOperation = draft.Operation, ManifestPath = draft.Manifest, Command = draft.Command, Location = ctx.Loc(m),
        };
    }

    /// <summary>The action's kind: kind:, or what its keys imply (url: http, apply/delete: manifest, command: command). Keys of another kind are errors.</summary>
    private static ServiceActionKind? ParseActionKind(Ctx ctx, string where, YamlMappingNode m, Dictionary<string, YamlNode> values)
    {
        ServiceActionKind kind;
        if (values.TryGetValue("kind", out var kindNode))
        {
            var k = ctx.Scalar(kindNode, "kind");
            if (k is null || !Enum.TryParse(k, true, out kind) || !ActionKinds.Contains(k.ToLowerInvariant()))
            {
                ctx.Error(ActionErrorIds.UnknownKind, $"{where}.kind is '{k}', which is not a kind of action.{Suggest(k ?? "", ActionKinds)} Expected http, manifest or command.", kindNode);
                return null;
            }
        }
        else if (values.ContainsKey("url")) kind = ServiceActionKind.Http;
        else if (values.ContainsKey("apply") || values.ContainsKey("delete")) kind = ServiceActionKind.Manifest;
        else if (values.ContainsKey("command")) kind = ServiceActionKind.Command;
        else
        {
            ctx.Error(ActionErrorIds.KindMissing, $"{where} does not say what to run. Give url (an http call), apply or delete (a manifest) or command (a CLI argument list), or kind: http, manifest or command.", m);
            return null;
        }

        // Keys that belong to another kind would be silently ignored: say so instead.
        var own = kind switch { ServiceActionKind.Http => HttpKeys, ServiceActionKind.Manifest => ManifestKeys, _ => CommandKeys };
        foreach (var key in HttpKeys.Concat(ManifestKeys).Concat(CommandKeys).Where(values.ContainsKey).Except(own))
            ctx.Error(ActionErrorIds.InvalidField, $"{where} is a {kind.ToString().ToLowerInvariant()} action, but has '{key}', which belongs to {(HttpKeys.Contains(key) ? "http" : ManifestKeys.Contains(key) ? "manifest" : "command")} actions. Remove it, or declare a separate action.", KeyNode(m, key));
        return kind;
    }

    private static ActionImpact ParseConfirmImpact(Ctx ctx, string where, Dictionary<string, YamlNode> values)
    {
        if (!values.TryGetValue("confirmImpact", out var ci)) return ActionImpact.High;
        var s = ctx.Scalar(ci, "confirmImpact");
        if (s is not null && Enum.TryParse(s, true, out ActionImpact impact) && Enum.IsDefined(impact) && !s.All(char.IsDigit)) return impact;
        ctx.Error(ActionErrorIds.InvalidField, $"{where}.confirmImpact is '{s}'; expected Low, Medium or High (the default).", ci);
        return ActionImpact.High;
    }

    private static TimeSpan? ParseActionTimeout(Ctx ctx, string where, Dictionary<string, YamlNode> values)
    {
        if (!values.TryGetValue("timeout", out var tn)) return null;
        var timeout = ctx.Duration(tn, where + ".timeout");
        if (timeout is not { } t || t > TimeSpan.Zero) return timeout;
        ctx.Error(ActionErrorIds.InvalidField, $"{where}.timeout must be longer than zero (for example: timeout: 30s).", tn);
        return null;
    }

    private static void ParseHttpAction(Ctx ctx, string where, YamlMappingNode m, Dictionary<string, YamlNode> values, string? baseUrl, ActionDraft a)
    {
        a.Method = "POST";
        if (values.TryGetValue("method", out var mn) && ctx.Scalar(mn, "method") is { } ms)
        {
            if (HeaderToken().IsMatch(ms)) a.Method = ms.ToUpperInvariant();
            else ctx.Error(ActionErrorIds.InvalidField, $"{where}.method is '{ms}', which is not an HTTP method (GET, POST, PUT, PATCH, DELETE).", mn);
        }
        if (!values.TryGetValue("url", out var un) || ctx.Scalar(un, "url") is not { } u)
        {
            ctx.Error(ActionErrorIds.MissingField, $"{where} is an http action and needs a url: a path relative to the service's baseUrl (url: /api/emergency-stop) or a full URL.", m);
            return;
        }
        a.Url = u;
        a.Used.Add((u, un));
        if (Uri.TryCreate(u, UriKind.Absolute, out var abs) && !u.StartsWith('/'))
        {
            if (abs.Scheme == Uri.UriSchemeHttp || abs.Scheme == Uri.UriSchemeHttps) a.ResolvedUrl = u;
            else ctx.Error(ActionErrorIds.InvalidUrl, $"{where}.url '{u}' uses the scheme '{abs.Scheme}'; use http:// or https://, or a path relative to the service's baseUrl.", un);
        }
        else if (baseUrl is null)
            ctx.Error(ActionErrorIds.BaseUrlMissing, $"{where}.url '{u}' is relative, but the service has no baseUrl and no health endpoint to take one from. Add baseUrl: https://... to the service, or write the full URL.", un);
        else a.ResolvedUrl = baseUrl.TrimEnd('/') + "/" + u.TrimStart('/');
        if (values.TryGetValue("headers", out var hn)) ParseActionHeaders(ctx, where, hn, a.Headers);
        // Like channel URLs: a credential goes over plain http only to a loopback receiver.
        if (a.ResolvedUrl is not null && a.Headers.Values.Any(h => h.IsSecret) && Uri.TryCreate(a.ResolvedUrl, UriKind.Absolute, out var target)
            && target.Scheme == Uri.UriSchemeHttp && !target.IsLoopback)
            ctx.Error(ActionErrorIds.InvalidUrl, $"{where} sends a credential header to '{target.GetLeftPart(UriPartial.Authority)}' over plain http://. Use https:// (plain http is accepted only for loopback services).", un);
        if (values.TryGetValue("body", out var bn))
        {
            if (bn is YamlScalarNode) { a.Body = ctx.Scalar(bn, "body"); if (a.Body is not null) a.Used.Add((a.Body, bn)); }
            else ctx.Error(ActionErrorIds.InvalidField, $"{where}.body must be text; write JSON as a quoted string (for example: body: '{{\"reason\": \"incident\"}}').", bn);
        }
    }

    private static void ParseActionHeaders(Ctx ctx, string where, YamlNode hn, Dictionary<string, ConfigValue> headers)
    {
        if (hn is not YamlMappingNode hm)
        {
            ctx.Error(ActionErrorIds.InvalidField, $"{where}.headers must map header names to values (for example: Authorization: secret:AdminToken).", hn);
            return;
        }
        foreach (var (h, hv) in ctx.Entries(hm, null, where + ".headers"))
        {
            if (!HeaderToken().IsMatch(h)) { ctx.Error(ActionErrorIds.InvalidField, $"{where}.headers has '{h}', which is not a valid header name.", KeyNode(hm, h)); continue; }
            var raw = ctx.Scalar(hv, h);
            if (raw is null) continue;
            // A value read through a reference, or of a credential header, is a secret: masked everywhere.
            var secret = raw.StartsWith("env:", StringComparison.Ordinal) || raw.StartsWith("file:", StringComparison.Ordinal) || raw.StartsWith("secret:", StringComparison.Ordinal)
                || SecretRedactor.IsSecretName(h) || h.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || h.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase) || h.Equals("Cookie", StringComparison.OrdinalIgnoreCase);
            var value = ctx.Value(hv, h, isSecret: secret);
            if (value is not null) headers[h] = value;
        }
    }

    private static void ParseManifestAction(Ctx ctx, string where, YamlMappingNode m, Dictionary<string, YamlNode> values, PlatformKind platform, ActionDraft a)
    {
        var hasApply = values.TryGetValue("apply", out var an);
        var hasDelete = values.TryGetValue("delete", out var deln);
        if (hasApply && hasDelete)
            ctx.Error(ActionErrorIds.InvalidField, $"{where} has both apply and delete; an action does one of them. Declare two actions.", m);
        var fileNode = hasApply ? an! : hasDelete ? deln! : null;
        a.Operation = hasApply ? "apply" : hasDelete ? "delete" : null;
        if (fileNode is null || ctx.Scalar(fileNode, a.Operation ?? "apply") is not { } file)
        {
            ctx.Error(ActionErrorIds.MissingField, $"{where} is a manifest action and needs the file to apply or delete (for example: apply: k8s/rate-limit-strict.yaml, relative to this configuration file).", fileNode ?? m);
            a.Operation ??= "apply";
            return;
        }
        a.Manifest = Path.GetFullPath(ExpandHome(file), Path.GetDirectoryName(ctx.File) ?? ".");
        if (!PlatformRegistry.AppliesManifests(platform))
            ctx.Error(ActionErrorIds.ManifestUnsupported, $"{where} applies a manifest, which needs {PlatformRegistry.ManifestClis}, but the service runs on {(PlatformRegistry.Platform(platform) is null ? "no platform" : platform.ToString())}. Manifest actions are for platform: {PlatformRegistry.ManifestPlatforms}; use a command action with the platform's CLI instead.", fileNode);
        else if (!File.Exists(a.Manifest))
            // A warning, not an error: a moved manifest must not stop every other cmdlet (New-Incident, Get-PgActivity)
            // from loading the configuration in the middle of an incident. Invoke-ServiceAction refuses this action.
            ctx.Findings.Add(new ConfigFinding
            {
                Severity = FindingSeverity.Warning, Code = ActionErrorIds.ManifestNotFound, File = ctx.File,
                Line = (int)fileNode.Start.Line, Column = (int)fileNode.Start.Column,
                Message = $"{where}: the manifest '{a.Manifest}' does not exist, so Invoke-ServiceAction cannot run this action. The path is relative to the configuration file ({Path.GetDirectoryName(ctx.File)}).",
            });
    }

    private static void ParseCommandAction(Ctx ctx, string where, YamlMappingNode m, Dictionary<string, YamlNode> values, PlatformKind platform, ActionDraft a)
    {
        if (!values.TryGetValue("command", out var cn))
        {
            ctx.Error(ActionErrorIds.MissingField, $"{where} is a command action and needs command: an argument list (for example: command: [flyctl, ips, block, '{{ip}}']).", m);
            return;
        }
        if (cn is not YamlSequenceNode cs)
        {
            ctx.Error(ActionErrorIds.InvalidField, $"{where}.command must be an argument list, never a shell string (for example: command: [flyctl, ips, block, '{{ip}}']).", cn);
            return;
        }
        a.Command = cs.Children.Select(c => ctx.Scalar(c, "command") ?? "").ToArray();
        if (a.Command.Length == 0) { ctx.Error(ActionErrorIds.MissingField, $"{where}.command is empty; start it with the platform's CLI (for example: [kubectl, annotate, ...]).", cn); return; }
        foreach (var (arg, argNode) in a.Command.Zip(cs.Children)) a.Used.Add((arg, argNode));
        var allowed = ActionClis(platform);
        if (!allowed.Contains(a.Command[0], StringComparer.Ordinal))
            ctx.Error(ActionErrorIds.CliMismatch, allowed.Count == 0
                ? $"{where}.command runs '{a.Command[0]}', but the service has no platform, so it has no platform CLI. Declare platform: (fly, digitalocean, kubernetes or systemd), or use an http action."
                : $"{where}.command runs '{a.Command[0]}', but the service runs on {platform}, whose CLI is {string.Join(" or ", allowed)}. A command action runs only the service's platform CLI (set its path under tools: if it is not on PATH).", cs.Children[0]);
    }
}
