using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using Xunit;

namespace IncidentOps.Tests.Config;

public class ConfigParserTests
{
    private static ConfigLoadResult Parse(string yaml) => ConfigParser.Parse(yaml, "/cfg/incidentops.yml");

    private static ConfigFinding SingleError(ConfigLoadResult r)
    {
        var errors = r.Findings.Where(f => f.Severity == FindingSeverity.Error).ToList();
        Assert.True(errors.Count == 1, "expected one error, got: " + string.Join(" | ", errors));
        return errors[0];
    }

    [Fact]
    public void Connection_strings_mask_only_their_credentials()
    {
        var pw = "Cs" + Guid.NewGuid().ToString("N")[..10];
        var r = Parse($"""
            version: 1
            environments:
              production:
                services:
                  api:
                    postgres: 'postgres://ops:{pw}%40x@db.internal:6432/app'
                    redis: 'cache.internal:6380,password={pw}r,ssl=true'
                  web:
                    redis: 'redis://{pw}legacy@cache2.internal:6379/0'
                  plain:
                    redis: '10.0.0.7:6379'
            """);
        Assert.Empty(r.Findings.Where(f => f.Severity == FindingSeverity.Error));
        var services = r.Config!.Environments.Single().Services;
        Assert.Equal("postgres://ops:********@db.internal:6432/app", services[0].Postgres!.ConnectionString!.ToString());
        Assert.Equal("cache.internal:6380,password=********,ssl=true", services[0].Redis!.ToString());
        Assert.Equal("redis://********@cache2.internal:6379/0", services[1].Redis!.ToString());
        Assert.Equal("10.0.0.7:6379", services[2].Redis!.ToString());
        // Registered, so they are masked wherever they travel, also decoded and on their own.
        Assert.Equal("x ******** y", SecretRedactor.Redact($"x {pw}@x y"));
        Assert.Equal("******** and ********", SecretRedactor.Redact($"{pw}r and {pw}legacy"));
        Assert.Equal("Redis at 10.0.0.7:6379 is down", SecretRedactor.Redact("Redis at 10.0.0.7:6379 is down"));
    }

    [Fact]
    public void Example_config_describes_the_four_seed_systems()
    {
        var r = new ConfigService().Load(Path.Combine(Paths.Examples, "incidentops.yml"));
        Assert.Empty(r.Findings);
        var prod = r.Config!.Environments.Single(e => e.Name == "production").Services;
        Assert.Equal(["api", "portfolio", "marketing", "fastapi"], prod.Select(s => s.Service));
        Assert.Equal([PlatformKind.Fly, PlatformKind.DigitalOcean, PlatformKind.Kubernetes, PlatformKind.Systemd], prod.Select(s => s.Platform));
        var api = prod[0];
        Assert.Equal("ai-affiliate-empire", api.App);
        Assert.Equal("ai-affiliate-empire-db", api.Postgres!.FlyApp);
        Assert.Equal("env:DATABASE_URL", api.Postgres.ConnectionString!.ToString());
        Assert.Equal(3, api.Health.Count);
        Assert.Equal([200], api.Health[1].ExpectStatus!);
        var k8s = prod[2];
        Assert.Equal(("production", "akaind-platform", "marketing"), (k8s.Context, k8s.Namespace, k8s.Deployment));
        var systemd = prod[3];
        Assert.Equal(("fastapi", "deploy@api-1.example.com", "/srv/fastapi/releases"), (systemd.Unit, systemd.ComputerName, systemd.ReleasesPath));
        Assert.Equal(["incidents", "pager", "status"], r.Config.Routing["P0"]);
        Assert.Equal(TimeSpan.FromMinutes(15), r.Config.Severities.Single(s => s.Id == "P0").UpdateEvery);
    }

    [Fact]
    public void Severities_default_to_the_seeds_P0_to_P3_matrix()
    {
        var r = Parse("environments: {}\n");
        Assert.Empty(r.Findings);
        Assert.Equal(["P0", "P1", "P2", "P3"], r.Config!.Severities.Select(s => s.Id));
        Assert.Equal([5, 15, 60, 240], r.Config.Severities.Select(s => (int)s.ResponseTarget.TotalMinutes));
    }

    [Fact]
    public void P1_to_P4_scheme_of_seed_002_can_be_configured()
    {
        var r = new ConfigService().Load(Path.Combine(Paths.Examples, "incidentops-p1p4.yml"));
        Assert.Empty(r.Findings);
        Assert.Equal(["P1", "P2", "P3", "P4"], r.Config!.Severities.Select(s => s.Id));
        Assert.Equal(TimeSpan.FromHours(24), r.Config.Severities[3].ResponseTarget);
        Assert.Equal(0, r.Config.Severities[0].Rank);
    }

    [Fact]
    public void Malformed_yaml_is_reported_with_line_and_column()
    {
        var f = SingleError(Parse("version: 1\nenvironments:\n  production:\n    services: [unclosed\n"));
        Assert.Equal("ConfigSyntaxError", f.Code);
        Assert.Equal("/cfg/incidentops.yml", f.File);
        Assert.True(f.Line >= 4, f.ToString());
        Assert.True(f.Column > 0, f.ToString());
    }

    [Fact]
    public void Unknown_key_names_the_closest_valid_key_and_its_position()
    {
        var f = SingleError(Parse("version: 1\nseverites:\n  P0: { name: X, responseTarget: 5m }\n"));
        Assert.Equal("ConfigUnknownKey", f.Code);
        Assert.Equal((2, 1), (f.Line, f.Column));
        Assert.Contains("Did you mean 'severities'?", f.Message);
    }

    [Fact]
    public void Unknown_key_inside_a_service_is_found_where_it_stands()
    {
        var f = SingleError(Parse("environments:\n  prod:\n    services:\n      api:\n        platform: fly\n        app: a\n        namepsace: x\n"));
        Assert.Equal(("ConfigUnknownKey", 7, 9), (f.Code, f.Line, f.Column));
        Assert.Contains("'namespace'", f.Message);
    }

    [Fact]
    public void Unknown_platform_is_an_error_with_a_suggestion()
    {
        var f = SingleError(Parse("environments:\n  prod:\n    services:\n      api:\n        platform: kubernets\n        deployment: api\n"));
        Assert.Equal(("ConfigUnknownPlatform", 5, 19), (f.Code, f.Line, f.Column));
        Assert.Contains("Did you mean 'kubernetes'?", f.Message);
    }

    [Theory]
    [InlineData("fly", "app")]
    [InlineData("digitalocean", "appId")]
    [InlineData("kubernetes", "deployment")]
    [InlineData("systemd", "unit")]
    public void Each_platform_requires_its_target_field(string platform, string field)
    {
        var f = SingleError(Parse($"environments:\n  prod:\n    services:\n      api:\n        platform: {platform}\n"));
        Assert.Equal(("ConfigMissingField", 5), (f.Code, f.Line));
        Assert.Contains($"'{field}'", f.Message);
    }

    [Fact]
    public void Bad_duration_and_unknown_routing_targets_are_errors()
    {
        var r = Parse("severities:\n  P1: { name: High, responseTarget: soon }\nchannels:\n  ops: { type: discord, url: env:D }\nrouting:\n  P1: [opz]\n  P9: [ops]\n");
        var codes = r.Findings.Select(f => (f.Code, f.Line)).ToList();
        Assert.Contains(("ConfigInvalidDuration", 2), codes);
        Assert.Contains(("ConfigUnknownChannel", 6), codes);
        Assert.Contains(("ConfigUnknownSeverity", 7), codes);
        Assert.Contains("Did you mean 'ops'?", r.Findings.Single(f => f.Code == "ConfigUnknownChannel").Message);
    }

    [Fact]
    public void Channels_need_their_provider_fields()
    {
        var r = Parse("channels:\n  pager: { type: pagerduty }\n  status: { type: statuspage, pageId: x }\n  chat: { type: slak, url: env:X }\n");
        Assert.Contains(r.Findings, f => f.Code == "ConfigMissingField" && f.Line == 2 && f.Message.Contains("routingKey"));
        Assert.Contains(r.Findings, f => f.Code == "ConfigMissingField" && f.Line == 3 && f.Message.Contains("apiKey"));
        Assert.Contains(r.Findings, f => f.Code == "ConfigUnknownChannelType" && f.Line == 4 && f.Message.Contains("'slack'"));
    }

    [Fact]
    public async Task Unresolved_references_are_reported_at_their_position()
    {
        var dir = Paths.TempDir();
        var file = Path.Combine(dir, "incidentops.yml");
        var missing = "IO_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(file, $"environments:\n  prod:\n    services:\n      db:\n        postgres: env:{missing}\n        redis: file:./nope.txt\n");
        var findings = await ConfigValidator.ValidateAsync(new ConfigService(), file, new ReferenceResolver(NoSecretProvider.Instance), true, CancellationToken.None);
        var env = findings.Single(f => f.Code == "ConfigReferenceUnresolved" && f.Line == 5);
        Assert.Equal((FindingSeverity.Error, 19), (env.Severity, env.Column));
        Assert.Contains(missing, env.Message);
        Assert.Contains(findings, f => f.Code == "ConfigReferenceUnresolved" && f.Line == 6 && f.Message.Contains("nope.txt"));
    }

    [Fact]
    public async Task Resolved_secret_values_are_registered_for_redaction()
    {
        var dir = Paths.TempDir();
        var secretFile = Path.Combine(dir, "hook.txt");
        var canary = "https://hooks.slack.example/services/T000/B000/CANARY" + Guid.NewGuid().ToString("N");
        File.WriteAllText(secretFile, canary + "\n");
        var value = new ConfigValue("file:" + secretFile, isSecret: true, new ConfigLocation("x.yml", 1, 1));
        var resolved = await new ReferenceResolver(NoSecretProvider.Instance).ResolveAsync(value, CancellationToken.None);
        Assert.Equal(canary, resolved);
        Assert.DoesNotContain(canary, SecretRedactor.Redact($"posting to {canary} failed"));
        Assert.Equal("file:" + secretFile, value.ToString());
    }

    [Fact]
    public void Literal_secrets_print_masked()
    {
        var r = Parse("channels:\n  audit: { type: webhook, url: 'https://hooks.example.com/incidents/s3cr3t-path' }\n");
        var url = r.Config!.Channels[0].Url!;
        Assert.Equal($"https://hooks.example.com/{SecretRedactor.Mask}", url.ToString());
        Assert.DoesNotContain("s3cr3t-path", SecretRedactor.Redact("see https://hooks.example.com/incidents/s3cr3t-path"));
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("5m", 300)]
    [InlineData("1h", 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("2d", 172800)]
    [InlineData("00:10:00", 600)]
    [InlineData("1.5h", 5400)]
    public void Durations_accept_the_short_forms(string text, int seconds)
    {
        Assert.True(Duration.TryParse(text, out var d));
        Assert.Equal(seconds, (int)d.TotalSeconds);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("")]
    [InlineData("5 minutes")]
    public void Durations_reject_words(string text) => Assert.False(Duration.TryParse(text, out _));

    [Fact]
    public void Services_resolve_by_env_slash_name_or_unambiguous_name()
    {
        var config = new ConfigService().Load(Path.Combine(Paths.Examples, "incidentops.yml")).Config!;
        Assert.Equal("production/fastapi", ConfigService.ResolveService(config, null, "fastapi").FullName);
        Assert.Equal("staging/api", ConfigService.ResolveService(config, null, "staging/api").FullName);
        var ex = Assert.Throws<IncidentOpsException>(() => ConfigService.ResolveService(config, null, "api"));
        Assert.Equal("ServiceAmbiguous", ex.ErrorId);
        var missing = Assert.Throws<IncidentOpsException>(() => ConfigService.ResolveService(config, null, "nope"));
        Assert.Equal("ServiceNotFound", missing.ErrorId);
        Assert.Contains("production/portfolio", missing.Message);
        Assert.DoesNotContain("Did you mean", missing.Message);
    }

    [Theory]
    [InlineData(null, "production/apii", "Did you mean 'production/api'?")]
    [InlineData(null, "prodution/fastapi", "Did you mean 'production/fastapi'?")]
    [InlineData(null, "fastap", "Did you mean 'production/fastapi'?")]
    [InlineData("production", "portfolo", "No service 'production/portfolo' in ")]
    [InlineData("production", "portfolo", "Did you mean 'production/portfolio'?")]
    [InlineData(null, "Staging/API2", "Did you mean 'staging/api'?")]
    public void An_unknown_service_one_slip_away_is_offered(string? environment, string typed, string expected)
    {
        var config = new ConfigService().Load(Path.Combine(Paths.Examples, "incidentops.yml")).Config!;
        var missing = Assert.Throws<IncidentOpsException>(() => ConfigService.ResolveService(config, environment, typed));
        Assert.Equal("ServiceNotFound", missing.ErrorId);
        Assert.Contains(expected, missing.Message);
        Assert.Contains("Known services: production/api, production/portfolio", missing.Message);
    }

    [Fact]
    public void Redactor_masks_credentials_in_urls_and_connection_strings()
    {
        Assert.Equal($"postgres://app:{SecretRedactor.Mask}@db:5432/x", SecretRedactor.Redact("postgres://app:hunter2@db:5432/x"));
        Assert.Equal($"Host=db;Password={SecretRedactor.Mask};Username=app", SecretRedactor.Redact("Host=db;Password=hunter2;Username=app"));
        Assert.Equal($"Authorization: OAuth {SecretRedactor.Mask}", SecretRedactor.Redact("Authorization: OAuth abc123def"));
    }
}
