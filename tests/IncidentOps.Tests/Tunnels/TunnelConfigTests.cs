using IncidentOps.Config;
using IncidentOps.Engine.Config;
using Xunit;

namespace IncidentOps.Tests.Tunnels;

/// <summary>postgres.tunnel and redis.tunnel in incidentops.yml: the shape, the checks, and where errors point.</summary>
public class TunnelConfigTests
{
    private static ConfigLoadResult Parse(string yaml) => ConfigParser.Parse(yaml, "/cfg/incidentops.yml");

    private static string Service(string body) => $"""
        version: 1
        tools: {"{"} kubectl: /opt/k8s/kubectl {"}"}
        environments:
          production:
            services:
              marketing:
        {body}
        """;

    [Fact]
    public void Each_kind_is_read_with_its_settings_and_the_tools_path_wherever_tools_stands()
    {
        var r = Parse("""
            version: 1
            environments:
              production:
                services:
                  marketing:
                    platform: kubernetes
                    context: production
                    namespace: akaind-platform
                    deployment: marketing
                    postgres: { connectionString: env:AKAIND_DATABASE_URL, tunnel: { kubectl: svc/postgres, remotePort: 5433 } }
                    redis: { url: env:AKAIND_REDIS_URL, tunnel: { kubectl: deploy/redis } }
                  api:
                    platform: fly
                    app: ai-affiliate-empire
                    postgres: { connectionString: env:DATABASE_URL, fly: ai-affiliate-empire-db, tunnel: { fly: ai-affiliate-empire-db } }
                  fastapi:
                    platform: systemd
                    unit: fastapi
                    postgres:
                      connectionString: env:FASTAPI_DATABASE_URL
                      tunnel: { ssh: deploy@bastion.example.com, identity: /keys/bastion, port: 2222, remoteHost: db.internal }
            tools: { kubectl: /opt/k8s/kubectl }
            """);
        Assert.Empty(r.Findings);
        var services = r.Config!.Services.ToDictionary(s => s.Service);
        var k = services["marketing"].Postgres!.Tunnel!;
        Assert.Equal(TunnelKind.Kubectl, k.Kind);
        Assert.Equal("svc/postgres", k.Target);
        Assert.Equal(5433, k.RemotePort);
        Assert.Equal("/opt/k8s/kubectl", k.ToolPath);
        Assert.Equal("deploy/redis", services["marketing"].RedisTunnel!.Target);
        Assert.Equal(TunnelKind.Fly, services["api"].Postgres!.Tunnel!.Kind);
        var s = services["fastapi"].Postgres!.Tunnel!;
        Assert.Equal((TunnelKind.Ssh, "deploy@bastion.example.com", "/keys/bastion", 2222, "db.internal"), (s.Kind, s.Target, s.Identity, s.Port, s.RemoteHost));
        Assert.Null(s.ToolPath);
    }

    [Theory]
    [InlineData("postgres: { connectionString: env:X, tunnel: { kubectl: '--server=http://evil' } }", "ConfigInvalidName", "kubectl port-forward target")]
    [InlineData("postgres: { connectionString: env:X, tunnel: { kubectl: secret/db } }", "ConfigInvalidName", "kubectl port-forward target")]
    [InlineData("postgres: { connectionString: env:X, tunnel: { ssh: '-oProxyCommand=touch /tmp/x' } }", "ConfigInvalidName", "ssh host")]
    [InlineData("postgres: { connectionString: env:X, tunnel: { ssh: bastion, identity: '-oX' } }", "ConfigInvalidName", "file path")]
    [InlineData("postgres: { connectionString: env:X, tunnel: { fly: Bad_App } }", "ConfigInvalidName", "Fly app name")]
    [InlineData("postgres: { connectionString: env:X, tunnel: { kubectl: svc/pg, namespace: Bad_NS } }", "ConfigInvalidName", "Kubernetes namespace")]
    [InlineData("postgres: { connectionString: env:X, tunnel: { kubectl: svc/pg, identity: /k } }", "ConfigUnknownKey", "does not apply to a kubectl tunnel")]
    [InlineData("postgres: { connectionString: env:X, tunnel: { kubectl: svc/pg, fly: app } }", "ConfigInvalidValue", "exactly one of kubectl")]
    [InlineData("postgres: { connectionString: env:X, tunnel: { namespace: ns } }", "ConfigMissingField", "exactly one of kubectl")]
    [InlineData("postgres: { connectionString: env:X, tunnel: { kubectl: svc/pg, remotePort: 70000 } }", "ConfigInvalidValue", "not a port")]
    [InlineData("postgres: { fly: app, tunnel: { fly: app } }", "ConfigMissingField", "has a tunnel but no connectionString")]
    [InlineData("redis: { tunnel: { kubectl: svc/redis } }", "ConfigMissingField", "has a tunnel but no url")]
    [InlineData("redis: { url: env:R, tunnel: { kubctl: svc/redis } }", "ConfigUnknownKey", "Did you mean 'kubectl'")]
    public void Bad_tunnels_are_errors_at_their_position(string entry, string code, string message)
    {
        var r = Parse(Service("          " + entry));
        var f = Assert.Single(r.Findings, x => x.Code == code);
        Assert.Contains(message, f.Message);
        Assert.Equal(7, f.Line);
    }
}
