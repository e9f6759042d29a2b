namespace IncidentOps.Config;

/// <summary>How a tunnel to a private database is opened.</summary>
public enum TunnelKind
{
    /// <summary>kubectl port-forward to a service, pod or workload in a cluster.</summary>
    Kubectl,
    /// <summary>flyctl proxy to a Fly app (Fly Postgres, a Redis app) over Fly's WireGuard network.</summary>
    Fly,
    /// <summary>ssh -L through a bastion host.</summary>
    Ssh,
}

/// <summary>
/// A service's postgres.tunnel or redis.tunnel: the CLI that forwards a free loopback port to the database, which
/// the Pg* and Redis* cmdlets open before they connect and close when they are done. Names are checked for their
/// kind when the configuration is read, and again before any CLI runs.
/// </summary>
public sealed class TunnelConfig
{
    public TunnelKind Kind { get; init; }
    /// <summary>kubectl: TYPE/NAME (svc/postgres, pod/postgres-0, deploy/redis, statefulset/postgres); fly: the app; ssh: [user@]bastion.</summary>
    public required string Target { get; init; }
    /// <summary>kubectl: --namespace (defaults to the service's namespace).</summary>
    public string? Namespace { get; init; }
    /// <summary>kubectl: --context (defaults to the service's context).</summary>
    public string? Context { get; init; }
    /// <summary>kubectl: --kubeconfig (defaults to the service's kubeconfig).</summary>
    public string? Kubeconfig { get; init; }
    /// <summary>The database port at the far end; defaults to the port of the connection string (5432 / 6379).</summary>
    public int? RemotePort { get; init; }
    /// <summary>ssh: the database host as the bastion sees it; fly: the remote host flyctl proxy dials. Defaults: ssh, the connection string's host; fly, the app.</summary>
    public string? RemoteHost { get; init; }
    /// <summary>ssh: the login user (-l), when not written as user@host.</summary>
    public string? User { get; init; }
    /// <summary>ssh: the identity file (-i).</summary>
    public string? Identity { get; init; }
    /// <summary>ssh: the bastion's ssh port (-p).</summary>
    public int? Port { get; init; }
    /// <summary>The CLI's path from the configuration's tools: key, or null for PATH.</summary>
    public string? ToolPath { get; init; }
    public ConfigLocation? Location { get; init; }

    /// <summary>What the tunnel is, as the timeline and -WhatIf name it ("kubectl port-forward svc/postgres -n akaind-platform").</summary>
    public override string ToString() => Kind switch
    {
        TunnelKind.Kubectl => $"kubectl port-forward {Target}" + (Namespace is null ? "" : $" -n {Namespace}") + (Context is null ? "" : $" --context {Context}"),
        TunnelKind.Fly => $"flyctl proxy -a {Target}",
        _ => $"ssh -L through {(User is null ? "" : User + "@")}{Target}",
    };
}
