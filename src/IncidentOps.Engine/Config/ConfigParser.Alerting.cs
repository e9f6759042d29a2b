using IncidentOps.Config;
using IncidentOps.Engine.Alerting;
using IncidentOps.Engine.Incidents;
using YamlDotNet.RepresentationModel;

namespace IncidentOps.Engine.Config;

// The `alerting` section: defaults at the top, overrides under `services`. Checked against the severities, channels,
// services and evidence sources once the whole file is read.
public static partial class ConfigParser
{
    private static readonly string[] AlertRuleKeys = ["failureThreshold", "successThreshold", "severity", "channels", "autoResolveAfter", "evidence"];
    private static readonly string[] AlertingKeys = [.. AlertRuleKeys, "services"];

    private sealed record AlertRuleNodes(string Where, AlertRule Rule, YamlMappingNode Node);

    private static (AlertingConfig Config, List<AlertRuleNodes> Nodes) ParseAlerting(Ctx ctx, YamlNode node)
    {
        var nodes = new List<AlertRuleNodes>();
        if (node is not YamlMappingNode map)
        {
            ctx.Error(AlertingErrorIds.RuleInvalid, "alerting must be a mapping: the default rules (failureThreshold, successThreshold, severity, channels, autoResolveAfter, evidence) and services.", node);
            return (new AlertingConfig(), nodes);
        }
        var services = new Dictionary<string, AlertRule>(StringComparer.OrdinalIgnoreCase);
        var defaults = ParseAlertRule(ctx, map, "alerting", AlertingKeys);
        nodes.Add(new AlertRuleNodes("alerting", defaults, map));
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode { Value: "services" }) continue;
            if (v is not YamlMappingNode svcMap)
            {
                ctx.Error(AlertingErrorIds.RuleInvalid, "alerting.services must map services (production/api, or api) to their rules.", v);
                continue;
            }
            foreach (var (name, ruleNode) in ctx.Entries(svcMap, null, "alerting.services"))
            {
                var where = $"alerting.services.{name}";
                if (ruleNode is not YamlMappingNode ruleMap)
                {
                    ctx.Error(AlertingErrorIds.RuleInvalid, $"{where} must be a mapping of rules (for example {{ failureThreshold: 2, severity: P1 }}).", ruleNode);
                    continue;
                }
                var rule = ParseAlertRule(ctx, ruleMap, where, AlertRuleKeys);
                services[name] = rule;
                nodes.Add(new AlertRuleNodes(where, rule, ruleMap));
            }
        }
        return (new AlertingConfig { Defaults = defaults, Services = services }, nodes);
    }

    private static AlertRule ParseAlertRule(Ctx ctx, YamlMappingNode map, string where, string[] keys)
    {
        int? failure = null, success = null;
        string? severity = null;
        string[]? channels = null, evidence = null;
        TimeSpan? autoResolve = null;
        foreach (var (k, v) in ctx.Entries(map, keys, where))
        {
            switch (k)
            {
                case "failureThreshold": failure = Threshold(ctx, v, $"{where}.failureThreshold"); break;
                case "successThreshold": success = Threshold(ctx, v, $"{where}.successThreshold"); break;
                case "severity": severity = ctx.Scalar(v, k); break;
                case "channels": channels = ctx.StringList(v, k); break;
                case "evidence": evidence = ctx.StringList(v, k); break;
                case "autoResolveAfter":
                    var text = ctx.Scalar(v, k);
                    if (text is null || text.Trim().ToLowerInvariant() is "off" or "false" or "no" or "0") { autoResolve = TimeSpan.Zero; break; }
                    if (IncidentOps.Duration.TryParseSetting(text, out var d, out _, out var message)) autoResolve = d;
                    else ctx.Error(AlertingErrorIds.DurationInvalid, $"{where}.autoResolveAfter: {message} Write a duration (30m, 2h) or off (a person resolves).", v);
                    break;
            }
        }
        return new AlertRule
        {
            FailureThreshold = failure, SuccessThreshold = success, Severity = severity, Channels = channels,
            AutoResolveAfter = autoResolve, Evidence = evidence, Location = ctx.Loc(map),
        };
    }

    private static int? Threshold(Ctx ctx, YamlNode node, string where)
    {
        var s = ctx.Scalar(node, where);
        if (s is null) return null;
        if (int.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1000) return n;
        ctx.Error(AlertingErrorIds.ThresholdInvalid, $"{where} is '{s}'; it counts consecutive checks, so write a whole number from 1 to 1000 (for example 3).", node);
        return null;
    }

    private static void CheckAlerting(Ctx ctx, List<AlertRuleNodes> nodes, IReadOnlyList<SeverityLevel> severities, List<ChannelConfig> channels, List<EnvironmentConfig> environments)
    {
        var qualified = environments.SelectMany(e => e.Services.Select(s => $"{e.Name}/{s.Service}")).ToList();
        var bare = qualified.Select(q => q[(q.IndexOf('/') + 1)..]).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var sources = EvidenceSources.All.Select(s => s.Name).ToList();
        foreach (var (where, rule, node) in nodes)
        {
            YamlNode At(string key) => KeyNode(node, key);
            if (rule.Severity is { } sev && !severities.Any(s => s.Id.Equals(sev, StringComparison.OrdinalIgnoreCase)))
                ctx.Error(AlertingErrorIds.SeverityUnknown, $"{where}.severity is '{sev}', which is not defined.{Suggest(sev, severities.Select(s => s.Id))} Defined: {string.Join(", ", severities.Select(s => s.Id))}.", At("severity"));
            foreach (var c in rule.Channels ?? [])
                if (!channels.Any(x => x.Name.Equals(c, StringComparison.OrdinalIgnoreCase)))
                    ctx.Error(AlertingErrorIds.ChannelUnknown, $"{where}.channels names '{c}', which is not defined under channels.{Suggest(c, channels.Select(x => x.Name))} Defined: {(channels.Count == 0 ? "(none)" : string.Join(", ", channels.Select(x => x.Name)))}.", At("channels"));
            foreach (var e in rule.Evidence ?? [])
                if (!sources.Contains(e, StringComparer.OrdinalIgnoreCase))
                    ctx.Error(AlertingErrorIds.EvidenceSourceUnknown, $"{where}.evidence names '{e}', which is not an evidence source.{Suggest(e, sources)} Available: {string.Join(", ", sources)}.", At("evidence"));
            if (where.StartsWith("alerting.services.", StringComparison.Ordinal))
            {
                var key = where["alerting.services.".Length..];
                if (!qualified.Contains(key, StringComparer.OrdinalIgnoreCase) && !bare.Contains(key, StringComparer.OrdinalIgnoreCase))
                    ctx.Error(AlertingErrorIds.ServiceUnknown, $"alerting.services has '{key}', which names no service.{Suggest(key, bare.Concat(qualified))} Key rules by environment/service or service name: {(qualified.Count == 0 ? "(no services are defined)" : string.Join(", ", qualified))}.", node);
            }
        }
    }
}
