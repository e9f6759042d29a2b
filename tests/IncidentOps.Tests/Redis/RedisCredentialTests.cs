using System.Net;
using IncidentOps.Engine;
using IncidentOps.Engine.Redis;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>
/// A Redis with two users that share one password: the default user may do everything, the ACL user "ops" may not read
/// INFO. So which user a connection logged in as is observable: INFO works as default and is refused (NOPERM) as ops.
/// </summary>
public sealed class AclRedisFixture : IDisposable
{
    public const string Password = "AclShared-Pw-4417";
    private readonly PrivateRedisServer _server = new("--requirepass", Password);

    public AclRedisFixture()
    {
        RedisCli.Run("127.0.0.1", Port, Password, "ACL", "SETUSER", "ops", "on", ">" + Password, "~*", "&*", "+@all", "-info");
    }

    public int Port => _server.Port;

    /// <summary>A URL that names the restricted user "ops".</summary>
    public string OpsUrl => $"redis://ops:{Password}@127.0.0.1:{Port}/0";

    public void Dispose() => RedisCli.Run("127.0.0.1", Port, Password, "SHUTDOWN", "NOSAVE");
}

public class RedisCredentialTests(ModuleFixture fx, AclRedisFixture acl) : IClassFixture<ModuleFixture>, IClassFixture<AclRedisFixture>
{
    [Fact]
    public async Task The_fixture_tells_the_users_apart_ops_cannot_read_INFO()
    {
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() =>
            engine.Redis.GetInfoAsync(new RedisConnectionRequest { ConnectionString = acl.OpsUrl }, [RedisInfoSection.Server], CancellationToken.None));
        Assert.Equal(RedisErrorIds.RedisCommandFailed, ex.ErrorId);
        Assert.Contains("NOPERM", ex.Message);
    }

    [Fact]
    public async Task A_credential_with_an_empty_user_name_logs_in_as_the_default_user_not_as_the_URLs_user()
    {
        // Before: the URL's user (ops) was kept with the credential's password, so INFO was refused with NOPERM.
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var request = new RedisConnectionRequest { ConnectionString = acl.OpsUrl, Credential = new NetworkCredential("", AclRedisFixture.Password) };
        var info = await engine.Redis.GetInfoAsync(request, [RedisInfoSection.Server], CancellationToken.None);
        Assert.NotNull(Assert.Single(info.OfType<RedisServerInfo>()).Version);
    }

    [Theory]
    [InlineData("default")]
    [InlineData(" ")]
    public void Credential_user_default_or_blank_replaces_the_URLs_user_in_Get_RedisInfo(string user)
    {
        // PSCredential refuses an empty user name: "default" (or a blank one) is how a user names the default user.
        var r = fx.Run($"""
            $cred = [pscredential]::new('{user}', [Net.NetworkCredential]::new('', '{AclRedisFixture.Password}').SecurePassword)
            Get-RedisInfo Server -ConnectionString '{acl.OpsUrl}' -Credential $cred
            """).AssertNoErrors();
        Assert.NotNull(r.Single<RedisServerInfo>().Version);
        Assert.DoesNotContain(AclRedisFixture.Password, r.AllText());
    }

    [Fact]
    public void Credential_user_replaces_the_URLs_user_and_password()
    {
        // The URL names the default user with a wrong password; -Credential names ops with the right one: ops it is (NOPERM).
        var r = fx.Run($"""
            $cred = [pscredential]::new('ops', [Net.NetworkCredential]::new('', '{AclRedisFixture.Password}').SecurePassword)
            Get-RedisInfo Server -ConnectionString 'redis://default:Wrong-Url-Pw@127.0.0.1:{acl.Port}/0' -Credential $cred
            """);
        var e = Assert.Single(r.Errors);
        Assert.Equal("RedisCommandFailed,IncidentOps.Commands.GetRedisInfoCommand", e.FullyQualifiedErrorId);
        Assert.Contains("NOPERM", e.ToString());
    }

    [Fact]
    public void A_credential_user_with_an_empty_password_is_not_logged_in_as_the_default_user()
    {
        // The password of the URL is replaced too, and "ops" with no password must fail, never fall back to the default user.
        var r = fx.Run($"""
            $cred = [pscredential]::new('ops', [securestring]::new())
            Get-RedisInfo Server -ConnectionString 'redis://:{AclRedisFixture.Password}@127.0.0.1:{acl.Port}/0' -Credential $cred -TimeoutSec 3
            """);
        Assert.Empty(r.Objects<RedisServerInfo>());
        Assert.Single(r.Errors);
    }
}
