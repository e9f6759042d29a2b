using System.Text.RegularExpressions;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The aws CLI's profile and region as it would pick them when a command starts (AWS CLI v2 "Configuration and
/// credential file settings": --profile, else AWS_PROFILE, else the default profile; --region, else AWS_REGION, else
/// AWS_DEFAULT_REGION, else the profile's region in AWS_CONFIG_FILE or ~/.aws/config). Pinned for every aws call of one
/// command (--profile when AWS_PROFILE named one, --region when one is known), and stamped on the objects it writes
/// (Account): RDS instance identifiers are per account and region, so an 'orders-db' read in production is another
/// instance than the 'orders-db' of the profile someone switched to before piping it into Restart-AppDatabase.
/// </summary>
public sealed partial record AwsAccount(string? Profile, string? Region)
{
    /// <summary>The profile and region the aws CLI would use now, from <paramref name="env"/> and its config file.</summary>
    public static AwsAccount Current(Func<string, string?> env)
    {
        var profile = env("AWS_PROFILE") is { Length: > 0 } p && Name().IsMatch(p) ? p : null;
        var region = env("AWS_REGION") is { Length: > 0 } r ? r : env("AWS_DEFAULT_REGION") is { Length: > 0 } d ? d : ConfigRegion(env, profile ?? "default");
        return new(profile, region is not null && Name().IsMatch(region) ? region : null);
    }

    /// <summary>What every aws call of the command gets after its own arguments.</summary>
    public IReadOnlyList<string> Arguments =>
        [.. Profile is null ? [] : new[] { "--profile", Profile }, .. Region is null ? [] : new[] { "--region", Region }];

    /// <summary>How objects and messages name it: "aws profile 'prod', region 'eu-west-1'".</summary>
    public override string ToString() => $"aws profile '{Profile ?? "default"}', region '{Region ?? "(none set)"}'";

    /// <summary>The region: line of [default] or [profile NAME] in the aws config file, or null.</summary>
    private static string? ConfigRegion(Func<string, string?> env, string profile)
    {
        var file = env("AWS_CONFIG_FILE") is { Length: > 0 } f ? f
            : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".aws", "config");
        string[] lines;
        try { lines = File.Exists(file) ? File.ReadAllLines(file) : []; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
        var section = profile == "default" ? "default" : "profile " + profile;
        var inside = false;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith('[') && line.EndsWith(']')) { inside = string.Equals(line[1..^1].Trim(), section, StringComparison.Ordinal); continue; }
            if (!inside) continue;
            var eq = line.IndexOf('=');
            if (eq > 0 && line[..eq].Trim() == "region") return line[(eq + 1)..].Trim();
        }
        return null;
    }

    // A profile or region name the CLI takes as a value (never one that reads as an option).
    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.+@-]*\\z")]
    private static partial Regex Name();
}
