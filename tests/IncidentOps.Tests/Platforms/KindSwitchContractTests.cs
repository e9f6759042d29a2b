using System.Text.RegularExpressions;
using Xunit;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// "Discovery, not switches": knowledge of one platform or channel kind lives in its provider folder. A source scan
/// (as PSScriptAnalyzer's documentation test checks its rules against its docs) fails on any mention of a specific
/// PlatformKind or ChannelType outside the provider folders and the two registries: a switch arm, an == or an is.
/// PlatformKind.None ("no platform given") is not a kind and may be compared anywhere.
/// </summary>
public partial class KindSwitchContractTests
{
    /// <summary>The registries: the one place that maps kinds to providers.</summary>
    private static readonly string[] Registries =
    [
        "src/IncidentOps.Engine/Platforms/PlatformProviders.cs",
        "src/IncidentOps.Engine/Notifications/ChannelProvider.cs",
    ];

    /// <summary>Provider folders: one folder per platform or channel under these.</summary>
    private static readonly string[] ProviderRoots = ["src/IncidentOps.Engine/Platforms/", "src/IncidentOps.Engine/Notifications/"];

    [GeneratedRegex(@"(?<![\w.])(?:PlatformKind|ChannelType)\.(?!None\b)[A-Z]\w*")]
    private static partial Regex KindMention();

    /// <summary>Mentions of a specific kind in C# text, comments left out, as "line: text".</summary>
    internal static IEnumerable<string> Mentions(string source)
    {
        var lines = source.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var code = line.TrimStart();
            if (code.StartsWith("//", StringComparison.Ordinal) || code.StartsWith('*')) continue;
            var comment = line.IndexOf("//", StringComparison.Ordinal);
            if (comment >= 0) line = line[..comment];
            if (KindMention().IsMatch(line)) yield return $"{i + 1}: {lines[i].Trim()}";
        }
    }

    /// <summary>True for a file a kind may be named in: a registry, or a file inside a provider's own folder.</summary>
    internal static bool Allowed(string relative)
    {
        relative = relative.Replace('\\', '/');
        if (Registries.Contains(relative)) return true;
        foreach (var root in ProviderRoots)
            if (relative.StartsWith(root, StringComparison.Ordinal) && relative[root.Length..].Contains('/')) return true;
        return false;
    }

    private static IEnumerable<(string File, string Text)> Sources() =>
        Directory.EnumerateFiles(Path.Combine(Paths.RepoRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Paths.RepoRoot, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Select(f => (f, File.ReadAllText(Path.Combine(Paths.RepoRoot, f))));

    [Fact]
    public void No_code_outside_the_registries_and_provider_folders_switches_on_a_platform_or_channel_kind()
    {
        var offenders = Sources().Where(s => !Allowed(s.File))
            .SelectMany(s => Mentions(s.Text).Select(m => $"{s.File}:{m}"))
            .ToList();
        Assert.True(offenders.Count == 0,
            "A platform or channel kind is named outside its provider folder. Move the knowledge into the provider " +
            "(IPlatformProvider / ChannelProvider member) and ask PlatformRegistry or ChannelProviders:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_scan_sees_the_kinds_where_they_belong()
    {
        // The scan is not vacuous: every provider folder that serves a kind names it, and the scan finds those mentions.
        var allowed = Sources().Where(s => Allowed(s.File) && Mentions(s.Text).Any()).Select(s => s.File).ToList();
        foreach (var folder in new[] { "Platforms/Fly/", "Platforms/DigitalOcean/", "Platforms/Kubernetes/", "Platforms/Systemd/", "Notifications/Slack/", "Notifications/PagerDuty/" })
            Assert.Contains(allowed, f => f.Contains("/IncidentOps.Engine/" + folder, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("    PlatformKind.Fly => App ?? \"\",", true)]
    [InlineData("if (service.Platform == PlatformKind.Kubernetes) command = Kubectl(service, argv);", true)]
    [InlineData("if (platform is PlatformKind.Systemd) { }", true)]
    [InlineData(".Where(c => c.Type != ChannelType.PagerDuty)", true)]
    [InlineData("case ChannelType.Slack:", true)]
    [InlineData("if (platform != PlatformKind.None) return;", false)]
    [InlineData("var t = delivery.ChannelType.ToString();", false)]
    [InlineData("/// <summary>Unlike PlatformKind.Fly ...</summary>", false)]
    [InlineData("var x = 1; // was PlatformKind.Fly", false)]
    public void The_scan_flags_a_switch_or_comparison_on_a_kind_and_nothing_else(string line, bool flagged) =>
        Assert.Equal(flagged, Mentions(line).Any());

    [Theory]
    [InlineData("src/IncidentOps.Engine/Platforms/PlatformProviders.cs", true)]
    [InlineData("src/IncidentOps.Engine/Notifications/ChannelProvider.cs", true)]
    [InlineData("src/IncidentOps.Engine/Platforms/Fly/FlyProvider.cs", true)]
    [InlineData("src/IncidentOps.Engine/Notifications/Slack/SlackChannel.cs", true)]
    [InlineData("src/IncidentOps.Engine/Platforms/PlatformsService.cs", false)]
    [InlineData("src/IncidentOps.Engine/Notifications/ProviderPayloads.cs", false)]
    [InlineData("src/IncidentOps.Models/Platforms/PlatformModels.cs", false)]
    [InlineData("src/IncidentOps/Commands/Platforms/AppCmdlet.cs", false)]
    public void Only_the_registries_and_provider_folders_may_name_a_kind(string file, bool allowed) =>
        Assert.Equal(allowed, Allowed(file));
}
