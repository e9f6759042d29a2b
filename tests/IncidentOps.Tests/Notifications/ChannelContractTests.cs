using System.Reflection;
using System.Text.RegularExpressions;
using IncidentOps.Engine.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// The channel contract, in both directions (as PSScriptAnalyzer checks its rules against its docs):
/// every registered provider has README documentation of its type and keys, a fixture with its source noted,
/// and a loopback test per operation; every channel type the README or examples/incidentops.yml names has a
/// provider. Each test lists every miss, so adding a channel shows at once what is still missing.
/// </summary>
public partial class ChannelContractTests
{
    private static string Readme => File.ReadAllText(Path.Combine(Paths.RepoRoot, "README.md"));

    /// <summary>The rows of the README's channel table (under "### Channel types"), by type name.</summary>
    internal static Dictionary<string, string> ReadmeChannelRows(string readme)
    {
        var start = readme.IndexOf("\n### Channel types", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '### Channel types' section (the channel table the contract test reads).");
        var end = readme.IndexOf("\n##", start + 5, StringComparison.Ordinal);
        var section = end < 0 ? readme[start..] : readme[start..end];
        return section.Split('\n').Select(l => RowType().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => m.Value, StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^\|\s*`([a-z0-9-]+)`\s*\|.*$")]
    private static partial Regex RowType();

    [Fact]
    public void Every_provider_is_documented_in_the_README_with_each_of_its_keys()
    {
        var rows = ReadmeChannelRows(Readme);
        var misses = new List<string>();
        foreach (var p in ChannelProviders.All)
        {
            if (!rows.TryGetValue(p.TypeName, out var row)) { misses.Add($"{p.TypeName}: no row '| `{p.TypeName}` |' in README.md's '### Channel types' table"); continue; }
            foreach (var o in p.Options.Where(o => !row.Contains($"`{o.Key}`", StringComparison.Ordinal)))
                misses.Add($"{p.TypeName}: its README row does not name the key `{o.Key}`");
        }
        Assert.True(misses.Count == 0, string.Join("\n", misses));
    }

    [Fact]
    public void Every_channel_type_the_README_and_the_example_config_name_has_a_provider()
    {
        var named = new List<(string Type, string Where)>();
        named.AddRange(ReadmeChannelRows(Readme).Keys.Select(t => (t, "README.md channel table")));
        // The configuration reference's `channels.<name>` row lists the types as `type` (`slack`, `teams`, ...).
        var keyRow = Readme.Split('\n').First(l => l.StartsWith("| `channels.<name>` |", StringComparison.Ordinal));
        var typeList = TypeList().Match(keyRow);
        Assert.True(typeList.Success, "README.md's `channels.<name>` row no longer lists the types as `type` (`a`, `b`, ...).");
        named.AddRange(BackQuoted().Matches(typeList.Groups[1].Value).Select(m => (m.Groups[1].Value, "README.md `channels.<name>` row")));
        foreach (var file in new[] { "incidentops.yml", "incidentops-p1p4.yml" })
        {
            var path = Path.Combine(Paths.Examples, file);
            if (!File.Exists(path)) continue;
            named.AddRange(YamlType().Matches(File.ReadAllText(path)).Select(m => (m.Groups[1].Value, "examples/" + file)));
        }
        Assert.NotEmpty(named);
        var misses = named.Where(n => ChannelProviders.Find(n.Type) is null).Select(n => $"{n.Where} names the channel type '{n.Type}', which no provider serves").Distinct().ToList();
        // The other way round, the README's type list is complete.
        misses.AddRange(ChannelProviders.TypeNames.Where(t => !named.Any(n => n.Where.EndsWith("row", StringComparison.Ordinal) && n.Type == t))
            .Select(t => $"README.md's `channels.<name>` row does not list the type `{t}`"));
        Assert.True(misses.Count == 0, string.Join("\n", misses));
    }

    [GeneratedRegex(@"`type` \(([^)]*)\)")]
    private static partial Regex TypeList();

    [GeneratedRegex(@"`([a-z0-9-]+)`")]
    private static partial Regex BackQuoted();

    [GeneratedRegex(@"\btype:\s*([a-z0-9-]+)")]
    private static partial Regex YamlType();

    [Fact]
    public void Every_provider_has_a_fixture_with_its_source_noted_and_a_documented_answer()
    {
        var misses = new List<string>();
        foreach (var p in ChannelProviders.All)
        {
            var path = ChannelFixtures.PathOf(p.TypeName);
            if (!File.Exists(path)) { misses.Add($"{p.TypeName}: no fixture {Path.GetRelativePath(Paths.RepoRoot, path)}"); continue; }
            var f = ChannelFixtures.Load(p.TypeName);
            if (f["type"]?.GetValue<string>() != p.TypeName) misses.Add($"{p.TypeName}: its fixture's \"type\" is not '{p.TypeName}'");
            if (f["source"] is not System.Text.Json.Nodes.JsonArray { Count: > 0 } sources || sources.Any(s => string.IsNullOrWhiteSpace(s?.GetValue<string>())))
                misses.Add($"{p.TypeName}: its fixture notes no \"source\" (where the request and response shapes come from)");
            if (f["request"] is null) misses.Add($"{p.TypeName}: its fixture has no \"request\" shape");
            if (f["response"]?["status"] is null || f["response"]?["body"] is null) misses.Add($"{p.TypeName}: its fixture has no \"response\" (status and body) for the stub to answer");
        }
        Assert.True(misses.Count == 0, string.Join("\n", misses));
    }

    [Fact]
    public void Every_provider_operation_has_a_loopback_test()
    {
        var tagged = typeof(ChannelContractTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .Where(m => m.GetCustomAttributes<FactAttribute>().Any())
            .SelectMany(m => m.GetCustomAttributes<ChannelOperationAttribute>().Select(a => (a.Type, a.Operation, Test: m.Name)))
            .ToList();
        var misses = new List<string>();
        foreach (var p in ChannelProviders.All)
            foreach (var op in p.Operations.Where(op => !tagged.Any(t => t.Type == p.TypeName && t.Operation == op)))
                misses.Add($"{p.TypeName}: no test marked [ChannelOperation(\"{p.TypeName}\", \"{op}\")]");
        // A mark must name a registered provider and one of its operations.
        foreach (var t in tagged)
            if (ChannelProviders.Find(t.Type) is not { } p || !p.Operations.Contains(t.Operation))
                misses.Add($"{t.Test} is marked [ChannelOperation(\"{t.Type}\", \"{t.Operation}\")], which no provider has");
        Assert.True(misses.Count == 0, string.Join("\n", misses));
    }

    [Fact]
    public void The_contract_reads_misses_from_the_README()
    {
        // The checks above must be able to fail: a README without a provider's row reports it.
        var rows = ReadmeChannelRows("# x\n\n### Channel types\n\n| type | keys |\n| --- | --- |\n| `slack` | `url` |\n\n## Next\n| `teams` | `url` |\n");
        Assert.Equal(["slack"], rows.Keys);
    }
}
