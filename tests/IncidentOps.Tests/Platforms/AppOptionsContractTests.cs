using System.Reflection;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// The shared App types hold no platform of their own: a platform's identity (its workload, unit, host, app id ...)
/// lives in the target's and the object's options, keyed by the parameter names its provider declares, and the provider
/// reads it through its typed options. A field added to AppTarget or AppIdentity for one platform fails here; so does a
/// provider parameter that does not travel from the parameters to the target, onto an object and back into a target.
/// </summary>
public class AppOptionsContractTests
{
    /// <summary>What every App target has whatever its platform.</summary>
    private static readonly string[] CommonTargetProperties = ["Platform", "Service", "Environment", "Options", "Health", "Name"];

    /// <summary>What every App object has whatever its platform.</summary>
    private static readonly string[] CommonIdentityProperties = ["Platform", "Service", "Environment"];

    /// <summary>
    /// The named properties App objects had before their identity moved into Options: views of Options entries, kept so
    /// objects look and bind as before. Frozen: a platform added later keeps its keys in Options only.
    /// </summary>
    private static readonly string[] LegacyViews =
        ["App", "AppId", "Component", "Deployment", "StatefulSet", "DaemonSet", "Namespace", "Context", "Kubeconfig", "Unit", "ComputerName", "ReleasesPath"];

    private static string Sample(string parameter) => "v-" + parameter.ToLowerInvariant();

    [Fact]
    public void AppTarget_has_no_platform_specific_property_or_field()
    {
        var properties = typeof(AppTarget).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).ToList();
        var extra = properties.Except(CommonTargetProperties).ToList();
        Assert.True(extra.Count == 0,
            $"AppTarget has {string.Join(", ", extra)}: a platform's identity belongs in AppTarget.Options (keyed by the parameter its provider declares) and in the provider's typed options (Engine/Platforms/<Provider>/<Provider>Options.cs), not on the shared target.");
        // Storage: the options, the provider-given name and description, and the common properties' backing fields.
        var fields = typeof(AppTarget).GetFields(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance).Select(f => f.Name).ToList();
        Assert.Equal(["<Environment>k__BackingField", "<Health>k__BackingField", "<Platform>k__BackingField", "<Service>k__BackingField", "_description", "_name", "_options"],
            fields.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AppIdentity_stores_only_its_options_and_its_named_properties_are_views_of_them()
    {
        var declared = typeof(AppIdentity).GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Select(p => p.Name).ToList();
        var extra = declared.Except(CommonIdentityProperties).Except(LegacyViews).ToList();
        Assert.True(extra.Count == 0,
            $"AppIdentity has {string.Join(", ", extra)}: a platform added later keeps its identity in AppIdentity.GetOptions() (the App cmdlets read it from the piped object), with no property of its own on the shared type.");
        // No storage beyond the options and the common properties: a platform field (an auto-property) would add a backing field.
        var fields = typeof(AppIdentity).GetFields(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Select(f => f.Name);
        Assert.Equal(["<Environment>k__BackingField", "<Platform>k__BackingField", "<Service>k__BackingField", "_options"], fields.Order(StringComparer.Ordinal));

        foreach (var view in LegacyViews)
        {
            var property = typeof(AppIdentity).GetProperty(view)!;
            // Read: the view shows the option a target gave.
            var fromTarget = new AppStatus { Name = "x" };
            fromTarget.SetOrigin(new AppTarget { Platform = PlatformKind.None, Options = new Dictionary<string, string> { [view] = Sample(view) } });
            Assert.Equal(Sample(view), property.GetValue(fromTarget));
            // Write: setting the view sets the option, so the adapters' object initializers and Options agree.
            var set = new AppStatus { Name = "x" };
            property.SetValue(set, Sample(view));
            Assert.Equal(Sample(view), set.GetOptions().Get(view));
            Assert.Single(set.GetOptions());
        }
    }

    [Fact]
    public void The_options_are_not_a_property_of_App_objects_nor_a_parameter_of_the_App_cmdlets()
    {
        // A property would print in ConvertTo-Json and Export-Csv as a key/value list repeating the named properties, and a
        // parameter would show in the cmdlets' syntax; the cmdlets read the options from the piped object instead.
        Assert.Null(typeof(AppIdentity).GetProperty("Options"));
        Assert.NotNull(typeof(AppIdentity).GetMethod(nameof(AppIdentity.GetOptions)));
        var appCmdlet = Paths.ModuleAssembly.GetType("IncidentOps.Commands.AppCmdlet")!;
        var appCmdlets = Paths.ModuleAssembly.GetTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(appCmdlet)).ToList();
        Assert.Contains(appCmdlets, t => t.Name == "RestartAppCommand");
        Assert.All(appCmdlets, t => Assert.Null(t.GetProperty("Options")));
    }

    [Fact]
    public void Every_named_view_is_a_parameter_a_provider_declares()
    {
        // A view whose platform is gone would be a field of no platform.
        var parameters = PlatformRegistry.TargetParameters;
        Assert.All(LegacyViews, view => Assert.Contains(view, parameters, StringComparer.OrdinalIgnoreCase));
    }

    public static TheoryData<string> Providers() => new(PlatformRegistry.Platforms.Select(p => p.Kind.ToString()));

    [Theory]
    [MemberData(nameof(Providers))]
    public void Every_parameter_of_a_provider_round_trips_through_the_target_an_object_and_back(string kindName)
    {
        var provider = PlatformRegistry.Platform(Enum.Parse<PlatformKind>(kindName))!;
        Assert.NotEmpty(provider.Parameters);
        // One workload at a time where the provider takes alternatives (OneOf): the others stay out.
        var oneOf = provider.ConfigKeys.Where(k => k.OneOf is not null).Skip(1).Select(k => k.Parameter).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var given = provider.Parameters.Where(p => !oneOf.Contains(p)).ToDictionary(p => p, p => (string?)Sample(p));
        given["Service"] = "production/api";

        var target = PlatformRegistry.Target(provider.Kind, given);
        foreach (var parameter in given.Keys.Where(k => k != "Service"))
            Assert.Equal(Sample(parameter), target.Option(parameter));

        var status = new AppStatus { Name = target.Name };
        status.SetOrigin(target);
        Assert.Equal("production/api", status.Service);
        foreach (var parameter in given.Keys.Where(k => k != "Service"))
            Assert.Equal(Sample(parameter), status.GetOptions().Get(parameter));

        // Piped back (the App cmdlets read the piped object's options), the object addresses the same app.
        var again = PlatformRegistry.Target(provider.Kind, new Dictionary<string, string?>(AppTargets.FromPiped(status.GetOptions())!.Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value))));
        Assert.Equal(target.Name, again.Name);
        Assert.Equal(target.ToString(), again.ToString());
        Assert.Equal(target.Options.OrderBy(kv => kv.Key), again.Options.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void A_key_no_model_property_knows_travels_from_the_parameters_onto_objects_and_back()
    {
        // What a new platform's key (an ECS cluster, say) goes through: no property of AppTarget or AppIdentity names it.
        Assert.Null(typeof(AppIdentity).GetProperty("Cluster"));
        var target = PlatformRegistry.Target(PlatformKind.Kubernetes, new Dictionary<string, string?> { ["Deployment"] = "api", ["Cluster"] = "blue" });
        Assert.Equal("blue", target.Option("cluster"));
        var result = new AppActionResult { Name = target.Name, Action = "Restart" };
        result.SetOrigin(target);
        Assert.Equal("blue", result.GetOptions()["Cluster"]);
        var again = AppTargets.Map(PlatformKind.Kubernetes, AppTargets.FromPiped(result.GetOptions()).ToDictionary(kv => kv.Key, kv => (string?)kv.Value), []);
        Assert.Equal("blue", again.Option("Cluster"));
        Assert.Equal("api", again.Option("Deployment"));
    }

    [Fact]
    public void SetOrigin_keeps_what_the_target_lacks_and_takes_what_it_has()
    {
        var status = new AppStatus { Name = "api", Namespace = "from-adapter", Deployment = "api" };
        status.SetOrigin(PlatformRegistry.Target(PlatformKind.Kubernetes, new Dictionary<string, string?> { ["Deployment"] = "api", ["Context"] = "ops" }));
        Assert.Equal("from-adapter", status.Namespace);
        Assert.Equal("ops", status.Context);
        Assert.Equal(PlatformKind.Kubernetes, status.Platform);
    }

    public static TheoryData<string> ProviderConfigKeys() =>
        new(PlatformRegistry.Platforms.SelectMany(p => p.ConfigKeys.Where(k => k.Parameter is not null && k.Type != ConfigKeyType.Reference).Select(k => $"{p.Kind}:{k.Key}")));

    [Theory]
    [MemberData(nameof(ProviderConfigKeys))]
    public void Every_configuration_key_reaches_the_target_under_its_parameter(string kindAndKey)
    {
        var (kind, key) = (Enum.Parse<PlatformKind>(kindAndKey.Split(':')[0]), kindAndKey.Split(':')[1]);
        var declared = PlatformRegistry.Platform(kind)!.ConfigKeys.Single(k => k.Key == key);
        var service = new ServiceTarget { Environment = "production", Service = "api", Platform = kind, Options = new Dictionary<string, object> { [key] = "v-" + key } };
        var values = AppTargets.FromService(service);
        Assert.Equal("v-" + key, values[declared.Parameter!]);
        Assert.Equal("production/api", values["Service"]);
        Assert.Equal("v-" + key, AppTargets.Map(kind, values, []).Option(declared.Parameter!));
    }

    [Fact]
    public async Task A_reference_key_is_resolved_before_it_reaches_the_target()
    {
        var service = new ServiceTarget { Environment = "production", Service = "portfolio", Platform = PlatformKind.DigitalOcean, AppId = new ConfigValue("env:DO_APP_ID", false, null) };
        var values = await AppTargets.FromServiceAsync(service, (v, _) => Task.FromResult(v.Reference == "DO_APP_ID" ? "f1e2d3c4" : "?"), CancellationToken.None);
        var target = PlatformRegistry.Target(PlatformKind.DigitalOcean, values);
        Assert.Equal("f1e2d3c4", target.Option("AppId"));
        Assert.Equal("DigitalOcean app f1e2d3c4", target.ToString());
    }
}
