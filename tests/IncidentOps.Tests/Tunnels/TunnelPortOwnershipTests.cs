using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using IncidentOps.Config;
using IncidentOps.Engine.Tunnels;
using Xunit;

namespace IncidentOps.Tests.Tunnels;

/// <summary>
/// The checks that keep a tunnel from taking another process's port for its own: who holds the LISTEN socket of
/// 127.0.0.1:port (Linux /proc), and the port kubectl and flyctl print once they bound one of their choosing.
/// </summary>
public sealed class TunnelPortOwnershipTests
{
    [Fact]
    public void A_listener_of_the_process_tree_is_the_tunnels_and_one_of_another_process_is_not()
    {
        if (!OperatingSystem.IsLinux()) return;   // the check is Linux-only; elsewhere it says Unknown (next test)
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var other = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            Assert.Equal(ListenerOwner.Tunnel, ListenerOwnership.Check(port, System.Environment.ProcessId));
            Assert.Equal(ListenerOwner.Other, ListenerOwnership.Check(port, other.Id));
        }
        finally
        {
            other.Kill();
            other.WaitForExit();
        }
        listener.Stop();
        Assert.Equal(ListenerOwner.None, ListenerOwnership.Check(port, System.Environment.ProcessId));
    }

    [Fact]
    public void A_listener_of_a_child_process_counts_as_the_tunnels()
    {
        if (!OperatingSystem.IsLinux()) return;
        // sh (the watchdog's place) starts python, which listens and prints its port: python is a child of sh.
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var a in new[] { "-c", "python3 -c \"import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)\"; :" })
            psi.ArgumentList.Add(a);
        using var sh = Process.Start(psi)!;
        try
        {
            var port = int.Parse(sh.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(ListenerOwner.Tunnel, ListenerOwnership.Check(port, sh.Id));
            using var other = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
            Assert.Equal(ListenerOwner.Other, ListenerOwnership.Check(port, other.Id));
            other.Kill();
            other.WaitForExit();
        }
        finally
        {
            sh.Kill(entireProcessTree: true);
            sh.WaitForExit();
        }
    }

    [Fact]
    public void A_wildcard_listener_of_another_process_holds_127_0_0_1_too()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var other = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try { Assert.Equal(ListenerOwner.Other, ListenerOwnership.Check(port, other.Id)); }
        finally
        {
            other.Kill();
            other.WaitForExit();
        }
    }

    [Theory]
    // client-go tools/portforward: fmt.Fprintf(out, "Forwarding from %s -> %d\n", net.JoinHostPort(host, port), remote)
    [InlineData(TunnelKind.Kubectl, "Forwarding from 127.0.0.1:40123 -> 5432", 40123)]
    [InlineData(TunnelKind.Kubectl, "Forwarding from [::1]:40123 -> 5432", null)]
    [InlineData(TunnelKind.Kubectl, "Handling connection for 40123", null)]
    [InlineData(TunnelKind.Kubectl, "Forwarding from 127.0.0.1:40123 -> 5432 (evil)", null)]
    // flyctl proxy/connect.go: "Proxying localhost:%s to remote %s"; older releases "Proxying local port %s to remote %s"
    [InlineData(TunnelKind.Fly, "Proxying localhost:40124 to remote [ai-affiliate-empire-db.internal]:5432", 40124)]
    [InlineData(TunnelKind.Fly, "Proxying local port 40125 to remote [ai-affiliate-empire-db.internal]:5432", 40125)]
    [InlineData(TunnelKind.Fly, "Proxying local port 0 to remote [db.internal]:5432", 0)]
    [InlineData(TunnelKind.Ssh, "Forwarding from 127.0.0.1:40123 -> 5432", null)]
    public void The_port_a_CLI_prints_is_read_from_its_real_line_format(TunnelKind kind, string line, int? port) =>
        Assert.Equal(port, TunnelProcess.AnnouncedPort(kind, line));

    [Fact]
    public void Kubectl_and_flyctl_are_asked_to_choose_the_port_and_ssh_gets_one_with_its_forward_in_its_own_process()
    {
        var kube = new TunnelSpec(TunnelKind.Kubectl, "svc/postgres", "db", "production", null, "db", 5432, null, null, null, null);
        Assert.Equal(["--context", "production", "--namespace", "db", "port-forward", "--address", "127.0.0.1", "--", "svc/postgres", ":5432"], TunnelCommand.OpenArguments(kube, "0"));
        var fly = kube with { Kind = TunnelKind.Fly, Target = "pg-app", Namespace = null, Context = null, RemoteHost = "" };
        Assert.Equal(["proxy", "0:5432", "--app", "pg-app", "--bind-addr", "127.0.0.1"], TunnelCommand.OpenArguments(fly, "0"));
        var ssh = kube with { Kind = TunnelKind.Ssh, Target = "bastion", Namespace = null, Context = null };
        Assert.Equal(["-N", "-o", "ExitOnForwardFailure=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "BatchMode=yes", "-L", "127.0.0.1:40999:db:5432", "--", "bastion"],
            TunnelCommand.OpenArguments(ssh, "40999"));
    }
}
