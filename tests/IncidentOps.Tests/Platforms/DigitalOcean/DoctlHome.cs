namespace IncidentOps.Tests.Platforms;

/// <summary>
/// One test's own doctl setup, so no DigitalOcean test depends on the machine's: HOME, XDG_CONFIG_HOME and
/// DIGITALOCEAN_CONFIG point into a fresh temp folder (doctl's config.yaml is <see cref="Config"/>, absent unless the
/// test writes it), and DIGITALOCEAN_CONTEXT and DIGITALOCEAN_ACCESS_TOKEN are unset unless the test gives them.
/// Everything is restored on Dispose. The variables are process-wide, so every test class that uses it is in the
/// <see cref="DoctlEnvironment"/> collection (which runs alone).
/// </summary>
internal sealed class DoctlHome : IDisposable
{
    private static readonly string[] Names = ["HOME", "XDG_CONFIG_HOME", "DIGITALOCEAN_CONFIG", "DIGITALOCEAN_CONTEXT", "DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_API_URL"];
    private readonly Dictionary<string, string?> _saved = new();

    public string Dir { get; } = Paths.TempDir("doctl-home");

    /// <summary>doctl's config file for this test (DIGITALOCEAN_CONFIG), as the module pins it and passes it as --config.</summary>
    public string Config => Path.Combine(Dir, ".config", "doctl", "config.yaml");

    /// <summary>What the module appends to every doctl call here: the pinned context (default) and config file.</summary>
    public string Pins => $" --context default --config {Config}";

    public DoctlHome(IReadOnlyDictionary<string, string?>? vars = null)
    {
        foreach (var name in Names.Concat(vars?.Keys ?? [])) _saved.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable("HOME", Dir);
        Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", Path.Combine(Dir, ".config"));
        Environment.SetEnvironmentVariable("DIGITALOCEAN_CONFIG", Config);
        Environment.SetEnvironmentVariable("DIGITALOCEAN_CONTEXT", null);
        Environment.SetEnvironmentVariable("DIGITALOCEAN_ACCESS_TOKEN", null);
        Environment.SetEnvironmentVariable("DIGITALOCEAN_API_URL", null);
        foreach (var (k, v) in vars ?? new Dictionary<string, string?>()) Environment.SetEnvironmentVariable(k, v);
    }

    public void Dispose()
    {
        foreach (var (k, v) in _saved) Environment.SetEnvironmentVariable(k, v);
    }
}
