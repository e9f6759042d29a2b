using System.Reflection;
using System.Text.RegularExpressions;
using IncidentOps.Engine.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// The channel contract, in both directions (as PSScriptAnalyzer checks its rules against its docs):
/// every registered provider lives in its own folder src/IncidentOps.Engine/Notifications/&lt;Provider&gt;/, mirrored by
/// tests/IncidentOps.Tests/Notifications/&lt;Provider&gt;/ with its fixtures (Fixtures/&lt;type&gt;.json and any others, each named in
/// Fixtures/SOURCES.md with where its shape comes from), at least one test class and a loopback stub; it has README
/// documentation of its type and keys and a loopback test per operation. Every channel type the README or
/// examples/incidentops.yml names has a provider, and every provider folder belongs to one. Each test lists every miss,
/// so adding a channel shows at once what is still missing.
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

    /// <summary>The test sources (.cs) of the repository at root, but this file, whose synthetic cases would count.</summary>
    internal static List<(string Path, string Text)> TestSources(string root) =>
        Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.EndsWith(nameof(ChannelContractTests) + ".cs", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(root, f), File.ReadAllText(f))).ToList();

    /// <summary>
    /// What one channel provider (its class and type name) lacks in its folders: the engine folder that declares it, the test
    /// folder that mirrors it with Fixtures/&lt;type&gt;.json, a SOURCES.md naming every fixture, a test class, and a loopback stub
    /// (ChannelFixtures.Stub("&lt;type&gt;") in some test, or a *Fake/*Stub class in its folder).
    /// </summary>
    internal static List<string> FolderMisses(string root, string className, string type, IReadOnlyList<(string Path, string Text)> tests)
    {
        var folder = ProviderFolder.EngineFolderOf(root, "Notifications", className);
        if (folder is null) return [$"{type}: {className} is not in a provider folder of its own (no file under src/IncidentOps.Engine/Notifications/<Provider>/ declares it)"];
        var pf = ProviderFolder.Load(root, "Notifications", folder);
        var misses = pf.Misses(type).ToList();
        if (!pf.Exists) return misses;
        if (!pf.Fixtures.Contains(type + ".json")) misses.Add($"{type}: no fixture {pf.Relative}/Fixtures/{type}.json (its documented request and answer)");
        if (!tests.Any(t => t.Text.Contains($"Stub(\"{type}\")", StringComparison.Ordinal)) && !pf.Code.Any(c => FakeClass().IsMatch(c.Text)))
            misses.Add($"{type}: no loopback stub (ChannelFixtures.Stub(\"{type}\") in a test, or a *Fake/*Stub class in {pf.Relative}/)");
        return misses;
    }

    [GeneratedRegex(@"\bclass\s+\w+(Fake|Stub)\b")]
    private static partial Regex FakeClass();

    /// <summary>Provider folders (engine or tests) that belong to no registered channel provider.</summary>
    internal static List<string> OrphanFolders(string root, IEnumerable<string> providerClasses)
    {
        var known = providerClasses.Select(c => ProviderFolder.EngineFolderOf(root, "Notifications", c)).Where(f => f is not null).ToHashSet(StringComparer.Ordinal);
        return ProviderFolder.EngineFolders(root, "Notifications").Where(f => !known.Contains(f)).Select(f => $"src/IncidentOps.Engine/Notifications/{f}/ declares no registered channel provider")
            .Concat(ProviderFolder.TestFolders(root, "Notifications").Where(f => !known.Contains(f)).Select(f => $"tests/IncidentOps.Tests/Notifications/{f}/ mirrors no channel provider folder of the engine"))
            .ToList();
    }

    [Fact]
    public void Every_provider_has_its_folder_with_sourced_fixtures_a_test_class_and_a_loopback_stub()
    {
        var root = Paths.RepoRoot;
        var tests = TestSources(root);
        var misses = ChannelProviders.All.SelectMany(p => FolderMisses(root, p.GetType().Name, p.TypeName, tests)).ToList();
        misses.AddRange(OrphanFolders(root, ChannelProviders.All.Select(p => p.GetType().Name)));
        Assert.True(misses.Count == 0, "The channel contract is not met:\n" + string.Join("\n", misses));
    }

    [Fact]
    public void The_folder_contract_fails_for_a_channel_that_lacks_its_parts()
    {
        var root = Paths.TempDir("channel-contract");
        void Write(string relative, string text)
        {
            var path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
        try
        {
            foreach (var name in new[] { "Carrier", "Beacon", "Flare" })
                Write($"src/IncidentOps.Engine/Notifications/{name}/{name}Channel.cs", $"namespace X;\npublic sealed class {name}Channel {{ }}\n");
            // Carrier: a fixture of another name that SOURCES.md does not name, no test class, no stub.
            Write("tests/IncidentOps.Tests/Notifications/Carrier/Fixtures/carrier-api.json", "{}");
            Write("tests/IncidentOps.Tests/Notifications/Carrier/Fixtures/SOURCES.md", "| fixture | request | shape source |\n| --- | --- | --- |\n");
            // Beacon: an empty test folder; Flare: none; Orphan: a test folder of no engine folder.
            Directory.CreateDirectory(Path.Combine(root, "tests/IncidentOps.Tests/Notifications/Beacon"));
            Directory.CreateDirectory(Path.Combine(root, "tests/IncidentOps.Tests/Notifications/Orphan"));
            var tests = TestSources(root);

            var carrier = FolderMisses(root, "CarrierChannel", "carrier", tests);
            Assert.Contains("carrier: tests/IncidentOps.Tests/Notifications/Carrier/Fixtures/SOURCES.md does not name `carrier-api.json` (where its shape comes from)", carrier);
            Assert.Contains("carrier: no test class in tests/IncidentOps.Tests/Notifications/Carrier/ (a .cs file with a [Fact] or [Theory])", carrier);
            Assert.Contains("carrier: no fixture tests/IncidentOps.Tests/Notifications/Carrier/Fixtures/carrier.json (its documented request and answer)", carrier);
            Assert.Contains(carrier, m => m.StartsWith("carrier: no loopback stub", StringComparison.Ordinal));

            var beacon = FolderMisses(root, "BeaconChannel", "beacon", tests);
            Assert.Contains("beacon: no fixtures in tests/IncidentOps.Tests/Notifications/Beacon/Fixtures/", beacon);
            Assert.Contains("beacon: no tests/IncidentOps.Tests/Notifications/Beacon/Fixtures/SOURCES.md saying where each fixture's shape comes from", beacon);
            Assert.Contains(FolderMisses(root, "FlareChannel", "flare", tests), m => m.StartsWith("flare: no test folder tests/IncidentOps.Tests/Notifications/Flare/", StringComparison.Ordinal));
            Assert.Contains(FolderMisses(root, "MissingChannel", "missing", tests), m => m.Contains("not in a provider folder of its own", StringComparison.Ordinal));
            Assert.Equal(
                ["src/IncidentOps.Engine/Notifications/Flare/ declares no registered channel provider", "tests/IncidentOps.Tests/Notifications/Orphan/ mirrors no channel provider folder of the engine"],
                OrphanFolders(root, ["CarrierChannel", "BeaconChannel"]));

            // Once Carrier has its fixture, sources, a test class and a stub, nothing is missing.
            Write("tests/IncidentOps.Tests/Notifications/Carrier/Fixtures/carrier.json", "{}");
            Write("tests/IncidentOps.Tests/Notifications/Carrier/Fixtures/SOURCES.md",
                "| fixture | request | shape source |\n| --- | --- | --- |\n| `carrier.json` | `POST /v1/alerts` | the Carrier API reference |\n| `carrier-api.json` | `GET /v1/me` | the Carrier API reference |\n");
            Write("tests/IncidentOps.Tests/Notifications/Carrier/CarrierChannelTests.cs",
                "namespace X;\npublic class CarrierChannelTests { [Fact] public void Sends() { using var stub = ChannelFixtures.Stub(\"carrier\"); } }\n");
            Assert.Empty(FolderMisses(root, "CarrierChannel", "carrier", TestSources(root)));
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void The_contract_reads_misses_from_the_README()
    {
        // The checks above must be able to fail: a README without a provider's row reports it.
        var rows = ReadmeChannelRows("# x\n\n### Channel types\n\n| type | keys |\n| --- | --- |\n| `slack` | `url` |\n\n## Next\n| `teams` | `url` |\n");
        Assert.Equal(["slack"], rows.Keys);
    }
}
