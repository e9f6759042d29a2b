using IncidentOps.Config;
using IncidentOps.Engine.Tunnels;
using Xunit;

namespace IncidentOps.Tests.Tunnels;

/// <summary>
/// A kubectl tunnel whose configuration names no context used to run 'kubectl port-forward' with kubectl's current
/// context at the moment it opened: after 'kubectl config use-context staging', a production service's SQL went to the
/// staging database behind the same service name, and -WhatIf named no cluster. The tunnel is now pinned the way App
/// targets are: kubeconfig, context and namespace are read once per command, shown, and passed to kubectl.
/// </summary>
public sealed class TunnelKubePinTests
{
    /// <summary>A kubeconfig with contexts blue and green (clusters blue-cluster and green-cluster), <paramref name="current"/> current.</summary>
    internal static string Kubeconfig(string current, string blueNamespace = "blue-db", string greenNamespace = "green-db") => $"""
        apiVersion: v1
        kind: Config
        current-context: {current}
        clusters:
        - name: blue-cluster
          cluster: {"{"} server: https://127.0.0.1:1 {"}"}
        - name: green-cluster
          cluster: {"{"} server: https://127.0.0.1:2 {"}"}
        users:
        - name: ops
          user: {"{"} token: not-a-real-token {"}"}
        contexts:
        - name: blue
          context: {"{"} cluster: blue-cluster, user: ops, namespace: {blueNamespace} {"}"}
        - name: green
          context: {"{"} cluster: green-cluster, user: ops, namespace: {greenNamespace} {"}"}
        """;

    [Fact]
    public void A_kubectl_tunnel_without_a_context_is_pinned_to_the_kubeconfigs_current_context_and_namespace()
    {
        var file = Path.Combine(Paths.TempDir("tunnel-kube"), "config");
        File.WriteAllText(file, Kubeconfig("blue"));
        var spec = TunnelSpec.From(new TunnelConfig { Kind = TunnelKind.Kubectl, Target = "svc/postgres", Kubeconfig = file }, null, "postgres", 5432);
        Assert.Null(spec.Context);

        var pinned = spec.Pinned();

        Assert.Equal(("blue", "blue-db", file), (pinned.Context, pinned.Namespace, pinned.Kubeconfig));
        Assert.Equal(["--kubeconfig", file, "--context", "blue", "--namespace", "blue-db", "port-forward", "--address", "127.0.0.1", "--", "svc/postgres", ":5432"],
            TunnelCommand.OpenArguments(pinned, "0"));
        Assert.Contains("--context blue --namespace blue-db", TunnelLeases.WouldOpen(pinned));
    }

    [Fact]
    public void One_command_keeps_its_pin_after_use_context_while_the_next_command_pins_afresh()
    {
        var file = Path.Combine(Paths.TempDir("tunnel-kube"), "config");
        File.WriteAllText(file, Kubeconfig("blue"));
        var spec = TunnelSpec.From(new TunnelConfig { Kind = TunnelKind.Kubectl, Target = "svc/postgres", Kubeconfig = file }, null, "postgres", 5432);
        using var command = new TunnelLeases();
        var first = command.Pin(spec);

        File.WriteAllText(file, Kubeconfig("green"));   // kubectl config use-context green, mid-command

        Assert.Equal("blue", command.Pin(spec).Context);
        Assert.Same(first, command.Pin(spec));
        using var next = new TunnelLeases();
        Assert.Equal(("green", "green-db"), (next.Pin(spec).Context, next.Pin(spec).Namespace));
    }

    [Fact]
    public void A_configured_context_and_namespace_are_kept_and_other_kinds_are_not_touched()
    {
        var file = Path.Combine(Paths.TempDir("tunnel-kube"), "config");
        File.WriteAllText(file, Kubeconfig("blue"));
        var given = TunnelSpec.From(new TunnelConfig { Kind = TunnelKind.Kubectl, Target = "svc/postgres", Kubeconfig = file, Context = "green", Namespace = "db" }, null, "postgres", 5432).Pinned();
        Assert.Equal(("green", "db"), (given.Context, given.Namespace));

        var ssh = TunnelSpec.From(new TunnelConfig { Kind = TunnelKind.Ssh, Target = "bastion.example.com" }, null, "db.internal", 5432);
        Assert.Same(ssh, ssh.Pinned());
    }
}
