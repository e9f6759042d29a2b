using IncidentOps.Config;

namespace IncidentOps.Incidents;

/// <summary>The incident store a configuration resolves and its schema (Initialize-IncidentStore output).</summary>
public sealed class IncidentStoreInfo
{
    /// <summary>file or postgres.</summary>
    public StoreKind Kind { get; init; }
    /// <summary>The store's identity, as Incident.IncidentStore carries it (a folder, or postgres://host:port/database#schema; never credentials).</summary>
    public required string Store { get; init; }
    /// <summary>The PostgreSQL schema of a team store; null for the file store.</summary>
    public string? Schema { get; init; }
    /// <summary>The schema version before this command (0: none yet); null for the file store.</summary>
    public int? PreviousSchemaVersion { get; init; }
    /// <summary>The schema version now (after the command, or what -WhatIf would leave); null for the file store.</summary>
    public int? SchemaVersion { get; init; }
    /// <summary>The migrations this command applied (or would apply).</summary>
    public string[] Applied { get; init; } = [];
    /// <summary>True when the command changed the store.</summary>
    public bool Changed { get; init; }
    public override string ToString() => $"{Kind} {Store}{(SchemaVersion is { } v ? $" schema {Schema} v{v}" : "")}";
}
