using System.Reflection;
using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// The provider contract, in both directions (as PSScriptAnalyzer checks its rules against its docs): every registered
/// platform and database provider lives in its own folder src/IncidentOps.Engine/Platforms/&lt;Provider&gt;/, mirrored by
/// tests/IncidentOps.Tests/Platforms/&lt;Provider&gt;/ with its fixtures (Fixtures/, each named in Fixtures/SOURCES.md with where
/// its shape comes from), at least one test class and a stand-in for each CLI it drives; it has its row in the README's
/// provider table and its keys in the configuration docs, and at least one test per operation. The other way round, every
/// platform, database key and CLI the README names has a provider, and every provider folder (engine or tests) belongs to
/// a registered provider. Each check lists all its misses at once.
/// </summary>
public partial class ProviderContractTests
{
    /// <summary>The cmdlet (and, where one cmdlet does several, the parameter) that drives each adapter operation.</summary>
    private static readonly Dictionary<string, string> PlatformOperations = new()
    {
        ["GetStatusAsync"] = "Get-AppStatus", ["GetDeploymentsAsync"] = "Get-AppDeployment", ["GetLogsAsync"] = "Get-AppLog", ["FollowLogsAsync"] = "Get-AppLog.*-Follow",
        ["GetSettingsAsync"] = "Get-AppSetting", ["PlanRestart"] = "Restart-App", ["PlanScale"] = "Set-AppScale", ["GetInstanceCountAsync"] = "Set-AppScale.*-Count",
        ["PlanSetSettings"] = "Set-AppSetting", ["PlanRollback"] = "Invoke-Rollback", ["PlanFinishRollback"] = "Invoke-Rollback.*-(Commit|Revert)",
    };

    private static readonly Dictionary<string, string> DatabaseOperations = new()
    {
        ["GetStatusAsync"] = "Get-AppDatabase\\b", ["GetBackupsAsync"] = "Get-AppDatabaseBackup", ["PlanRestart"] = "Restart-AppDatabase",
        ["PlanCreateBackup"] = "New-AppDatabaseBackup", ["PlanRestore"] = "Restore-AppDatabaseBackup", ["PlanRestoreToTime"] = "Restore-AppDatabaseBackup.*-(RestoreTime|LatestRestorableTime)",
    };

    /// <summary>One provider as the contract sees it; Folder is its folder under Engine/Platforms/ (null when it has none).</summary>
    public sealed record ProviderFacts(string Name, PlatformKind Kind, string TargetParameter, IReadOnlyList<string> ConfigKeys, IReadOnlyList<CliTool> Tools, bool IsDatabase,
        string? Folder = null);

    public static IEnumerable<ProviderFacts> Registered() =>
        PlatformRegistry.Platforms.Select(p => new ProviderFacts(p.GetType().Name, p.Kind, p.TargetParameter, p.ConfigKeys.Select(k => k.Key).ToList(), p.Tools, false))
            .Concat(PlatformRegistry.Databases.Select(d => new ProviderFacts(d.GetType().Name, d.Kind, d.TargetParameter, ["postgres." + d.ConfigKey], d.Tools, true)))
            .Select(p => p with { Folder = ProviderFolder.EngineFolderOf(Paths.RepoRoot, "Platforms", p.Name) });

    /// <summary>What the repository holds that the contract reads.</summary>
    public sealed record Repo(string Root, string Readme, IReadOnlyList<(string Path, string Text)> Tests)
    {
        /// <summary>The provider's test folder, tests/IncidentOps.Tests/Platforms/&lt;Folder&gt;/.</summary>
        public ProviderFolder Folder(string name) => ProviderFolder.Load(Root, "Platforms", name);

        public static Repo Load(string? root = null)
        {
            root ??= Paths.RepoRoot;
            var tests = Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.*", SearchOption.AllDirectories)
                .Where(f => (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".ps1", StringComparison.Ordinal))
                    && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.EndsWith(nameof(ProviderContractTests) + ".cs", StringComparison.Ordinal))
                .Select(f => (Path.GetRelativePath(root, f), File.ReadAllText(f))).ToList();
            return new Repo(root, File.ReadAllText(Path.Combine(root, "README.md")), tests);
        }

        /// <summary>The rows of the README's "Platform providers" table.</summary>
        public IReadOnlyList<string[]> ProviderRows
        {
            get
            {
                var start = Readme.IndexOf("### Platform providers", StringComparison.Ordinal);
                if (start < 0) return [];
                return Readme[start..].Split('\n').SkipWhile(l => !l.StartsWith("| provider", StringComparison.Ordinal)).Skip(2)
                    .TakeWhile(l => l.StartsWith('|')).Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
            }
        }
    }

    /// <summary>Every way a provider falls short of the contract; empty when it meets it.</summary>
    public static List<string> Misses(ProviderFacts p, Repo repo)
    {
        var misses = new List<string>();
        var row = repo.ProviderRows.FirstOrDefault(r => r.Length >= 6 && r[1] == $"`{p.Kind}`" && p.ConfigKeys.All(k => r[3].Contains($"`{k}`", StringComparison.Ordinal)));
        if (row is null) misses.Add($"{p.Name}: no row in README's 'Platform providers' table with -Platform `{p.Kind}` and its keys {string.Join(", ", p.ConfigKeys.Select(k => $"`{k}`"))}");
        // Its folder: Engine/Platforms/<Provider>/ declares it; tests/.../Platforms/<Provider>/ holds its fixtures (sourced) and tests.
        var folder = p.Folder is null ? null : repo.Folder(p.Folder);
        if (folder is null) misses.Add($"{p.Name}: not in a provider folder of its own (no file under src/IncidentOps.Engine/Platforms/<Provider>/ declares class {p.Name})");
        else misses.AddRange(folder.Misses(p.Name));
        foreach (var tool in p.Tools)
        {
            if (row is not null && !(row[4].Contains($"`{tool.Name}`", StringComparison.Ordinal) && row[5].Contains($"`{tool.PathParameter}`", StringComparison.Ordinal)))
                misses.Add($"{p.Name}: its README row does not name the CLI `{tool.Name}` and `{tool.PathParameter}`");
            if (!Regex.IsMatch(repo.Readme, $@"\| `tools` \|[^\n]*`{Regex.Escape(tool.Name)}`"))
                misses.Add($"{p.Name}: README's configuration table does not list `{tool.Name}` under `tools`");
            // The provider's own tests drive a fake of each CLI (FakeCli.Tool, or a fake ssh/CLI written into the fake's folder).
            var standIn = new Regex($@"Tool\(""{Regex.Escape(tool.Name)}""|Path\.Combine\(Dir, ""{Regex.Escape(tool.Name)}""\)");
            if (folder is { Exists: true } && !folder.Code.Any(t => standIn.IsMatch(t.Text)))
                misses.Add($"{p.Name}: no fake CLI for `{tool.Name}` in {folder.Relative}/ (FakeCli.Tool(\"{tool.Name}\", ...) in its tests)");
            if (folder is { Sources: not null } && !Regex.IsMatch(folder.Sources, $@"\n\|[^|\n]+\| `{Regex.Escape(tool.Name)} "))
                misses.Add($"{p.Name}: no fixture of `{tool.Name}` output with its source noted in {folder.Relative}/Fixtures/SOURCES.md (a row whose command starts with `{tool.Name} `)");
        }
        var covering = repo.Tests.Where(t => t.Text.Contains($"-Platform {p.Kind}", StringComparison.Ordinal) && t.Text.Contains(p.TargetParameter, StringComparison.Ordinal)).ToList();
        var operations = p.IsDatabase ? DatabaseOperations : PlatformOperations;
        foreach (var (operation, cmdlet) in operations)
        {
            var pattern = new Regex(cmdlet);
            if (!covering.Any(t => t.Text.Split('\n').Any(pattern.IsMatch)))
                misses.Add($"{p.Name}: no test of {operation} ({cmdlet.Replace("\\b", "", StringComparison.Ordinal)}) in a test file that targets -Platform {p.Kind} {p.TargetParameter}");
        }
        return misses;
    }

    [Fact]
    public void Every_registered_provider_has_docs_a_stand_in_sourced_fixtures_and_a_test_per_operation()
    {
        var repo = Repo.Load();
        Assert.NotEmpty(repo.ProviderRows);
        var misses = Registered().SelectMany(p => Misses(p, repo)).ToList();
        Assert.True(misses.Count == 0, "The provider contract is not met:\n" + string.Join("\n", misses));
    }

    [Fact]
    public void The_operation_lists_cover_every_adapter_operation()
    {
        static IEnumerable<string> Ops(Type t) => t.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => !m.IsSpecialName).Select(m => m.Name);
        Assert.Equal(Ops(typeof(IPlatformAdapter)).Order(), PlatformOperations.Keys.Order());
        Assert.Equal(Ops(typeof(IDatabaseAdapter)).Order(), DatabaseOperations.Keys.Order());
    }

    [Fact]
    public void Every_fixture_has_its_source_noted_and_its_name_is_unique()
    {
        var root = Paths.RepoRoot;
        var folders = ProviderFolder.TestFolders(root, "Platforms").Select(n => ProviderFolder.Load(root, "Platforms", n)).ToList();
        if (ProviderFolder.Shared(root, "Platforms") is { } shared) folders.Add(shared);
        Assert.NotEmpty(folders.SelectMany(f => f.Fixtures));
        var misses = folders.SelectMany(f => f.Unsourced.Select(x => $"{f.Relative}: `{x}` is not named in its SOURCES.md")).ToList();
        // FakeCli.Fixture and the Pester Get-Fixture find a fixture by name, so a name is in one folder only.
        misses.AddRange(folders.SelectMany(f => f.Fixtures.Select(x => (x, f.Relative))).GroupBy(x => x.x).Where(g => g.Count() > 1)
            .Select(g => $"`{g.Key}` is in several folders: {string.Join(", ", g.Select(x => x.Relative))}"));
        Assert.True(misses.Count == 0, string.Join("\n", misses));
    }

    /// <summary>Provider folders (engine or tests) that belong to no registered provider.</summary>
    public static List<string> OrphanFolders(string root, IEnumerable<string?> providerFolders)
    {
        var known = providerFolders.Where(f => f is not null).ToHashSet(StringComparer.Ordinal);
        return ProviderFolder.EngineFolders(root, "Platforms").Where(f => !known.Contains(f)).Select(f => $"src/IncidentOps.Engine/Platforms/{f}/ declares no registered provider")
            .Concat(ProviderFolder.TestFolders(root, "Platforms").Where(f => !known.Contains(f)).Select(f => $"tests/IncidentOps.Tests/Platforms/{f}/ mirrors no provider folder of the engine"))
            .ToList();
    }

    [Fact]
    public void Every_provider_folder_belongs_to_a_registered_provider()
    {
        var misses = OrphanFolders(Paths.RepoRoot, Registered().Select(p => p.Folder));
        Assert.True(misses.Count == 0, string.Join("\n", misses));
    }

    [Fact]
    public void Every_platform_database_key_and_CLI_the_README_names_has_a_provider()
    {
        var misses = ReadmeMisses(Repo.Load());
        Assert.True(misses.Count == 0, string.Join("\n", misses));
    }

    /// <summary>Every platform, database key, CLI and provider row the README names without a registered provider.</summary>
    public static List<string> ReadmeMisses(Repo repo)
    {
        var misses = new List<string>();
        var platformRow = Regex.Match(repo.Readme, @"\| `environments\.<env>\.services\.<name>` \| `platform` \(([^)]*)\)").Groups[1].Value;
        var documented = Regex.Matches(platformRow, "`([^`]+)`").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(documented);
        misses.AddRange(documented.Where(v => !PlatformRegistry.TryParseConfigName(v, out var k) || k == PlatformKind.None).Select(v => $"platform: {v} (README) has no platform provider"));
        var postgresRow = Regex.Match(repo.Readme, @"\| `\.\.\.services\.<name>\.postgres` \|([^\n]*)").Groups[1].Value;
        var keys = Regex.Matches(postgresRow, @"(\w+): <").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(keys);
        misses.AddRange(keys.Where(k => PlatformRegistry.Databases.All(d => d.ConfigKey != k)).Select(k => $"postgres.{k} (README) has no database provider"));
        var toolsRow = Regex.Match(repo.Readme, @"\| `tools` \|([^\n]*)").Groups[1].Value;
        misses.AddRange(Regex.Matches(toolsRow, "`([^`]+)`").Select(m => m.Groups[1].Value).Where(t => PlatformRegistry.Tool(t) is null).Select(t => $"tools.{t} (README) is driven by no provider"));
        foreach (var row in repo.ProviderRows)
            if (!Enum.TryParse<PlatformKind>(row[1].Trim('`'), out var kind) || (PlatformRegistry.Platform(kind) is null && PlatformRegistry.Database(kind) is null))
                misses.Add($"README's provider table names {row[0]} ({row[1]}), which no provider registers");
        misses.AddRange(Enum.GetValues<PlatformKind>().Where(k => k != PlatformKind.None && PlatformRegistry.Platform(k) is null && PlatformRegistry.Database(k) is null)
            .Select(k => $"PlatformKind.{k} has no provider"));
        return misses;
    }

    [Fact]
    public void The_contract_fails_for_a_provider_that_lacks_its_parts()
    {
        // A provider class outside any provider folder: no folder, no README row, no tests.
        var bare = new ProviderFacts("OpsgenieDbProvider", PlatformKind.Aws, "-DatabaseName", ["postgres.cosmos"], [new CliTool("cosmosctl", "cosmosctl", "-CosmosctlPath")], true);
        var misses = Misses(bare, Repo.Load());
        Assert.Contains(misses, m => m.Contains("not in a provider folder of its own", StringComparison.Ordinal));
        Assert.Contains(misses, m => m.Contains("no row in README", StringComparison.Ordinal));
        Assert.Contains(misses, m => m.Contains("does not list `cosmosctl` under `tools`", StringComparison.Ordinal));
        Assert.Equal(DatabaseOperations.Count, misses.Count(m => m.Contains("no test of", StringComparison.Ordinal)));
    }

    /// <summary>A repository with synthetic provider folders: the real README, and the engine and test folders the test writes.</summary>
    private static string SyntheticRepo()
    {
        var root = Paths.TempDir("contract");
        File.Copy(Path.Combine(Paths.RepoRoot, "README.md"), Path.Combine(root, "README.md"));
        void Write(string relative, string text)
        {
            var path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
        foreach (var name in new[] { "Cosmos", "Nebula", "Pulsar" })
            Write($"src/IncidentOps.Engine/Platforms/{name}/{name}Provider.cs", $"namespace X;\npublic sealed class {name}Provider {{ }}\n");
        // Cosmos: a fixture its SOURCES.md does not name, a helper but no test class, no fake cosmosctl.
        Write("tests/IncidentOps.Tests/Platforms/Cosmos/Fixtures/cosmos-status.json", "{}");
        Write("tests/IncidentOps.Tests/Platforms/Cosmos/Fixtures/SOURCES.md", "| fixture | command | shape source |\n| --- | --- | --- |\n");
        Write("tests/IncidentOps.Tests/Platforms/Cosmos/CosmosStub.cs", "namespace X;\npublic static class CosmosStub { }\n");
        // Nebula: an empty test folder. Pulsar: none at all. Orphan: a test folder of no engine folder.
        Directory.CreateDirectory(Path.Combine(root, "tests/IncidentOps.Tests/Platforms/Nebula"));
        Directory.CreateDirectory(Path.Combine(root, "tests/IncidentOps.Tests/Platforms/Orphan"));
        return root;
    }

    private static ProviderFacts Synthetic(string root, string name) =>
        new($"{name}Provider", PlatformKind.Aws, "-DatabaseName", ["postgres.cosmos"], [new CliTool("cosmosctl", "cosmosctl", "-CosmosctlPath")], true,
            ProviderFolder.EngineFolderOf(root, "Platforms", $"{name}Provider"));

    [Fact]
    public void The_contract_fails_for_a_provider_folder_that_lacks_its_fixtures_sources_tests_or_fake()
    {
        var root = SyntheticRepo();
        try
        {
            var repo = Repo.Load(root);
            var cosmos = Synthetic(root, "Cosmos");
            Assert.Equal("Cosmos", cosmos.Folder);
            var misses = Misses(cosmos, repo);
            Assert.Contains("CosmosProvider: tests/IncidentOps.Tests/Platforms/Cosmos/Fixtures/SOURCES.md does not name `cosmos-status.json` (where its shape comes from)", misses);
            Assert.Contains("CosmosProvider: no test class in tests/IncidentOps.Tests/Platforms/Cosmos/ (a .cs file with a [Fact] or [Theory])", misses);
            Assert.Contains(misses, m => m.StartsWith("CosmosProvider: no fake CLI for `cosmosctl` in tests/IncidentOps.Tests/Platforms/Cosmos/", StringComparison.Ordinal));
            Assert.Contains(misses, m => m.StartsWith("CosmosProvider: no fixture of `cosmosctl` output with its source noted in tests/IncidentOps.Tests/Platforms/Cosmos/Fixtures/SOURCES.md", StringComparison.Ordinal));
            Assert.DoesNotContain(misses, m => m.Contains("no fixtures in", StringComparison.Ordinal));

            var nebula = Misses(Synthetic(root, "Nebula"), repo);
            Assert.Contains("NebulaProvider: no fixtures in tests/IncidentOps.Tests/Platforms/Nebula/Fixtures/", nebula);
            Assert.Contains("NebulaProvider: no tests/IncidentOps.Tests/Platforms/Nebula/Fixtures/SOURCES.md saying where each fixture's shape comes from", nebula);
            Assert.Contains("NebulaProvider: no test class in tests/IncidentOps.Tests/Platforms/Nebula/ (a .cs file with a [Fact] or [Theory])", nebula);

            var pulsar = Misses(Synthetic(root, "Pulsar"), repo);
            Assert.Contains(pulsar, m => m.StartsWith("PulsarProvider: no test folder tests/IncidentOps.Tests/Platforms/Pulsar/", StringComparison.Ordinal));

            Assert.Equal(
                ["src/IncidentOps.Engine/Platforms/Pulsar/ declares no registered provider", "tests/IncidentOps.Tests/Platforms/Orphan/ mirrors no provider folder of the engine"],
                OrphanFolders(root, ["Cosmos", "Nebula"]));

            // Once Cosmos has what it lacked, its folder misses are gone (the checks can also pass).
            File.WriteAllText(Path.Combine(root, "tests/IncidentOps.Tests/Platforms/Cosmos/Fixtures/SOURCES.md"),
                "| fixture | command | shape source |\n| --- | --- | --- |\n| `cosmos-status.json` | `cosmosctl status --json` | the cosmosctl reference |\n");
            File.WriteAllText(Path.Combine(root, "tests/IncidentOps.Tests/Platforms/Cosmos/CosmosTests.cs"),
                "namespace X;\npublic class CosmosTests { [Fact] public void Status() { var cli = new FakeCli(); cli.Tool(\"cosmosctl\"); } }\n");
            var fixedMisses = Misses(cosmos, Repo.Load(root));
            Assert.DoesNotContain(fixedMisses, m => m.Contains("Platforms/Cosmos", StringComparison.Ordinal));
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void The_README_check_fails_for_a_platform_or_CLI_without_a_provider()
    {
        var repo = Repo.Load();
        Assert.Contains("`platform` (`fly`", repo.Readme);
        var changed = repo with
        {
            Readme = repo.Readme.Replace("`platform` (`fly`", "`platform` (`cosmos`, `fly`", StringComparison.Ordinal)
                .Replace("| `tools` | paths of `flyctl`", "| `tools` | paths of `cosmosctl`, `flyctl`", StringComparison.Ordinal),
        };
        var misses = ReadmeMisses(changed);
        Assert.Contains("platform: cosmos (README) has no platform provider", misses);
        Assert.Contains("tools.cosmosctl (README) is driven by no provider", misses);
        Assert.Empty(ReadmeMisses(repo));
    }
}
