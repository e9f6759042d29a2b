using System.Reflection;
using IncidentOps.Engine;
using Xunit;

namespace IncidentOps.Tests.Module;

/// <summary>Common error ids that had no test: the Get-Secret bridge and how the base cmdlet reports an engine call that failed oddly.</summary>
public sealed class CommonErrorIdTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static string ConfigWithSecretRedis()
    {
        var path = Path.Combine(Paths.TempDir("io-secretid"), "incidentops.yml");
        File.WriteAllText(path, "version: 1\nenvironments:\n  production:\n    services:\n      cache:\n        redis: secret:io-test-redis-url\n");
        return path;
    }

    [Fact]
    public void A_secret_reference_without_SecretManagement_says_SecretManagementNotAvailable()
    {
        var r = fx.Run($"Get-RedisInfo -Service production/cache -ConfigPath '{ConfigWithSecretRedis()}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("ConfigReferenceUnresolved,IncidentOps.Commands.GetRedisInfoCommand", e.FullyQualifiedErrorId);
        var inner = Assert.IsType<IncidentOpsException>(e.Exception.InnerException);
        Assert.Equal("SecretManagementNotAvailable", inner.ErrorId);
        Assert.Contains("Install-PSResource Microsoft.PowerShell.SecretManagement", e.ToString());
    }

    [Fact]
    public void A_secret_Get_Secret_cannot_read_is_SecretNotFound()
    {
        var r = fx.Run($$"""
            function global:Get-Secret { param($Name, [switch]$AsPlainText) throw "no secret named $Name in any vault" }
            try { Get-RedisInfo -Service production/cache -ConfigPath '{{ConfigWithSecretRedis()}}' }
            finally { Remove-Item function:Get-Secret }
            """);
        var e = Assert.Single(r.Errors, x => x.FullyQualifiedErrorId.StartsWith("ConfigReferenceUnresolved,"));
        Assert.Equal("ConfigReferenceUnresolved,IncidentOps.Commands.GetRedisInfoCommand", e.FullyQualifiedErrorId);
        var inner = Assert.IsType<IncidentOpsException>(e.Exception.InnerException);
        Assert.Equal("SecretNotFound", inner.ErrorId);
        Assert.Contains("no secret named io-test-redis-url", e.ToString());
    }

    [Fact]
    public void The_engine_without_a_secret_provider_says_SecretManagementNotAvailable()
    {
        var ex = Assert.Throws<IncidentOpsException>(() => { _ = NoSecretProvider.Instance.GetSecretAsync("x", CancellationToken.None); });
        Assert.Equal("SecretManagementNotAvailable", ex.ErrorId);
    }

    /// <summary>How the base cmdlet's pump (internal to IncidentOps.dll) reports an engine call that failed with <paramref name="failure"/>.</summary>
    private static Exception PumpFailure(Func<CancellationToken, Task<bool>> work)
    {
        var module = Paths.ModuleAssembly;
        var pump = module.GetType("IncidentOps.Commands.PipelinePump", throwOnError: true)!;
        var unwrap = pump.GetMethod("Unwrap", BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(typeof(bool));
        Task<bool> task;
        try { task = work(CancellationToken.None); }
        catch (Exception ex) { task = Task.FromException<bool>(ex); }
        try { ((IAsyncResult)task).AsyncWaitHandle.WaitOne(); } catch (AggregateException) { }
        var thrown = Assert.Throws<TargetInvocationException>(() => unwrap.Invoke(null, [task, CancellationToken.None]));
        return thrown.InnerException!;
    }

    [Fact]
    public void An_engine_call_failing_with_an_unknown_exception_is_UnexpectedError_with_its_type_and_message()
    {
        var ex = Assert.IsType<IncidentOpsException>(PumpFailure(_ => throw new InvalidOperationException("boom")));
        Assert.Equal("UnexpectedError", ex.ErrorId);
        Assert.Equal("Unexpected InvalidOperationException: boom", ex.Message);
    }

    [Fact]
    public void One_call_that_timed_out_on_its_own_is_ConnectionTimeout_not_the_commands_deadline()
    {
        var ex = Assert.IsType<IncidentOpsException>(PumpFailure(_ => throw new TimeoutException("the socket read timed out")));
        Assert.Equal("ConnectionTimeout", ex.ErrorId);
        Assert.Contains("the socket read timed out", ex.Message);
    }
}
