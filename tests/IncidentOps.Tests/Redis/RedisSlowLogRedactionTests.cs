using IncidentOps.Engine.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>
/// The slow log of a server that does not redact credentials itself (Redis before 7, some managed ones) shows the
/// arguments as sent. The server here (7.0) redacts them, so the arguments such a server logs are given as they come.
/// </summary>
public class RedisSlowLogRedactionTests
{
    [Fact]
    public void ACL_SETUSER_password_rules_are_masked_and_the_rest_kept()
    {
        var r = RedisService.RedactSlowLogArguments(["ACL", "SETUSER", "ops", "on", ">SlowCanary-Pw1", "#0a1b2c3d", "~cache:*", "+@read"]);
        Assert.Equal(["ACL", "SETUSER", "ops", "on", ">********", "#********", "~cache:*", "+@read"], r);
    }

    [Fact]
    public void MIGRATE_AUTH2_user_and_password_are_masked()
    {
        var r = RedisService.RedactSlowLogArguments(["MIGRATE", "10.0.0.9", "6379", "", "0", "5000", "AUTH2", "mover", "MigCanary-Pw2", "KEYS", "k1"]);
        Assert.DoesNotContain("MigCanary-Pw2", r);
        Assert.Equal(["MIGRATE", "10.0.0.9", "6379", "", "0", "5000", "AUTH2"], r.Take(7));
    }

    [Fact]
    public void AUTH_and_CONFIG_SET_requirepass_stay_masked_and_ordinary_commands_untouched()
    {
        Assert.Equal(["AUTH", "********"], RedisService.RedactSlowLogArguments(["AUTH", "AuthCanary-3"]));
        Assert.Equal(["CONFIG", "SET", "requirepass", "********"], RedisService.RedactSlowLogArguments(["CONFIG", "SET", "requirepass", "ReqCanary-4"]));
        Assert.Equal(["SET", "user:1", "#fff"], RedisService.RedactSlowLogArguments(["SET", "user:1", "#fff"]));
    }
}
