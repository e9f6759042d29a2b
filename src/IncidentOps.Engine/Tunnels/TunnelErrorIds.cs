namespace IncidentOps.Engine.Tunnels;

/// <summary>The error ids of tunnels to private databases (postgres.tunnel, redis.tunnel): a contract, so they are constants.</summary>
public static class TunnelErrorIds
{
    /// <summary>The tunnel CLI exited before its local port accepted connections (its stderr is in the message).</summary>
    public const string TunnelOpenFailed = "TunnelOpenFailed";
    /// <summary>The tunnel's local port did not accept connections within the time allowed.</summary>
    public const string TunnelOpenTimedOut = "TunnelOpenTimedOut";
    /// <summary>
    /// Another process listens on the tunnel's local port (it took the port before the CLI could bind it): the CLI was
    /// stopped and nothing was sent through that port.
    /// </summary>
    public const string TunnelPortTaken = "TunnelPortTaken";
}
