using IncidentOps.Engine.Notifications;
using IncidentOps.Engine.Platforms;
using System.Globalization;
using IncidentOps.Config;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace IncidentOps.Engine.Config;

/// <summary>
/// Turns incidentops.yml text into <see cref="IncidentOpsConfig"/>. It walks the YAML node tree itself
/// (rather than deserialising) so that every finding names the file, line and column, unknown keys get
/// the closest valid key, and secret-bearing values never leave as plain text.
/// </summary>
public static partial class ConfigParser
{
    private static readonly string[] RootKeys = ["version", "severities", "environments", "channels", "routing", "store", "tools", "alerting"];
    private static readonly string[] SeverityKeys = ["name", "definition", "responseTarget", "updateEvery", "escalation", "pagerDutySeverity", "statuspageImpact"];
    private static readonly string[] EnvironmentKeys = ["services"];
    /// <summary>The keys every service may have; each platform provider adds its own (PlatformRegistry.ServiceKeys).</summary>
    private static readonly string[] ServiceKeys = ["platform", .. PlatformRegistry.ServiceKeys, "health", "postgres", "redis", "baseUrl", "actions"];
    private static readonly string[] HealthKeys = ["url", "expectStatus", "method", "conditions", "timeout", "caCertificate"];
    private static readonly string[] PostgresKeys = ["connectionString", "tunnel", "caCertificate", .. PlatformRegistry.Databases.Select(d => d.ConfigKey)];
    private static readonly string[] RedisKeys = ["url", "tunnel", "caCertificate"];
    private static readonly string[] StoreKeys = ["kind", "path", "connectionString", "schema"];
    private static readonly string[] ToolKeys = [.. PlatformRegistry.Tools.Select(t => t.Name)];

    public static IncidentOpsConfig Defaults() => new() { Severities = DefaultSeverities.Levels };

    /// <summary>
    /// Deepest nesting of lists and mappings a configuration may have. The real shape needs 6; YamlDotNet builds
    /// its node tree recursively, so 50,000 nested '[' overflowed the stack and killed pwsh (an uncatchable crash,
    /// in every session started in a folder holding such an incidentops.yml).
    /// </summary>
    public const int MaxDepth = 64;

    public static ConfigLoadResult Parse(string text, string file)
    {
        var ctx = new Ctx(file);
        if (LoadYaml(ctx, text) is not { } stream) return new ConfigLoadResult(null, ctx.Findings);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            return new ConfigLoadResult(new IncidentOpsConfig { Path = file, Severities = DefaultSeverities.Levels }, ctx.Findings);
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            ctx.Error(ConfigErrorIds.ConfigInvalidShape, "The file must be a mapping of keys (version, severities, environments, channels, routing, store).", stream.Documents[0].RootNode);
            return new ConfigLoadResult(null, ctx.Findings);
        }

        var version = 1;
        IReadOnlyList<SeverityLevel> severities = DefaultSeverities.Levels;
        var environments = new List<EnvironmentConfig>();
        var channels = new List<ChannelConfig>();
        var routing = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        YamlMappingNode? routingNode = null;
        var store = new StoreConfig();
        var tools = new ToolPaths();
        var componentKeys = new List<(string Where, string Key, YamlNode Node)>();
        var alerting = (Config: new AlertingConfig(), Nodes: new List<AlertRuleNodes>());

        // Tunnels (postgres.tunnel, redis.tunnel) take their CLI's path from tools:, wherever tools: stands in the file.
        if (root.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: "tools" }).Value is { } toolsNode) tools = ctx.Tools = ParseTools(ctx, toolsNode);
        foreach (var (key, value) in ctx.Entries(root, RootKeys, "the top level"))
        {
            switch (key)
            {
                case "version":
                    var v = ctx.Scalar(value, "version");
                    if (v is not null && (!int.TryParse(v, out version) || version != 1))
                        ctx.Error(ConfigErrorIds.ConfigUnsupportedVersion, $"version '{v}' is not supported; this module reads version 1.", value);
                    break;
                case "severities": severities = ParseSeverities(ctx, value); break;
                case "environments": environments = ParseEnvironments(ctx, value); break;
                case "channels": channels = ParseChannels(ctx, value, componentKeys); break;
                case "routing": routingNode = value as YamlMappingNode; if (routingNode is null) ctx.Error(ConfigErrorIds.ConfigInvalidShape, "routing must map severities to lists of channel names.", value); break;
                case "store": store = ParseStore(ctx, value); break;
                case "tools": break;
                case "alerting": alerting = ParseAlerting(ctx, value); break;
            }
        }

        if (routingNode is not null) ParseRouting(ctx, routingNode, severities, channels, routing);

        CheckComponentKeys(ctx, environments, componentKeys);
        CheckAlerting(ctx, alerting.Nodes, severities, channels, environments);

        var config = new IncidentOpsConfig
        {
            Path = file, Version = version, Severities = severities, Environments = environments,
            Channels = channels, Routing = routing, Store = store, Tools = tools, Alerting = alerting.Config,
        };
        return new ConfigLoadResult(config, ctx.Findings);
    }

    /// <summary>The YAML document tree, or null after an error finding (malformed YAML, or nested deeper than MaxDepth).</summary>
    private static YamlStream? LoadYaml(Ctx ctx, string text)
    {
        var stream = new YamlStream();
        try
        {
            // Count the depth on the parser's events (a loop, not recursion) before building any tree.
            var parser = new Parser(new StringReader(text));
            var depth = 0;
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case YamlDotNet.Core.Events.SequenceStart or YamlDotNet.Core.Events.MappingStart:
                        if (++depth > MaxDepth)
                        {
                            var at = parser.Current.Start;
                            ctx.Error(ConfigErrorIds.ConfigTooDeep, $"The YAML nests lists and mappings more than {MaxDepth} levels deep here. A configuration needs a handful of levels: check this line for stray '[' or '{{'.", (int)at.Line, (int)at.Column);
                            return null;
                        }
                        break;
                    case YamlDotNet.Core.Events.SequenceEnd or YamlDotNet.Core.Events.MappingEnd:
                        depth--;
                        break;
                }
            }
            stream.Load(new StringReader(text));
            return stream;
        }
        catch (YamlException ex)
        {
            var reason = ex.InnerException?.Message ?? ex.Message;
            // YamlDotNet prefixes its messages with the position; keep only the reason.
            var paren = reason.IndexOf("): ", StringComparison.Ordinal);
            if (reason.StartsWith("(Line", StringComparison.Ordinal) && paren > 0) reason = reason[(paren + 3)..];
            ctx.Error(ConfigErrorIds.ConfigSyntaxError, $"The YAML is malformed: {reason}", (int)ex.Start.Line, (int)ex.Start.Column);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet reports some unterminated flow collections ('a: [1, 2' at the end of the file) this way.
            var (line, column) = EndOf(text);
            ctx.Error(ConfigErrorIds.ConfigSyntaxError, $"The YAML is malformed: it ends inside an unclosed list or mapping ({ex.Message}). Close every '[' with ']' and every '{{' with '}}'.", line, column);
            return null;
        }
    }

    /// <summary>routing: severity to channel names; each must be defined.</summary>
    private static void ParseRouting(Ctx ctx, YamlMappingNode routingNode, IReadOnlyList<SeverityLevel> severities, List<ChannelConfig> channels, Dictionary<string, string[]> routing)
    {
        foreach (var (sev, list) in ctx.Entries(routingNode, null, "routing"))
        {
            if (!severities.Any(s => s.Id.Equals(sev, StringComparison.OrdinalIgnoreCase)))
                ctx.Error(ConfigErrorIds.ConfigUnknownSeverity, $"routing names severity '{sev}', which is not defined.{Suggest(sev, severities.Select(s => s.Id))} Defined: {string.Join(", ", severities.Select(s => s.Id))}.", KeyNode(routingNode, sev));
            var names = ctx.StringList(list, $"routing.{sev}");
            foreach (var n in names)
                if (!channels.Any(c => c.Name.Equals(n, StringComparison.OrdinalIgnoreCase)))
                    ctx.Error(ConfigErrorIds.ConfigUnknownChannel, $"routing.{sev} names channel '{n}', which is not defined under channels.{Suggest(n, channels.Select(c => c.Name))}", list);
            routing[sev] = names;
        }
    }

    private static List<SeverityLevel> ParseSeverities(Ctx ctx, YamlNode node)
    {
        var list = new List<SeverityLevel>();
        if (node is not YamlMappingNode map) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, "severities must map ids (P0, P1, ...) to their definitions.", node); return [.. DefaultSeverities.Levels]; }
        var rank = 0;
        foreach (var (id, value) in ctx.Entries(map, null, "severities"))
        {
            if (value is not YamlMappingNode s) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"severities.{id} must be a mapping with name and responseTarget.", value); continue; }
            string? name = null, definition = null, pd = null, sp = null;
            TimeSpan? response = null, update = null;
            string[] escalation = [];
            foreach (var (k, v) in ctx.Entries(s, SeverityKeys, $"severities.{id}"))
            {
                switch (k)
                {
                    case "name": name = ctx.Scalar(v, k); break;
                    case "definition": definition = ctx.Scalar(v, k); break;
                    case "responseTarget": response = ctx.Duration(v, $"severities.{id}.responseTarget"); break;
                    case "updateEvery": update = ctx.Duration(v, $"severities.{id}.updateEvery"); break;
                    case "escalation": escalation = ctx.StringList(v, k); break;
                    case "pagerDutySeverity":
                        pd = ctx.Scalar(v, k);
                        if (pd is not null && pd is not ("critical" or "error" or "warning" or "info"))
                            ctx.Error(ConfigErrorIds.ConfigInvalidValue, $"severities.{id}.pagerDutySeverity is '{pd}'; expected critical, error, warning or info.", v);
                        break;
                    case "statuspageImpact":
                        sp = ctx.Scalar(v, k);
                        if (sp is not null && sp is not ("none" or "minor" or "major" or "critical" or "maintenance"))
                            ctx.Error(ConfigErrorIds.ConfigInvalidValue, $"severities.{id}.statuspageImpact is '{sp}'; expected none, minor, major or critical.", v);
                        break;
                }
            }
            if (name is null) ctx.Error(ConfigErrorIds.ConfigMissingField, $"severities.{id} needs a name (for example: name: Critical).", s);
            if (response is null) ctx.Error(ConfigErrorIds.ConfigMissingField, $"severities.{id} needs a responseTarget (for example: responseTarget: 15m).", s);
            list.Add(new SeverityLevel
            {
                Id = id, Name = name ?? id, Definition = definition, ResponseTarget = response ?? TimeSpan.Zero, UpdateEvery = update,
                Escalation = escalation, PagerDutySeverity = pd, StatuspageImpact = sp, Rank = rank++,
            });
        }
        if (list.Count == 0) ctx.Error(ConfigErrorIds.ConfigMissingField, "severities is empty; define at least one level or remove the key to use P0–P3.", node);
        return list;
    }

    private static List<EnvironmentConfig> ParseEnvironments(Ctx ctx, YamlNode node)
    {
        var list = new List<EnvironmentConfig>();
        if (node is not YamlMappingNode map) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, "environments must map environment names to their services.", node); return list; }
        foreach (var (envName, value) in ctx.Entries(map, null, "environments"))
        {
            CheckKeyName(ctx, "environments", "environment", envName, KeyNode(map, envName));
            var services = new List<ServiceTarget>();
            if (value is not YamlMappingNode env) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"environments.{envName} must be a mapping with a services key.", value); continue; }
            foreach (var (k, v) in ctx.Entries(env, EnvironmentKeys, $"environments.{envName}"))
            {
                if (v is not YamlMappingNode svcMap) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"environments.{envName}.services must map service names to their settings.", v); continue; }
                foreach (var (svcName, svcNode) in ctx.Entries(svcMap, null, $"environments.{envName}.services"))
                {
                    CheckKeyName(ctx, $"environments.{envName}.services", "service", svcName, KeyNode(svcMap, svcName));
                    var svc = ParseService(ctx, envName, svcName, svcNode);
                    if (svc is not null) services.Add(svc);
                }
            }
            list.Add(new EnvironmentConfig { Name = envName, Services = services });
        }
        return list;
    }

    /// <summary>
    /// An environment or service name is typed on the command line (-Service production/api) and travels in objects and
    /// messages: one that starts with '-' would read as a parameter or option, and a control character would split a line.
    /// </summary>
    private static void CheckKeyName(Ctx ctx, string where, string what, string name, YamlNode at)
    {
        string? why = name.StartsWith('-') ? "starts with '-', so it would read as an option or parameter name"
            : name.Any(char.IsControl) ? "holds a control character (a newline, a tab)"
            : null;
        if (why is not null)
            ctx.Error(ConfigErrorIds.ConfigInvalidName, $"The {what} name '{string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()))}' under {where} {why}. Rename it: start it with a letter or digit (for example: api, production).", at);
    }

    private static ServiceTarget? ParseService(Ctx ctx, string env, string name, YamlNode node)
    {
        var where = $"environments.{env}.services.{name}";
        if (node is not YamlMappingNode map) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where} must be a mapping (platform, health, postgres, redis, ...).", node); return null; }
        var platform = PlatformKind.None;
        YamlNode? platformNode = null;
        ConfigValue? redis = null;
        TunnelConfig? redisTunnel = null;
        ConfigValue? redisCa = null;
        var options = new Dictionary<string, object>(StringComparer.Ordinal);
        var health = new List<HealthEndpoint>();
        PostgresTarget? pg = null;
        YamlNode? baseUrlNode = null, actionsNode = null;
        foreach (var (k, v) in ctx.Entries(map, ServiceKeys, where))
        {
            switch (k)
            {
                case "platform":
                    platformNode = v;
                    var p = ctx.Scalar(v, k);
                    if (p is not null && !PlatformRegistry.TryParseConfigName(p, out platform))
                        ctx.Error(ConfigErrorIds.ConfigUnknownPlatform, $"{where}.platform is '{p}', which is not a platform.{Suggest(p, PlatformRegistry.Platforms.Select(x => x.ConfigNames[0]))} Expected {PlatformRegistry.PlatformList(config: true)}.", v);
                    break;
                case "health": health = ParseHealth(ctx, v, where + ".health"); break;
                case "postgres": pg = ParsePostgres(ctx, v, where + ".postgres"); break;
                case "baseUrl": baseUrlNode = v; break;
                case "actions": actionsNode = v; break;
                case "redis":
                    if (v is YamlMappingNode rm)
                    {
                        foreach (var (rk, rv) in ctx.Entries(rm, RedisKeys, where + ".redis"))
                            if (rk == "tunnel") redisTunnel = ParseTunnel(ctx, rv, where + ".redis.tunnel");
                            else if (rk == "caCertificate") redisCa = ctx.Value(rv, rk, isSecret: false);
                            else redis = ctx.Value(rv, rk, isSecret: true, isConnection: true);
                        if (redis is null && redisCa is not null) ctx.Error(ConfigErrorIds.ConfigMissingField, $"{where}.redis has a caCertificate but no url: add url: env:REDIS_URL (a rediss:// URL).", rm);
                        if (redis is null && redisTunnel is not null) ctx.Error(ConfigErrorIds.ConfigMissingField, $"{where}.redis has a tunnel but no url: add url: env:REDIS_URL (the host and port as the far end of the tunnel sees them).", rm);
                    }
                    else redis = ctx.Value(v, k, isSecret: true, isConnection: true);
                    break;
                default:
                    // A platform provider's key: read as the provider declared it.
                    if (PlatformRegistry.ServiceKey(k) is { } key && ReadProviderKey(ctx, v, where, key) is { } value) options[k] = value;
                    break;
            }
        }
        var provider = PlatformRegistry.Platform(platform);
        foreach (var key in provider?.ConfigKeys ?? [])
            if (key.Default is not null && !options.ContainsKey(key.Key)) options[key.Key] = key.Default;
        var (baseUrl, actions) = ParseServiceActions(ctx, env, name, where, platform, baseUrlNode, actionsNode, health);
        var service = new ServiceTarget
        {
            Environment = env, Service = name, Platform = platform, Options = options, Health = health, Postgres = pg, Redis = redis, RedisTunnel = redisTunnel, RedisCaCertificate = redisCa,
            BaseUrl = baseUrl, Actions = actions, Location = ctx.Loc(map),
        };
        // The platform's provider says which of its keys the service must have.
        if (provider?.ConfigKeys.FirstOrDefault(k => k.Required && k.OneOf is null && !options.ContainsKey(k.Key)) is { } missing)
            ctx.Error(ConfigErrorIds.ConfigMissingField, $"{where} runs on {platform} and needs '{missing.Key}' (for example: {missing.Key}: {missing.Example ?? name}).", platformNode ?? map);
        // Alternatives (Kubernetes: deployment, statefulSet or daemonSet): exactly one of the group.
        foreach (var group in provider?.ConfigKeys.Where(k => k.OneOf is not null).GroupBy(k => k.OneOf) ?? [])
        {
            var given = group.Where(k => options.ContainsKey(k.Key)).ToList();
            var names = PlatformRegistry.Or(group.Select(k => $"'{k.Key}'"));
            if (given.Count == 0 && group.Any(k => k.Required))
                ctx.Error(ConfigErrorIds.ConfigMissingField, $"{where} runs on {platform} and needs one of {names} (for example: {group.First().Key}: {group.First().Example ?? name}).", platformNode ?? map);
            else if (given.Count > 1)
                ctx.Error(ConfigErrorIds.ConfigInvalidValue, $"{where} has {PlatformRegistry.Or(given.Select(k => $"'{k.Key}'")).Replace(" or ", " and ", StringComparison.Ordinal)}; give only one of {names}: a service is one {group.Key}.", platformNode ?? map);
        }
        return service;
    }

    /// <summary>Reads one platform provider's key under a service, as the provider declared it.</summary>
    private static object? ReadProviderKey(Ctx ctx, YamlNode v, string where, ProviderConfigKey key)
    {
        var k = key.Key;
        switch (key.Type)
        {
            case ConfigKeyType.Reference: return ctx.Value(v, k, isSecret: false);
            case ConfigKeyType.NameList:
                var list = ctx.StringList(v, k);
                if (key.NameKind is { } listKind) foreach (var c in list) CheckName(ctx, v, c, $"{where}.{k}", listKind);
                return list;
            case ConfigKeyType.Path:
                var path = ctx.Scalar(v, k);
                return path is null ? null : Path.GetFullPath(ExpandHome(path), Path.GetDirectoryName(ctx.File) ?? ".");
            case ConfigKeyType.Text: return ctx.Scalar(v, k);
            default: return Named(ctx, v, k, where, key.NameKind ?? TargetNames.Token);
        }
    }

    // A name that reaches a CLI is checked for its kind where it is written (the same rule as the parameters).
    private static string? Named(Ctx ctx, YamlNode node, string key, string where, TargetNames.Kind kind)
    {
        var value = ctx.Scalar(node, key);
        if (value is not null) CheckName(ctx, node, value, $"{where}.{key}", kind);
        return value;
    }

    private static void CheckName(Ctx ctx, YamlNode node, string value, string where, TargetNames.Kind kind)
    {
        // A name that says which target a command acts on (app, deployment, namespace, context, unit, host, components) is
        // taken as written. It is never read from an env:/file:/secret: reference: the services' name properties bind into
        // the App cmdlets as text, so a reference would have reached kubectl or ssh as the text 'env:X' (an unknown context
        // or host), and a resolver that skipped it would have fallen back to the default (the current context, this
        // machine): another target. Refused here, at load, with the file and line.
        if (value.StartsWith("env:", StringComparison.Ordinal) || value.StartsWith("file:", StringComparison.Ordinal) || value.StartsWith("secret:", StringComparison.Ordinal))
        {
            ctx.Error(ConfigErrorIds.ConfigInvalidReference,
                $"{where} is '{value}', a reference, but {where} names the target commands act on, so it is taken only as written (a reference there was never resolved). " +
                "Write the name itself, or keep one configuration file per place and choose it with -ConfigPath or $env:INCIDENTOPS_CONFIG.", node);
            return;
        }
        if (TargetNames.Error(where, value, kind, where) is { } message) ctx.Error(ConfigErrorIds.ConfigInvalidName, message.Replace(" Nothing was run.", "", StringComparison.Ordinal), node);
    }

    private static List<HealthEndpoint> ParseHealth(Ctx ctx, YamlNode node, string where)
    {
        var list = new List<HealthEndpoint>();
        var items = node is YamlSequenceNode seq ? seq.Children : (IList<YamlNode>)[node];
        foreach (var item in items)
        {
            if (item is YamlScalarNode s)
            {
                if (CheckUrl(ctx, s.Value, item, where)) list.Add(new HealthEndpoint { Url = s.Value! });
                continue;
            }
            if (item is not YamlMappingNode m) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where} entries are URLs or mappings with url.", item); continue; }
            string? url = null, method = null;
            int[]? expect = null;
            string[] conditions = [];
            TimeSpan? timeout = null;
            ConfigValue? ca = null;
            foreach (var (k, v) in ctx.Entries(m, HealthKeys, where))
            {
                switch (k)
                {
                    case "url": url = ctx.Scalar(v, k); break;
                    case "method": method = ctx.Scalar(v, k); break;
                    case "conditions": conditions = ctx.StringList(v, k); break;
                    case "timeout": timeout = ctx.Duration(v, where + ".timeout"); break;
                    case "caCertificate": ca = ctx.Value(v, k, isSecret: false); break;
                    case "expectStatus":
                        var codes = ctx.StringList(v, k);
                        var parsed = new List<int>();
                        foreach (var c in codes)
                            if (int.TryParse(c, out var code) && code is >= 100 and <= 599) parsed.Add(code);
                            else ctx.Error(ConfigErrorIds.ConfigInvalidValue, $"{where}.expectStatus '{c}' is not an HTTP status code (100-599).", v);
                        expect = parsed.ToArray();
                        break;
                }
            }
            if (url is null) { ctx.Error(ConfigErrorIds.ConfigMissingField, $"{where} entry needs a url.", m); continue; }
            if (CheckUrl(ctx, url, m, where))
                list.Add(new HealthEndpoint { Url = url, Method = method, ExpectStatus = expect, Conditions = conditions, Timeout = timeout, CaCertificate = ca });
        }
        return list;
    }

    private static (int Line, int Column) EndOf(string text)
    {
        var trimmed = text.TrimEnd();
        var line = 1 + trimmed.Count(c => c == '\n');
        var column = trimmed.Length - (trimmed.LastIndexOf('\n') + 1) + 1;
        return (line, column);
    }

    /// <summary>
    /// Why a channel URL cannot be used, or null. Notifications carry incident details (and the URL itself is a
    /// credential), so only https is accepted, except for loopback receivers (local relays and tests). The message
    /// never repeats the URL.
    /// </summary>
    public static string? ChannelUrlProblem(string url)
    {
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var u) || string.IsNullOrEmpty(u.Host))
            return "is not an absolute URL with a host (for example https://hooks.slack.com/services/...)";
        if (u.Scheme == Uri.UriSchemeHttps) return null;
        if (u.Scheme == Uri.UriSchemeHttp)
            return u.IsLoopback ? null : $"uses http:// to '{u.Host}': use https:// (plain http is accepted only for loopback receivers)";
        return $"uses the scheme '{u.Scheme}': use https://";
    }

    private static bool CheckUrl(Ctx ctx, string? url, YamlNode node, string where)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps)) return true;
        ctx.Error(ConfigErrorIds.ConfigInvalidValue, $"{where}: '{url}' is not an absolute http:// or https:// URL.", node);
        return false;
    }

    /// <summary>postgres: a connection string, or a mapping with connectionString and one key per managed database provider (PlatformRegistry).</summary>
    private static PostgresTarget ParsePostgres(Ctx ctx, YamlNode node, string where)
    {
        if (node is YamlScalarNode) return new PostgresTarget { ConnectionString = ctx.Value(node, "postgres", isSecret: true, isConnection: true) };
        ConfigValue? cs = null;
        TunnelConfig? tunnel = null;
        ConfigValue? ca = null;
        var managed = new Dictionary<string, ConfigValue>(StringComparer.OrdinalIgnoreCase);
        if (node is YamlMappingNode m)
            foreach (var (k, v) in ctx.Entries(m, PostgresKeys, where))
            {
                if (k == "connectionString") { cs = ctx.Value(v, k, isSecret: true, isConnection: true); continue; }
                if (k == "tunnel") { tunnel = ParseTunnel(ctx, v, where + ".tunnel"); continue; }
                if (k == "caCertificate") { ca = ctx.Value(v, k, isSecret: false); continue; }
                var provider = PlatformRegistry.Databases.First(d => d.ConfigKey == k);
                if (ctx.Value(v, k, isSecret: false) is not { } value) continue;
                if (value.Kind == ConfigValueKind.Literal) CheckName(ctx, v, value.ToString(), $"{where}.{k}", provider.NameKind);
                managed[k] = value;
            }
        else ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where} must be a connection string or a mapping with connectionString.", node);
        if (tunnel is not null && cs is null) ctx.Error(ConfigErrorIds.ConfigMissingField, $"{where} has a tunnel but no connectionString: add connectionString: env:DATABASE_URL (the host and port as the far end of the tunnel sees them).", node);
        if (ca is not null && cs is null) ctx.Error(ConfigErrorIds.ConfigMissingField, $"{where} has a caCertificate but no connectionString: add connectionString: env:DATABASE_URL (with sslmode=verify-full).", node);
        return new PostgresTarget { ConnectionString = cs, Managed = managed, Tunnel = tunnel, CaCertificate = ca };
    }

    /// <summary>
    /// Statuspage components are keyed by a service: its name (`api`, in whichever environment) or
    /// `environment/service` (`production/api`, the form incidents record). Any other key would silently never
    /// match, so it is an error.
    /// </summary>
    private static void CheckComponentKeys(Ctx ctx, List<EnvironmentConfig> environments, List<(string Where, string Key, YamlNode Node)> keys)
    {
        if (keys.Count == 0) return;
        var qualified = environments.SelectMany(e => e.Services.Select(s => $"{e.Name}/{s.Service}")).ToList();
        foreach (var (where, key, node) in keys)
        {
            if (qualified.Contains(key, StringComparer.OrdinalIgnoreCase)) continue;
            // A bare service name stands for that service in every environment that has it (the README's `api`).
            if (qualified.Any(q => q[(q.IndexOf('/') + 1)..].Equals(key, StringComparison.OrdinalIgnoreCase))) continue;
            var names = qualified.Select(q => q[(q.IndexOf('/') + 1)..]).Distinct(StringComparer.OrdinalIgnoreCase).Concat(qualified).ToList();
            ctx.Error(ConfigErrorIds.ConfigUnknownComponent,
                qualified.Count == 0
                    ? $"{where}.components has '{key}', but no services are defined under environments. Key components by a service defined there (api or production/api)."
                    : $"{where}.components has '{key}', which names no service.{Suggest(key, names)} Key components by service name or environment/service: {string.Join(", ", qualified)}.", node);
        }
    }

    /// <summary>
    /// Channels: `type` picks the provider (the registry), and the provider's options say which other keys the
    /// channel accepts, which are secret, required or URLs. This parser knows no channel's fields.
    /// </summary>
    private static List<ChannelConfig> ParseChannels(Ctx ctx, YamlNode node, List<(string Where, string Key, YamlNode Node)> componentKeys)
    {
        var list = new List<ChannelConfig>();
        if (node is not YamlMappingNode map) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, "channels must map channel names to their settings.", node); return list; }
        foreach (var (name, value) in ctx.Entries(map, null, "channels"))
        {
            var where = $"channels.{name}";
            if (value is not YamlMappingNode m) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where} must be a mapping with a type.", value); continue; }
            list.Add(ParseChannel(ctx, name, where, m, componentKeys));
        }
        return list;
    }

    /// <summary>One channel: its type's provider, then the keys that provider accepts, then the provider's own checks.</summary>
    private static ChannelConfig ParseChannel(Ctx ctx, string name, string where, YamlMappingNode m, List<(string Where, string Key, YamlNode Node)> componentKeys)
    {
        var provider = ChannelProviderOf(ctx, where, m);
        // With an unknown type, every provider's keys are accepted, so the one error is the type.
        var options = provider?.Options ?? ChannelProviders.All.SelectMany(p => p.Options).DistinctBy(o => o.Key).ToList();
        var values = new Dictionary<string, ConfigValue>(StringComparer.OrdinalIgnoreCase);
        var maps = new Dictionary<string, IReadOnlyDictionary<string, ConfigValue>>(StringComparer.OrdinalIgnoreCase);
        var templates = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string[] allowed = ["type", .. options.Select(o => o.Key), "templates"];
        foreach (var (k, v) in ctx.Entries(m, allowed, where))
        {
            if (k == "type") continue;
            if (k == "templates") { ParseChannelTemplates(ctx, where, v, templates); continue; }
            var option = options.First(o => o.Key == k);
            if (option.Shape == ChannelOptionShape.ServiceMap) maps[k] = ParseChannelServiceMap(ctx, where, k, option, v, componentKeys);
            else if (option.Shape == ChannelOptionShape.List) maps[k] = ParseChannelList(ctx, where, k, option, v);
            else if (ctx.Value(v, k, isSecret: option.Secret) is { } scalar)
            {
                values[k] = scalar;
                if (option.IsUrl && scalar is { IsReference: false } && ChannelUrlProblem(scalar.GetRawUnsafe()) is { } problem)
                    ctx.Error(ConfigErrorIds.ConfigInvalidUrl, $"{where}.{k} {problem}.", v);
            }
        }
        if (provider is not null) CheckChannel(ctx, where, m, provider, values, maps);
        var channel = new ChannelConfig
        {
            Name = name, Type = provider?.Type ?? default, Options = values, Maps = maps, Templates = templates, Location = ctx.Loc(m),
        };
        return provider is null ? channel : new ChannelConfig
        {
            Name = name, Type = provider.Type, Options = values, Maps = maps, Templates = templates, Location = channel.Location,
            Endpoint = provider.Endpoint(channel),
        };
    }

    /// <summary>The provider a channel's `type` names, or null (with the error) when it is missing or unknown.</summary>
    private static ChannelProvider? ChannelProviderOf(Ctx ctx, string where, YamlMappingNode m)
    {
        var typeNode = m.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: "type" }).Value;
        if (typeNode is null)
        {
            ctx.Error(ConfigErrorIds.ConfigMissingField, $"{where} needs a type ({ChannelProviders.TypeList}).", m);
            return null;
        }
        var t = ctx.Scalar(typeNode, "type");
        var provider = t is null ? null : ChannelProviders.Find(t);
        if (provider is null)
            ctx.Error(ConfigErrorIds.ConfigUnknownChannelType, $"{where}.type is '{t}'.{Suggest(t ?? "", ChannelProviders.TypeNames)} Expected {ChannelProviders.TypeList}.", typeNode);
        return provider;
    }

    private static void ParseChannelTemplates(Ctx ctx, string where, YamlNode v, Dictionary<string, string> templates)
    {
        if (v is YamlMappingNode tm)
        {
            foreach (var (tk, tv) in ctx.Entries(tm, ["initial", "update", "resolved"], where + ".templates"))
                if (ctx.Scalar(tv, tk) is { } val) templates[tk] = val;
        }
        else ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where}.templates must map initial, update and resolved to template files or text.", v);
    }

    /// <summary>A service-keyed map (Statuspage components); its keys are checked against the services once all are parsed.</summary>
    private static Dictionary<string, ConfigValue> ParseChannelServiceMap(Ctx ctx, string where, string k, ChannelOption option, YamlNode v,
        List<(string Where, string Key, YamlNode Node)> componentKeys)
    {
        var entries = new Dictionary<string, ConfigValue>(StringComparer.OrdinalIgnoreCase);
        if (v is YamlMappingNode cm)
            foreach (var (ck, cv) in ctx.Entries(cm, null, $"{where}.{k}"))
            {
                var val = ctx.Value(cv, ck, option.Secret);
                if (val is not null) entries[ck] = val;
                componentKeys.Add((where, ck, KeyNode(cm, ck)));
            }
        else ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where}.{k} must map service names to {option.Description}.", v);
        return entries;
    }

    /// <summary>A list option (Slack user ids), kept as a map keyed by position.</summary>
    private static Dictionary<string, ConfigValue> ParseChannelList(Ctx ctx, string where, string k, ChannelOption option, YamlNode v)
    {
        var items = new Dictionary<string, ConfigValue>(StringComparer.OrdinalIgnoreCase);
        if (v is YamlSequenceNode seq)
        {
            foreach (var item in seq.Children)
                if (ctx.Value(item, k, option.Secret) is { } val) items[items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)] = val;
        }
        else ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where}.{k} must be a list of {option.Description} (for example [U0123ABCD, U0456EFGH]).", v);
        return items;
    }

    /// <summary>The provider's required keys, then its own checks of the values (each error at the key it names).</summary>
    private static void CheckChannel(Ctx ctx, string where, YamlMappingNode m, ChannelProvider provider, Dictionary<string, ConfigValue> values,
        Dictionary<string, IReadOnlyDictionary<string, ConfigValue>> maps)
    {
        foreach (var missing in provider.Options.Where(o => o.Required && !values.ContainsKey(o.Key) && !maps.ContainsKey(o.Key)))
            ctx.Error(ConfigErrorIds.ConfigMissingField,
                $"{where} ({provider.TypeName}) needs {(missing.Key == "url" ? "a url" : missing.Key)} (for example: {missing.Key}: {missing.Example ?? "env:NAME"}).", m);
        foreach (var problem in provider.CheckOptions(values, maps))
            ctx.Error(problem.ErrorId, $"{where}{(problem.Key is null ? "" : "." + problem.Key)}: {problem.Message}",
                problem.Key is not null && m.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode ks && ks.Value == problem.Key).Value is { } at ? at : m);
    }

    private static StoreConfig ParseStore(Ctx ctx, YamlNode node)
    {
        if (node is not YamlMappingNode m) { ctx.Error(ConfigErrorIds.ConfigInvalidShape, "store must be a mapping with kind (file or postgres).", node); return new StoreConfig(); }
        var kind = StoreKind.File;
        string? path = null;
        ConfigValue? cs = null;
        string? schema = null;
        foreach (var (k, v) in ctx.Entries(m, StoreKeys, "store"))
            switch (k)
            {
                case "kind":
                    var s = ctx.Scalar(v, k);
                    if (!Enum.TryParse(s, true, out kind)) ctx.Error(ConfigErrorIds.ConfigInvalidValue, $"store.kind is '{s}'; expected file or postgres.", v);
                    break;
                case "path": path = ctx.Scalar(v, k); if (path is not null) path = ExpandHome(path); break;
                case "connectionString": cs = ctx.Value(v, k, isSecret: true, isConnection: true); break;
                case "schema":
                    schema = ctx.Scalar(v, k);
                    if (schema is not null && !System.Text.RegularExpressions.Regex.IsMatch(schema, "^[a-z_][a-z0-9_]{0,62}$"))
                        ctx.Error(ConfigErrorIds.ConfigInvalidValue, $"store.schema is '{schema}'; use a plain PostgreSQL name: lower-case letters, digits and underscores (for example incidentops).", v);
                    break;
            }
        if (kind == StoreKind.Postgres && cs is null) ctx.Error(ConfigErrorIds.ConfigMissingField, "store.kind is postgres, so store needs a connectionString (for example: connectionString: env:INCIDENTOPS_STORE).", m);
        if (path is not null && !Path.IsPathRooted(path)) path = Path.GetFullPath(path, Path.GetDirectoryName(ctx.File) ?? ".");
        return new StoreConfig { Kind = kind, Path = path, ConnectionString = cs, Schema = schema };
    }

    private static ToolPaths ParseTools(Ctx ctx, YamlNode node)
    {
        var d = new Dictionary<string, string?>();
        if (node is YamlMappingNode m)
            foreach (var (k, v) in ctx.Entries(m, ToolKeys, "tools")) d[k] = ctx.Scalar(v, k) is { } s ? ExpandHome(s) : null;
        else ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"tools must map CLI names ({string.Join(", ", ToolKeys)}) to paths.", node);
        return new ToolPaths(d);
    }

    // "~" alone is the home folder too (before, it became a folder named "~" beside the configuration file).
    private static string ExpandHome(string p) =>
        p == "~" ? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile)
        : p.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), p[2..]) : p;

    private static YamlNode KeyNode(YamlMappingNode map, string key) =>
        map.Children.Keys.FirstOrDefault(k => k is YamlScalarNode s && s.Value == key) ?? map;

    /// <summary>" Did you mean 'x'?" for the closest candidate within a small edit distance.</summary>
    public static string Suggest(string value, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            var d = Levenshtein(value.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance) { bestDistance = d; best = c; }
        }
        return best is not null && bestDistance <= Math.Max(2, value.Length / 3) ? $" Did you mean '{best}'?" : string.Empty;
    }

    public static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    private sealed class Ctx(string file)
    {
        public string File { get; } = file;
        public List<ConfigFinding> Findings { get; } = [];
        /// <summary>The tools: paths, read before the services (tunnels run a CLI).</summary>
        public ToolPaths? Tools { get; set; }

        public ConfigLocation Loc(YamlNode n) => new(File, (int)n.Start.Line, (int)n.Start.Column);

        public void Error(string code, string message, YamlNode node) => Error(code, message, (int)node.Start.Line, (int)node.Start.Column);

        public void Error(string code, string message, int line, int column) =>
            Findings.Add(new ConfigFinding { Severity = FindingSeverity.Error, Code = code, Message = message, File = File, Line = line, Column = column });

        /// <summary>Entries of a mapping; with <paramref name="allowed"/>, unknown keys are reported with a suggestion.</summary>
        public IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode map, string[]? allowed, string where)
        {
            foreach (var (k, v) in map.Children)
            {
                if (k is not YamlScalarNode ks || string.IsNullOrEmpty(ks.Value)) { Error(ConfigErrorIds.ConfigInvalidShape, $"Keys under {where} must be plain names.", k); continue; }
                if (allowed is not null && !allowed.Contains(ks.Value, StringComparer.Ordinal))
                {
                    Error(ConfigErrorIds.ConfigUnknownKey, $"Unknown key '{ks.Value}' under {where}.{Suggest(ks.Value, allowed)} Valid keys: {string.Join(", ", allowed)}.", k);
                    continue;
                }
                yield return (ks.Value, v);
            }
        }

        public string? Scalar(YamlNode node, string key)
        {
            if (node is YamlScalarNode s) return string.IsNullOrEmpty(s.Value) && s.Style == ScalarStyle.Plain ? null : s.Value;
            Error(ConfigErrorIds.ConfigInvalidShape, $"'{key}' must be a single value, not a {(node is YamlSequenceNode ? "list" : "mapping")}.", node);
            return null;
        }

        public ConfigValue? Value(YamlNode node, string key, bool isSecret, bool isConnection = false)
        {
            var s = Scalar(node, key);
            if (s is null) return null;
            var v = new ConfigValue(s, isSecret, Loc(node), isConnection);
            if (v.IsReference && string.IsNullOrWhiteSpace(v.Reference))
                Error(ConfigErrorIds.ConfigInvalidReference, $"'{key}' is a reference with no name ('{s}'). Write env:NAME, file:PATH or secret:NAME.", node);
            return v;
        }

        public string[] StringList(YamlNode node, string key)
        {
            if (node is YamlSequenceNode seq)
                return seq.Children.Select(c => Scalar(c, key)).Where(c => c is not null).Select(c => c!).ToArray();
            var one = Scalar(node, key);
            return one is null ? [] : [one];
        }

        public TimeSpan? Duration(YamlNode node, string where)
        {
            var s = Scalar(node, where);
            if (s is null) return null;
            if (IncidentOps.Duration.TryParseSetting(s, out var d, out _, out var message)) return d;
            Error(ConfigErrorIds.ConfigInvalidDuration, $"{where}: {message}", node);
            return null;
        }
    }
}
