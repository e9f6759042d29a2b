using Xunit;

namespace IncidentOps.Tests.Secrets;

/// <summary>
/// The attack table of credential shapes: every row is an input and what a user must see after redaction.
/// Positive rows mask the credential and keep everything a responder needs; negative rows are ordinary
/// text that must stay exactly as written.
/// </summary>
public class SecretRedactorTests
{
    private const string M = SecretRedactor.Mask;

    public static TheoryData<string, string> Masked => new()
    {
        // URL user info, including a password with an unencoded '@' (was half-masked as ********@ss-1@...)
        { "postgres://app:hunter2x@db:5432/x", $"postgres://app:{M}@db:5432/x" },
        { "Cannot connect to postgres://app:p@ss-1@db.example.com:5432/app now", $"Cannot connect to postgres://app:{M}@db.example.com:5432/app now" },
        { "https://ops:pa55word@api.example.com/health", $"https://ops:{M}@api.example.com/health" },
        { "redis://:s3cr3tpw@cache:6379/0", $"redis://:{M}@cache:6379/0" },
        { "redis://legacypw123@cache:6379", $"redis://{M}@cache:6379" },
        { "DATABASE_URL=postgres://app:Xy9pq2@db.internal/app", $"DATABASE_URL=postgres://app:{M}@db.internal/app" },
        // query strings
        { "https://api.example.com/health?access_token=abc123&x=1", $"https://api.example.com/health?access_token={M}&x=1" },
        { "https://api.example.com/h?client_secret=zzz9&api-key=k1k2k3", $"https://api.example.com/h?client_secret={M}&api-key={M}" },
        { "https://fn.azurewebsites.net/api/x?code=abcDEF123==", $"https://fn.azurewebsites.net/api/x?code={M}" },
        { "https://maps.example.com/v1?key=AIzaSyQ1", $"https://maps.example.com/v1?key={M}" },
        { "https://prod-1.logic.azure.com/workflows/a/triggers/manual/paths/invoke?api-version=2016-06-01&sig=AbC123xyz", $"https://prod-1.logic.azure.com/workflows/a/triggers/manual/paths/invoke?api-version=2016-06-01&sig={M}" },
        // connection strings (Npgsql, libpq, StackExchange.Redis)
        { "Host=db;Username=app;Password=hunter2;Database=x", $"Host=db;Username=app;Password={M};Database=x" },
        { "host=db password=hunter2 dbname=x", $"host=db password={M} dbname=x" },
        { "host=db password='a b c' dbname=x", $"host=db password='{M}' dbname=x" },
        { "cache.internal:6380,password=r3d1s,ssl=true", $"cache.internal:6380,password={M},ssl=true" },
        // SQL from pg_stat_statements / pg_stat_activity
        { "CREATE ROLE app LOGIN PASSWORD 'Sup3r$ecret'", $"CREATE ROLE app LOGIN PASSWORD '{M}'" },
        { "alter user app with encrypted password 'it''s'", $"alter user app with encrypted password '{M}'" },
        // headers and bearer tokens
        { "Authorization: Bearer eyJhbGciOi.abc.def", $"Authorization: Bearer {M}" },
        { "curl -H \"Authorization: Basic dXNlcjpwYXNz\" https://x", $"curl -H \"Authorization: Basic {M}\" https://x" },
        { "X-Api-Key: abc123", $"X-Api-Key: {M}" },
        { "retrying with Bearer abcDEF123456", $"retrying with Bearer {M}" },
        // keys named like secrets in logs, env lines, YAML, JSON and free text
        { "token: ghx-12345abcdef", $"token: {M}" },
        { "query failed: 'token: abcdef123456'", $"query failed: 'token: {M}'" },
        { "{\"password\":\"hunter2\",\"user\":\"app\"}", $"{{\"password\":\"{M}\",\"user\":\"app\"}}" },
        { "{\"routingKey\": \"abc123def456\"}", $"{{\"routingKey\": \"{M}\"}}" },
        { "DATABASE_PASSWORD=hunter2", $"DATABASE_PASSWORD={M}" },
        { "STRIPE_SECRET_KEY=abcdefghij12", $"STRIPE_SECRET_KEY={M}" },
        { "routing_key=R0UT1NGKEY0123456789", $"routing_key={M}" },
        { "client_secret: \"abc def\"", $"client_secret: \"{M}\"" },
        { "webhook_url=https://hooks.example.com/incidents/s3cr3t", $"webhook_url={M}" },
        { "apikey=abcd1234 pwd=hunter2", $"apikey={M} pwd={M}" },
        { "INFO login ok user=app passwd=letmein1", $"INFO login ok user=app passwd={M}" },
        // command lines
        { "flyctl secrets set --password hunter2pw", $"flyctl secrets set --password {M}" },
        { "tool --api-token=abc123 run", $"tool --api-token={M} run" },
        // webhook URLs whose path is the credential, and self-identifying tokens
        { "posting to https://hooks.slack.com/services/T000/B000/XXXXXXXX failed", $"posting to https://hooks.slack.com/services/{M} failed" },
        { "https://discord.com/api/webhooks/123/abcDEF", $"https://discord.com/api/webhooks/{M}" },
        { "slack said xoxb-123456789012-abcdefABCDEF", $"slack said {M}" },
        { "GITHUB=ghp_abcdefghijklmnopqrstuvwxyz0123", $"GITHUB={M}" },
        { "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefgh", $"jwt {M}" },
    };

    public static TheoryData<string> Kept => new()
    {
        "Rolled back production/api",
        "postgres primary failed over",
        "Redis at 10.0.0.7:6379 is down",
        "https://api.example.com/health/ready",
        "http://localhost:8000/api/health?verbose=1",
        "ssh://deploy@api-1.example.com",
        "deploy@api-1.example.com",
        "apiKey: secret:StatuspageKey",
        "url: env:SLACK_WEBHOOK",
        "routingKey: env:PD_ROUTING_KEY",
        "IsSecret: False",
        "max_tokens: 4096",
        "Bearer token authentication failed",
        "SELECT * FROM users WHERE password = $1",
        "token expired at 10:30",
        "The password was rotated at 02:00, see the api runbook",
        $"Host=db;Password={M}",
        "key: user:1",
        "Rolled back to v42 on api (image 1.9.0)",
        "passenger=3",
        "https://hooks.example.com/incidents",
        "{\"valueFrom\": {\"secretKeyRef\": {\"name\": \"db\", \"key\": \"password\"}}}",
        "{\"token\": null, \"tokens\": 12, \"secrets\": [\"a\"]}",
        "secretKeyRef: {name: db, key: password}",
    };

    [Theory]
    [MemberData(nameof(Masked))]
    public void Credential_shapes_are_masked_by_context(string input, string expected) =>
        // By context alone: values other tests register process-wide (a configured webhook URL) must not decide it.
        Assert.Equal(expected, SecretRedactor.RedactShapes(input));

    [Theory]
    [MemberData(nameof(Kept))]
    public void Ordinary_text_is_never_masked(string input) =>
        Assert.Equal(input, SecretRedactor.RedactShapes(input));

    [Fact]
    public void A_registered_value_that_is_part_of_a_credential_never_leaves_the_rest_showing()
    {
        using var scope = SecretRedactor.BeginScope();
        scope.Register("https://hooks.example.com/prefix-only");
        Assert.Equal("webhook_url=********", SecretRedactor.Redact("webhook_url=https://hooks.example.com/prefix-only/s3cr3t"));
        Assert.Equal("see ******** now", SecretRedactor.Redact("see https://hooks.example.com/prefix-only now"));
    }

    [Fact]
    public void Redaction_is_idempotent()
    {
        foreach (var row in Masked)
        {
            var once = SecretRedactor.Redact((string)row[0]);
            Assert.Equal(once, SecretRedactor.Redact(once));
        }
    }

    [Theory]
    [InlineData("production")]
    [InlineData("postgres")]
    [InlineData("Staging")]
    [InlineData("12345678")]
    [InlineData("1.9.0")]
    [InlineData("abc")]
    [InlineData("api")]
    [InlineData("env:DATABASE_URL")]
    public void Too_short_or_too_common_values_are_never_registered(string value)
    {
        using var scope = SecretRedactor.BeginScope();
        SecretRedactor.Register(value);
        Assert.False(SecretRedactor.IsRegistered(value));
        Assert.Equal($"Rolled back {value}/api", SecretRedactor.Redact($"Rolled back {value}/api"));
    }

    [Fact]
    public void A_registered_value_is_masked_only_while_its_scope_is_open()
    {
        var canary = "cnry-" + Guid.NewGuid().ToString("N")[..12];
        var scope = SecretRedactor.BeginScope();
        SecretRedactor.Register(canary);
        Assert.Equal($"note {M} here", SecretRedactor.Redact($"note {canary} here"));
        scope.Dispose();
        Assert.Null(SecretRedactor.Current);
        Assert.Equal($"note {canary} here", SecretRedactor.Redact($"note {canary} here"));
        // A closed scope takes no more registrations.
        scope.Register(canary);
        Assert.False(SecretRedactor.IsRegistered(canary));
    }

    [Fact]
    public void A_scope_flows_into_the_async_work_of_its_command()
    {
        var canary = "flow-" + Guid.NewGuid().ToString("N")[..12];
        using var scope = SecretRedactor.BeginScope();
        Task.Run(async () => { await Task.Yield(); SecretRedactor.Register(canary); }).Wait();
        Assert.True(SecretRedactor.IsRegistered(canary));
    }

    [Theory]
    [InlineData("AUTH|s3cr3tpw", "AUTH|********")]
    [InlineData("AUTH|default|s3cr3tpw", "AUTH|********|********")]
    [InlineData("HELLO|3|AUTH|default|s3cr3tpw", "HELLO|3|AUTH|********|********")]
    [InlineData("CONFIG|SET|requirepass|s3cr3tpw", "CONFIG|SET|requirepass|********")]
    [InlineData("psql|--password|s3cr3tpw|-h|db", "psql|--password|********|-h|db")]
    [InlineData("SET|user:1|production", "SET|user:1|production")]
    [InlineData("GET|session:token", "GET|session:token")]
    public void Argument_lists_mask_the_value_after_its_name(string args, string expected) =>
        Assert.Equal(expected, string.Join("|", SecretRedactor.RedactArguments(args.Split('|'))));

    [Theory]
    [InlineData("Password", true)]
    [InlineData("SLACK_WEBHOOK_URL", true)]
    [InlineData("RoutingKey", true)]
    [InlineData("ApiKey", true)]
    [InlineData("X-Api-Key", true)]
    [InlineData("Authorization", true)]
    [InlineData("Cookie", true)]
    [InlineData("client_secret", true)]
    [InlineData("access_token", true)]
    [InlineData("WebhookUrl", true)]
    [InlineData("ConnectionString", true)]
    [InlineData("Credential", true)]
    [InlineData("SENTRY_DSN", true)]
    [InlineData("SECRET_KEY_BASE", true)]
    [InlineData("Service", false)]
    [InlineData("Uri", false)]
    [InlineData("Environment", false)]
    [InlineData("APP_ENV", false)]
    [InlineData("DATABASE_URL", false)]
    [InlineData("HEALTH_URL", false)]
    [InlineData("Keyspace", false)]
    [InlineData("Title", false)]
    [InlineData("PORT", false)]
    public void One_name_rule_decides_which_names_carry_secrets(string name, bool secret) =>
        Assert.Equal(secret, SecretRedactor.IsSecretName(name));
}
