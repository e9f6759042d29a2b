using YamlDotNet.RepresentationModel;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// doctl's account selection, as doctl itself makes it (commands/doit.go initConfig and commands/command_config.go
/// getContextAccessToken, doctl 1.x): settings come from its flags, then DIGITALOCEAN_* environment variables, then its
/// config.yaml (DIGITALOCEAN_CONFIG, else os.UserConfigDir()/doctl/config.yaml). The auth context is --context, else
/// DIGITALOCEAN_CONTEXT, else the file's context:, else "default". The default context's token is --access-token, else
/// DIGITALOCEAN_ACCESS_TOKEN, else the file's access-token:; any other context's token is its entry under auth-contexts:
/// (the environment token is not used for it). The App Platform API calls (rollback, resource usage) take their token
/// the same way for the context the command pinned when it started, and every doctl call gets --context with it, so
/// both halves of one command use one account.
/// </summary>
public static class DoctlAuth
{
    public const string DefaultContext = "default";

    /// <summary>
    /// The config file doctl reads (as a full path): what a command pins when it starts (with the context) and passes to
    /// every doctl call as --config, so a DIGITALOCEAN_CONFIG (or HOME) changed meanwhile cannot move it to another
    /// account's file. doctl reads no file when it does not exist, as before.
    /// </summary>
    public static string ConfigFile(Func<string, string?> env)
    {
        if (env("DIGITALOCEAN_CONFIG") is { Length: > 0 } given) return Path.GetFullPath(given);
        var home = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
        // Go's os.UserConfigDir: $XDG_CONFIG_HOME (when absolute) or ~/.config; ~/Library/Application Support on macOS.
        var dir = OperatingSystem.IsMacOS() ? Path.Combine(home, "Library", "Application Support")
            : env("XDG_CONFIG_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg) ? xdg : Path.Combine(home, ".config");
        return Path.Combine(dir, "doctl", "config.yaml");
    }

    /// <summary>The auth context doctl would use without --context: DIGITALOCEAN_CONTEXT, else the file's context:, else default (lower case, as doctl takes --context).</summary>
    public static string Context(Func<string, string?> env, string? configFile = null)
    {
        var context = env("DIGITALOCEAN_CONTEXT") is { Length: > 0 } e ? e : Scalar(Read(configFile ?? ConfigFile(env)), "context");
        return string.IsNullOrEmpty(context) ? DefaultContext : context.ToLowerInvariant();
    }

    /// <summary>Refuses a context name doctl could not take as --context's value (one named like an option).</summary>
    public static void Check(string? context) =>
        TargetNames.Check("doctl's auth context", context, TargetNames.DoctlContext, "doctl's auth context (DIGITALOCEAN_CONTEXT, or context: in doctl's config.yaml)");

    /// <summary>The config file doctl would read now (<see cref="ConfigFile"/>, from the process environment): what a command pins when it starts.</summary>
    public static string PinnedConfig() => ConfigFile(System.Environment.GetEnvironmentVariable);

    /// <summary>
    /// doctl with <paramref name="args"/>, then --context <paramref name="context"/> and --config <paramref name="config"/>
    /// where they are pinned.
    /// </summary>
    public static CliCommand Command(string? context, string? config, IReadOnlyList<string> args)
    {
        var all = new List<string>(args);
        if (context is not null) all.AddRange(["--context", context]);
        if (config is not null) all.AddRange(["--config", config]);
        return new("doctl", "doctl", all);
    }

    /// <summary>
    /// PipelineTargetMismatch when a piped object was read with another doctl config file (<paramref name="piped"/>)
    /// than the one doctl uses now (<paramref name="now"/>): its auth contexts are another set of accounts, so the
    /// object is not acted on with either.
    /// </summary>
    public static IncidentOpsException ConfigMismatch(string target, string piped, string now) =>
        new(CommonErrorIds.PipelineTargetMismatch, IncidentOpsErrorCategory.InvalidArgument,
            $"The piped object ({target}) was read with doctl's config file '{piped}', but doctl now uses '{now}' (DIGITALOCEAN_CONFIG, else the config.yaml under your config directory). That file's auth contexts may be another account's, so nothing was done. Set DIGITALOCEAN_CONFIG back to '{piped}' to act where the object came from, or read the objects again with the current config and pipe those.")
        { TargetObject = target };

    /// <summary>The token doctl uses for <paramref name="context"/>; null when it has none. Never shown anywhere.</summary>
    public static string? Token(string context, Func<string, string?> env, string? configFile = null)
    {
        var root = Read(configFile ?? ConfigFile(env));
        string? token;
        if (string.Equals(context, DefaultContext, StringComparison.OrdinalIgnoreCase))
            token = env("DIGITALOCEAN_ACCESS_TOKEN") is { Length: > 0 } e ? e : Scalar(root, "access-token");
        else
            token = root is not null && Child(root, "auth-contexts") is YamlMappingNode contexts
                ? contexts.Children.Where(kv => string.Equals((kv.Key as YamlScalarNode)?.Value, context, StringComparison.OrdinalIgnoreCase))
                    .Select(kv => (kv.Value as YamlScalarNode)?.Value).FirstOrDefault()
                : null;
        return string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }

    /// <summary>What to do when the context has no token (the token is never part of it).</summary>
    public static string NoTokenAdvice(string context, Func<string, string?> env, string? configFile = null) =>
        string.Equals(context, DefaultContext, StringComparison.OrdinalIgnoreCase)
            ? "No DigitalOcean token was found. Set the DIGITALOCEAN_ACCESS_TOKEN environment variable, or log in with 'doctl auth init'."
            : $"doctl's auth context '{context}' (DIGITALOCEAN_CONTEXT, or context: in {configFile ?? ConfigFile(env)}) has no token under auth-contexts: in {configFile ?? ConfigFile(env)}. Log in with 'doctl auth init --context {context}', or choose another context (doctl auth switch --context NAME, or $env:DIGITALOCEAN_CONTEXT) before running the command. DIGITALOCEAN_ACCESS_TOKEN is only for the default context, as in doctl.";

    private static YamlMappingNode? Read(string file)
    {
        try
        {
            if (!File.Exists(file)) return null;
            using var reader = new StreamReader(file);
            var yaml = new YamlStream();
            yaml.Load(reader);
            return yaml.Documents.Count > 0 ? yaml.Documents[0].RootNode as YamlMappingNode : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException) { return null; }
    }

    // viper reads keys case-insensitively.
    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.FirstOrDefault(kv => string.Equals((kv.Key as YamlScalarNode)?.Value, key, StringComparison.OrdinalIgnoreCase)).Value;

    private static string? Scalar(YamlMappingNode? map, string key) => map is null ? null : (Child(map, key) as YamlScalarNode)?.Value;
}
