using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// The provider, not the cmdlet or the model, maps the App cmdlets' parameters to a target and names it. The names and
/// descriptions are the ones users saw before the providers took them over (messages, -WhatIf, timelines, objects).
/// </summary>
public class ProviderTargetTests
{
    private static AppTarget Target(PlatformKind kind, params (string Key, string? Value)[] values) =>
        PlatformRegistry.Target(kind, values.ToDictionary(v => v.Key, v => v.Value));

    [Theory]
    [InlineData(PlatformKind.Fly, "App", "my-fly-app", "my-fly-app", "Fly app my-fly-app")]
    [InlineData(PlatformKind.DigitalOcean, "AppId", "f1e2d3c4", "f1e2d3c4", "DigitalOcean app f1e2d3c4")]
    [InlineData(PlatformKind.Kubernetes, "Deployment", "api", "api", "Kubernetes deployment/api")]
    [InlineData(PlatformKind.Kubernetes, "StatefulSet", "postgres", "postgres", "Kubernetes statefulset/postgres")]
    [InlineData(PlatformKind.Kubernetes, "DaemonSet", "node-exporter", "node-exporter", "Kubernetes daemonset/node-exporter")]
    [InlineData(PlatformKind.Systemd, "Unit", "fastapi", "fastapi", "systemd unit fastapi")]
    public void Each_provider_names_and_describes_its_target(PlatformKind kind, string parameter, string value, string name, string description)
    {
        var t = Target(kind, (parameter, value));
        Assert.Equal(name, t.Name);
        Assert.Equal(description, t.ToString());
    }

    [Fact]
    public void Descriptions_carry_the_namespace_context_component_and_host()
    {
        Assert.Equal("Kubernetes deployment/api in prod (kind-ops)", Target(PlatformKind.Kubernetes, ("Deployment", "api"), ("Namespace", "prod"), ("Context", "kind-ops")).ToString());
        Assert.Equal("DigitalOcean app f1e2d3c4/web", Target(PlatformKind.DigitalOcean, ("AppId", "f1e2d3c4"), ("Component", "web")).ToString());
        Assert.Equal("systemd unit fastapi on deploy@web-1", Target(PlatformKind.Systemd, ("Unit", "fastapi"), ("ComputerName", "deploy@web-1")).ToString());
    }

    [Fact]
    public void An_adapter_built_directly_gets_its_providers_name()
    {
        // Tests and the database adapters build targets by hand; the adapter still shows the provider's name.
        var adapter = new KubernetesAdapter(new AppTarget { Platform = PlatformKind.Kubernetes, Options = new Dictionary<string, string> { ["StatefulSet"] = "postgres", ["Namespace"] = "db" } },
            new ProcessRunner(NullSink.Instance, new ToolResolver(null, null)), TimeSpan.FromSeconds(5), NullSink.Instance);
        Assert.Equal("postgres", adapter.Target.Name);
        Assert.Equal("Kubernetes statefulset/postgres in db", adapter.Target.ToString());
    }

    [Fact]
    public void A_configured_service_gives_the_target_and_parameters_override_it()
    {
        var s = new ServiceTarget { Service = "api", Environment = "production", Platform = PlatformKind.Kubernetes, Deployment = "api", Namespace = "prod", Context = "ops" };
        var t = PlatformRegistry.Target(s.Platform, AppTargets.FromService(s, null, new Dictionary<string, string?> { ["Namespace"] = "staging", ["Context"] = null }));
        Assert.Equal("production/api", t.Service);
        Assert.Equal("Kubernetes deployment/api in staging (ops)", t.ToString());
    }

    [Theory]
    [InlineData(PlatformKind.Fly, "flyctl,fly")]
    [InlineData(PlatformKind.DigitalOcean, "doctl")]
    [InlineData(PlatformKind.Kubernetes, "kubectl")]
    [InlineData(PlatformKind.Systemd, "systemctl,journalctl")]
    [InlineData(PlatformKind.None, "")]
    public void A_declared_command_action_may_run_its_platforms_own_cli(PlatformKind kind, string clis) =>
        Assert.Equal(clis, string.Join(",", PlatformRegistry.ActionClis(kind)));
}
