using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// A platform CLI a provider drives: its name (also its key under the configuration's tools:), where to get it,
/// the cmdlet parameter that overrides its path, and the file names looked for on PATH.
/// </summary>
public sealed record CliTool(string Name, string Install, string PathParameter, params string[] FileNames)
{
    public IReadOnlyList<string> Executables => FileNames.Length > 0 ? FileNames : [Name];
}

/// <summary>How the configuration parser reads a provider's key.</summary>
public enum ConfigKeyType
{
    /// <summary>A name handed to the CLI, checked against NameKind where it is written; taken as written (an env:/file:/secret: reference is refused).</summary>
    Name,
    /// <summary>A value that may be an env:/file:/secret: reference, resolved when used.</summary>
    Reference,
    /// <summary>A list of names, each checked against NameKind.</summary>
    NameList,
    /// <summary>A local file, resolved against the configuration file's folder (~ expanded).</summary>
    Path,
    /// <summary>Text taken as written.</summary>
    Text,
}

/// <summary>
/// One key a platform provider reads under a configured service: how it is read and checked, whether the service must
/// have it, its default, and what it means (the README documents it). Required keys that share a OneOf group are
/// alternatives: a service has exactly one of them (Kubernetes: deployment, statefulSet or daemonSet). Parameter is the
/// App cmdlet parameter that gives the same value on the command line, and the key of the value in a target's options
/// (AppTarget.Options, AppIdentity.GetOptions()); null for a key that is not part of the app's identity (components).
/// </summary>
public sealed record ProviderConfigKey(string Key, string Meaning, ConfigKeyType Type = ConfigKeyType.Name, TargetNames.Kind? NameKind = null,
    bool Required = false, string? Example = null, string? Default = null, string? OneOf = null, string? Parameter = null);

/// <summary>What an adapter gets when a provider opens it: the one process runner, the operation's deadline, the sink.</summary>
public sealed record ProviderContext(ProcessRunner Runner, TimeSpan Timeout, IOperationSink Sink, PlatformsService? Platforms = null);

/// <summary>
/// An app platform (Fly, DigitalOcean App Platform, Kubernetes, systemd): everything the engine needs to know about
/// it lives in its folder under Engine/Platforms/&lt;Provider&gt;/ and is reached through this interface. Providers
/// are discovered (a public class with a parameterless constructor), as evidence sources are.
/// </summary>
public interface IPlatformProvider
{
    PlatformKind Kind { get; }
    /// <summary>Values accepted for a service's platform: key, the canonical one first.</summary>
    IReadOnlyList<string> ConfigNames { get; }
    /// <summary>The keys this platform reads under a configured service.</summary>
    IReadOnlyList<ProviderConfigKey> ConfigKeys { get; }
    IReadOnlyList<CliTool> Tools { get; }
    /// <summary>The parameter that names the app on the command line (-App, -AppId, -Deployment, -Unit).</summary>
    string TargetParameter { get; }

    /// <summary>
    /// The App cmdlet parameters this platform reads into a target's options: its identity, keyed by parameter name in
    /// AppTarget.Options and AppIdentity.GetOptions(). By default the Parameter of each configuration key; a provider that also
    /// reads a command-line-only parameter (-Component) lists it. The provider's typed options (its folder) read them.
    /// </summary>
    IReadOnlyList<string> Parameters => ConfigKeys.Select(k => k.Parameter).OfType<string>().ToList();
    /// <summary>Checks every CLI-bound name of the target and that it names an app; throws IncidentOpsException.</summary>
    void Check(AppTarget target);
    IPlatformAdapter Open(AppTarget target, ProviderContext context);

    /// <summary>The name shown for the app (AppTarget.Name): the Fly app, the DigitalOcean app id, the workload, the unit.</summary>
    string TargetName(AppTarget target);

    /// <summary>How messages, -WhatIf and the timeline name the target (AppTarget.ToString()).</summary>
    string DescribeTarget(AppTarget target) => $"{Kind} app {TargetName(target)}";

    /// <summary>
    /// Maps what the App cmdlets' static parameters (or a configured service's keys) give to a target of this platform.
    /// The cmdlets keep their parameters for tab completion and help; only the provider knows which of them it reads.
    /// Values are keyed by parameter name (App, AppId, Deployment, Namespace, Unit, ...), already resolved
    /// (env: references, paths).
    /// </summary>
    AppTarget MapParameters(IReadOnlyDictionary<string, string?> values, IReadOnlyList<HealthEndpoint> health) => AppTargets.Map(Kind, values, health);

    /// <summary>
    /// The target with the identity values the platform's CLI would otherwise take from its own defaults (a kubeconfig's
    /// current context) filled in when the target is built, so one command and the objects it writes act on one app
    /// whatever changes in those defaults meanwhile. By default the target as it is.
    /// </summary>
    AppTarget Pin(AppTarget target) => target;

    /// <summary>The CLIs a declared command action (actions: under a service) may run: the platform's own, nothing else.</summary>
    IReadOnlyList<string> ActionClis => Tools.SelectMany(t => t.Executables).ToList();

    /// <summary>The command line of a declared action that runs <paramref name="tool"/> for a configured service of this platform.</summary>
    CliCommand ActionCommand(ServiceTarget service, string tool, IReadOnlyList<string> args) => new(tool, tool, args);

    /// <summary>Whether declared manifest actions (apply:/delete: a file) run on this platform.</summary>
    bool AppliesManifests => false;

    /// <summary>
    /// The instance sizes Set-AppScale -Size offers on Tab, each with what it gives (CPUs, memory) for its tooltip: a fixed
    /// list, so completion makes no network call and needs no login. None by default (the platform takes no -Size).
    /// </summary>
    IReadOnlyList<(string Size, string Description)> InstanceSizes => [];
}

/// <summary>
/// A managed database platform (Fly Postgres, DigitalOcean databases, AWS RDS) behind the AppDatabase cmdlets. Its
/// configuration is one key under a service's postgres: (fly, digitalOcean, rds); its value names the database.
/// </summary>
public interface IDatabaseProvider
{
    PlatformKind Kind { get; }
    /// <summary>The key under a service's postgres: that names this platform's database.</summary>
    string ConfigKey { get; }
    /// <summary>What the value of <see cref="ConfigKey"/> is, for the docs and the error messages.</summary>
    string ConfigMeaning { get; }
    IReadOnlyList<CliTool> Tools { get; }
    /// <summary>-DatabaseApp or -DatabaseId: the parameter that names the database.</summary>
    string TargetParameter { get; }
    /// <summary>The kind of name the database is (checked where the configuration or a parameter gives it).</summary>
    TargetNames.Kind NameKind { get; }
    /// <summary>The database target for a configured or given name (fills DatabaseApp or DatabaseId).</summary>
    AppDatabaseTarget Target(string name, string? service);
    /// <summary>Checks the target names a database; throws IncidentOpsException.</summary>
    void Check(AppDatabaseTarget target);
    IDatabaseAdapter Open(AppDatabaseTarget target, ProviderContext context);
}

/// <summary>
/// The one registry of platform and database providers. Nothing outside it switches on a PlatformKind: the config
/// parser, the tool resolver, the target checks and the services ask it.
/// </summary>
public static class PlatformRegistry
{
    private static readonly Lazy<IReadOnlyList<IPlatformProvider>> DiscoveredPlatforms = new(Discover<IPlatformProvider>);
    private static readonly Lazy<IReadOnlyList<IDatabaseProvider>> DiscoveredDatabases = new(Discover<IDatabaseProvider>);

    private static IReadOnlyList<T> Discover<T>() =>
        typeof(T).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(T).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (T)Activator.CreateInstance(t)!)
            .OrderBy(p => p is IPlatformProvider a ? (int)a.Kind : p is IDatabaseProvider d ? (int)d.Kind : 0)
            .ToList();

    public static IReadOnlyList<IPlatformProvider> Platforms => DiscoveredPlatforms.Value;
    public static IReadOnlyList<IDatabaseProvider> Databases => DiscoveredDatabases.Value;

    /// <summary>Every CLI any provider drives, once each.</summary>
    public static IReadOnlyList<CliTool> Tools =>
        Platforms.SelectMany(p => p.Tools).Concat(Databases.SelectMany(d => d.Tools)).DistinctBy(t => t.Name).ToList();

    public static CliTool? Tool(string name) => Tools.FirstOrDefault(t => t.Name == name);

    /// <summary>
    /// The CLI paths a command gave: each tool's path is the value of the parameter its provider names
    /// (CliTool.PathParameter without the dash: FlyctlPath, KubectlPath ...); null or missing means "not given".
    /// </summary>
    public static ToolPaths GivenPaths(Func<string, string?> parameterValue) =>
        new(Tools.Select(t => KeyValuePair.Create(t.Name, parameterValue(t.PathParameter.TrimStart('-')))));

    public static IPlatformProvider? Platform(PlatformKind kind) => Platforms.FirstOrDefault(p => p.Kind == kind);

    public static IDatabaseProvider? Database(PlatformKind kind) => Databases.FirstOrDefault(p => p.Kind == kind);

    /// <summary>The platform a configuration value (fly, k8s, app-platform ...) names; None for "none".</summary>
    public static bool TryParseConfigName(string value, out PlatformKind kind)
    {
        kind = PlatformKind.None;
        if (string.Equals(value, "none", StringComparison.OrdinalIgnoreCase)) return true;
        var p = Platforms.FirstOrDefault(p => p.ConfigNames.Contains(value, StringComparer.OrdinalIgnoreCase));
        if (p is null) return false;
        kind = p.Kind;
        return true;
    }

    /// <summary>The keys a configured service may have beyond the common ones: the union of every platform's keys.</summary>
    public static IReadOnlyList<string> ServiceKeys => Platforms.SelectMany(p => p.ConfigKeys.Select(k => k.Key)).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>How a service key is read: the description of the first provider that declares it.</summary>
    public static ProviderConfigKey? ServiceKey(string key) => Platforms.SelectMany(p => p.ConfigKeys).FirstOrDefault(k => k.Key == key);

    /// <summary>Every parameter any platform reads into a target's options (the union of IPlatformProvider.Parameters), once each.</summary>
    public static IReadOnlyList<string> TargetParameters => Platforms.SelectMany(p => p.Parameters).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>The configuration key behind a target option (by its Parameter), as the first provider that declares it reads it; null for a command-line-only parameter.</summary>
    public static ProviderConfigKey? TargetKey(string parameter) =>
        Platforms.SelectMany(p => p.ConfigKeys).FirstOrDefault(k => string.Equals(k.Parameter, parameter, StringComparison.OrdinalIgnoreCase));

    /// <summary>"A, B, C or D" of the app platforms' canonical names.</summary>
    public static string PlatformList(bool config = false) => Or(Platforms.Select(p => config ? p.ConfigNames[0] : p.Kind.ToString()));

    public static string DatabaseList() => Or(Databases.Select(d => $"-Platform {d.Kind} {d.TargetParameter} NAME"));

    /// <summary>"a, b or c".</summary>
    public static string Or(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list.Take(list.Count - 1)) + " or " + list[^1];
    }

    /// <summary>The target, named and described by its platform's provider (unchanged when no app provider has its platform).</summary>
    public static AppTarget Describe(AppTarget target) =>
        Platform(target.Platform) is { } p ? target.Described(p.TargetName(target), p.DescribeTarget(target)) : target;

    /// <summary>The target that the App cmdlets' parameters (or a configured service) give, as the platform's provider maps and names it.</summary>
    public static AppTarget Target(PlatformKind platform, IReadOnlyDictionary<string, string?> values, IReadOnlyList<HealthEndpoint>? health = null)
    {
        health ??= [];
        var provider = Platform(platform);
        return provider is null ? AppTargets.Map(platform, values, health) : Describe(provider.Pin(provider.MapParameters(values, health)));
    }

    /// <summary>The CLIs a declared command action of a service on this platform may run (none without a platform).</summary>
    public static IReadOnlyList<string> ActionClis(PlatformKind platform) => Platform(platform)?.ActionClis ?? [];

    /// <summary>The command line of a declared action running <paramref name="tool"/>, as the service's platform runs it.</summary>
    public static CliCommand ActionCommand(ServiceTarget service, string tool, IReadOnlyList<string> args) =>
        Platform(service.Platform) is { } p ? p.ActionCommand(service, tool, args) : new CliCommand(tool, tool, args);

    /// <summary>Whether the platform runs declared manifest actions.</summary>
    public static bool AppliesManifests(PlatformKind platform) => Platform(platform)?.AppliesManifests ?? false;

    /// <summary>The command that applies or deletes a manifest for a service whose platform runs manifest actions (checked when the configuration loads).</summary>
    public static CliCommand ManifestCommand(ServiceTarget service, string operation, string path)
    {
        var provider = Platform(service.Platform) is { AppliesManifests: true } p ? p
            : throw new IncidentOpsException(IncidentOps.Actions.ActionErrorIds.ManifestUnsupported, IncidentOpsErrorCategory.InvalidOperation,
                $"{service.FullName} runs on {service.Platform}, which does not apply manifests. Manifest actions are for platform: {ManifestPlatforms}.") { TargetObject = service.FullName };
        return provider.ActionCommand(service, provider.Tools[0].Name, [operation, "-f", path]);
    }

    /// <summary>The configuration names of the platforms that run manifest actions ("kubernetes").</summary>
    public static string ManifestPlatforms => Or(Platforms.Where(p => p.AppliesManifests).Select(p => p.ConfigNames[0]));

    /// <summary>The CLIs of the platforms that run manifest actions ("kubectl").</summary>
    public static string ManifestClis => Or(Platforms.Where(p => p.AppliesManifests).SelectMany(p => p.Tools.Select(t => t.Name)));

    /// <summary>Opens the adapter of an app target, through its provider.</summary>
    public static IPlatformAdapter Open(AppTarget target, ProviderContext context)
    {
        var provider = Platform(target.Platform) ?? throw new IncidentOpsException(PlatformErrorIds.AppTargetIncomplete, IncidentOpsErrorCategory.InvalidArgument,
            target.Platform == PlatformKind.None || Database(target.Platform) is null
                ? $"No platform given. Pass -Platform {PlatformList().Replace(" or ", "|", StringComparison.Ordinal).Replace(", ", "|", StringComparison.Ordinal)} with its target parameters, or -Service NAME of a configured service."
                : $"{target.Platform} is a database platform here, not an app platform: use the AppDatabase cmdlets (Get-AppDatabase -Platform {target.Platform}). App platforms: {PlatformList()}.");
        provider.Check(target);
        return provider.Open(target, context);
    }

    /// <summary>Opens the adapter of a database target, through its provider.</summary>
    public static IDatabaseAdapter Open(AppDatabaseTarget target, ProviderContext context)
    {
        if (target.Platform == PlatformKind.None)
            throw new IncidentOpsException(PlatformErrorIds.DatabaseTargetIncomplete, IncidentOpsErrorCategory.InvalidArgument,
                $"No platform given. Pass {DatabaseList()}, or -Service NAME of a configured service with {Or(Databases.Select(d => "postgres." + d.ConfigKey))}.");
        var provider = Database(target.Platform) ?? throw new IncidentOpsException(PlatformErrorIds.PlatformOperationNotSupported, IncidentOpsErrorCategory.NotImplemented,
            $"{target.Platform} has no managed database these cmdlets can drive. For PostgreSQL you run yourself, use the Pg cmdlets (Get-PgActivity, Stop-PgBackend) and your own backup tooling (pg_dump, pgBackRest).");
        provider.Check(target);
        // A target built by hand (not by its provider) gets the provider's label, so messages name it the same way.
        if (target.Label is null) target = provider.Target((provider.TargetParameter == "-DatabaseApp" ? target.DatabaseApp : target.DatabaseId)!, target.Service);
        return provider.Open(target, context);
    }

    /// <summary>AppTargetIncomplete for a target that lacks the parameter naming its app.</summary>
    public static IncidentOpsException Incomplete(AppTarget t, string what) => new(PlatformErrorIds.AppTargetIncomplete, IncidentOpsErrorCategory.InvalidArgument,
        $"A {t.Platform} target needs {what}. Pass it, or use -Service with a configured service.") { TargetObject = t.ToString() };

    /// <summary>DatabaseTargetIncomplete for a database target that lacks its name.</summary>
    public static IncidentOpsException Incomplete(IDatabaseProvider p, AppDatabaseTarget t, string what) => new(PlatformErrorIds.DatabaseTargetIncomplete, IncidentOpsErrorCategory.InvalidArgument,
        $"A {t.Platform} database target needs {what}. Pass it, or use -Service with a configured service whose postgres has {p.ConfigKey}: set.") { TargetObject = t.ToString() };
}

/// <summary>
/// Builds an AppTarget from values keyed by the App cmdlets' parameter names. This is the mapping a provider uses unless
/// it maps its own parameters (IPlatformProvider.MapParameters): Service and Environment are common, every other value
/// goes into the target's options, so objects keep the identity the user gave. It knows no platform: the providers'
/// keys (ProviderConfigKey.Parameter, IPlatformProvider.Parameters) say which values there are.
/// </summary>
public static class AppTargets
{
    /// <summary>The parameter names an App target is built from: Service, Environment and every platform's parameters.</summary>
    public static IReadOnlyList<string> ParameterNames => ["Service", "Environment", .. PlatformRegistry.TargetParameters];

    private static bool IsCommon(string key) =>
        string.Equals(key, "Service", StringComparison.OrdinalIgnoreCase) || string.Equals(key, "Environment", StringComparison.OrdinalIgnoreCase);

    public static AppTarget Map(PlatformKind platform, IReadOnlyDictionary<string, string?> v, IReadOnlyList<HealthEndpoint> health)
    {
        string? Get(string name) => v.FirstOrDefault(kv => string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        return new AppTarget
        {
            Platform = platform, Service = Get("Service"), Environment = Get("Environment"),
            Options = new AppOptions(v.Where(kv => !IsCommon(kv.Key))), Health = health,
        };
    }

    /// <summary>
    /// A configured service's platform settings as target options: each key a provider declares with a Parameter, under
    /// that parameter's name (host: becomes ComputerName). Text values only; a reference (appId: env:X) is resolved by
    /// FromServiceAsync.
    /// </summary>
    public static AppOptions ServiceOptions(ServiceTarget s)
    {
        var options = new AppOptions();
        foreach (var (key, value) in s.Options)
            if (PlatformRegistry.ServiceKey(key) is { Parameter: { } parameter } && value is string text) options.Set(parameter, text);
        return options;
    }

    /// <summary>
    /// The values a configured service gives (its platform keys, references resolved), each overridden by a non-null
    /// entry of <paramref name="overrides"/> (the parameters the user also passed).
    /// </summary>
    public static async Task<Dictionary<string, string?>> FromServiceAsync(ServiceTarget s, Func<ConfigValue, CancellationToken, Task<string>> resolve,
        CancellationToken ct, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var resolved = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in s.Options)
            if (PlatformRegistry.ServiceKey(key) is { Parameter: { } parameter } && value is ConfigValue reference)
                resolved[parameter] = await resolve(reference, ct).ConfigureAwait(false);
        return FromService(s, resolved, overrides);
    }

    /// <summary>
    /// The values a configured service gives: its text settings (ServiceOptions) and <paramref name="resolved"/> (its
    /// references, already resolved, by parameter name), each overridden by a non-null entry of <paramref name="overrides"/>.
    /// </summary>
    public static Dictionary<string, string?> FromService(ServiceTarget s, IReadOnlyDictionary<string, string?>? resolved = null, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Service"] = s.FullName, ["Environment"] = s.Environment };
        foreach (var (key, value) in ServiceOptions(s)) values[key] = value;
        foreach (var source in new[] { resolved, overrides })
            if (source is not null)
                foreach (var (key, value) in source)
                    if (value is not null) values[key] = value;
        return values;
    }

    /// <summary>
    /// The identity values a piped object's Options carries (App cmdlets' -Options): an App object's AppOptions as they
    /// are; a configured service's options by configuration key, under their parameter names (text values only); a
    /// hashtable's entries as text. Anything else gives nothing.
    /// </summary>
    public static AppOptions FromPiped(object? options)
    {
        switch (options)
        {
            case AppOptions o: return o;
            case IReadOnlyDictionary<string, object> service:
                var mapped = new AppOptions();
                foreach (var (key, value) in service)
                    if (value is string text) mapped.Set(PlatformRegistry.ServiceKey(key)?.Parameter ?? key, text);
                return mapped;
            case System.Collections.IDictionary table:
                var given = new AppOptions();
                foreach (System.Collections.DictionaryEntry e in table)
                    if (e.Key?.ToString() is { Length: > 0 } key && e.Value is not null and not System.Collections.ICollection) given.Set(key, e.Value.ToString());
                return given;
            default: return new AppOptions();
        }
    }
}

/// <summary>Builds database targets from what the AppDatabase cmdlets were given, asking the providers.</summary>
public static class DatabaseTargets
{
    /// <summary>A target from a service's postgres.KEY (KEY is a database provider's ConfigKey).</summary>
    public static AppDatabaseTarget FromConfig(string key, string name, string service) =>
        PlatformRegistry.Databases.First(d => string.Equals(d.ConfigKey, key, StringComparison.OrdinalIgnoreCase)).Target(name, service);

    /// <summary>
    /// A target from -DatabaseApp/-DatabaseId. With -Platform, that platform's provider; without, the first provider
    /// whose parameter was given (-DatabaseApp: Fly Postgres, -DatabaseId: DigitalOcean).
    /// </summary>
    public static AppDatabaseTarget Direct(PlatformKind platform, string? databaseApp, string? databaseId, string? service)
    {
        var provider = platform != PlatformKind.None ? PlatformRegistry.Database(platform)
            : PlatformRegistry.Databases.First(d => d.TargetParameter == (!string.IsNullOrEmpty(databaseApp) ? "-DatabaseApp" : "-DatabaseId"));
        // A platform without a database provider still becomes a target: opening it says what to use instead.
        if (provider is null) return new AppDatabaseTarget { Platform = platform, Service = service, DatabaseApp = databaseApp, DatabaseId = databaseId };
        var name = provider.TargetParameter == "-DatabaseApp" ? databaseApp : databaseId;
        return provider.Target(name ?? "", service);
    }

    /// <summary>"postgres.fly, postgres.digitalOcean or postgres.rds".</summary>
    public static string ConfigKeys => PlatformRegistry.Or(PlatformRegistry.Databases.Select(d => "postgres." + d.ConfigKey));

    /// <summary>"-Platform Fly -DatabaseApp NAME, ... or -Platform Aws -DatabaseId NAME".</summary>
    public static string Parameters => PlatformRegistry.DatabaseList();
}
