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

    /// <summary>The config file doctl reads.</summary>
    public static string ConfigFile(Func<string, string?> env)
    {
        if (env("DIGITALOCEAN_CONFIG") is { Length: > 0 } given) return given;
        var home = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
        // Go's os.UserConfigDir: $XDG_CONFIG_HOME (when absolute) or ~/.config; ~/Library/Application Support on macOS.
        var dir = OperatingSystem.IsMacOS() ? Path.Combine(home, "Library", "Application Support")
            : env("XDG_CONFIG_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg) ? xdg : Path.Combine(home, ".config");
        return Path.Combine(dir, "doctl", "config.yaml");
    }

    /// <summary>The auth context doctl would use without --context: DIGITALOCEAN_CONTEXT, else the file's context:, else default (lower case, as doctl takes --context).</summary>
    public static string Context(Func<string, string?> env)
    {
        var context = env("DIGITALOCEAN_CONTEXT") is { Length: > 0 } e ? e : Scalar(Read(ConfigFile(env)), "context");
        return string.IsNullOrEmpty(context) ? DefaultContext : context.ToLowerInvariant();
    }

    /// <summary>The auth context doctl would use now (<see cref="Context"/>), checked as a name doctl can be given: what a command pins when it starts.</summary>
    public static string PinnedContext()
    {
        var context = Context(System.Environment.GetEnvironmentVariable);
        Check(context);
        return context;
    }

    /// <summary>Refuses a context name doctl could not take as --context's value (one named like an option).</summary>
    public static void Check(string? context) =>
        TargetNames.Check("doctl's auth context", context, TargetNames.DoctlContext, "doctl's auth context (DIGITALOCEAN_CONTEXT, or context: in doctl's config.yaml)");

    /// <summary>doctl with <paramref name="args"/>, then --context <paramref name="context"/> when one is pinned.</summary>
    public static CliCommand Command(string? context, IReadOnlyList<string> args) =>
        new("doctl", "doctl", context is null ? args : [.. args, "--context", context]);

    /// <summary>The token doctl uses for <paramref name="context"/>; null when it has none. Never shown anywhere.</summary>
    public static string? Token(string context, Func<string, string?> env)
    {
        var root = Read(ConfigFile(env));
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
    public static string NoTokenAdvice(string context, Func<string, string?> env) =>
        string.Equals(context, DefaultContext, StringComparison.OrdinalIgnoreCase)
            ? "No DigitalOcean token was found. Set the DIGITALOCEAN_ACCESS_TOKEN environment variable, or log in with 'doctl auth init'."
            : $"doctl's auth context '{context}' (DIGITALOCEAN_CONTEXT, or context: in {ConfigFile(env)}) has no token under auth-contexts: in {ConfigFile(env)}. Log in with 'doctl auth init --context {context}', or choose another context (doctl auth switch --context NAME, or $env:DIGITALOCEAN_CONTEXT) before running the command. DIGITALOCEAN_ACCESS_TOKEN is only for the default context, as in doctl.";

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
