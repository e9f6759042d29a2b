using IncidentOps.Config;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

public sealed partial class IncidentService
{
    /// <summary>What Initialize-IncidentStore would do: the store, its schema version now, the migrations missing (none: nothing to do).</summary>
    public async Task<IncidentStoreInfo> PlanStoreAsync(IncidentOpsConfig? config, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        if (store is not PostgresIncidentStore pg)
            return new IncidentStoreInfo { Kind = StoreKind.File, Store = store.Identity };
        var (current, pending) = await pg.PlanAsync(cancellationToken).ConfigureAwait(false);
        return new IncidentStoreInfo
        {
            Kind = StoreKind.Postgres, Store = pg.Identity, Schema = pg.Schema, PreviousSchemaVersion = current,
            SchemaVersion = pending.Count == 0 ? current : pending[^1].Version,
            Applied = pending.Select(p => $"{p.Version}: {p.Name}").ToArray(),
        };
    }

    /// <summary>Creates or upgrades the store's schema (migrations only add); the file store needs nothing but its folder.</summary>
    public async Task<IncidentStoreInfo> InitializeStoreAsync(IncidentOpsConfig? config, CancellationToken cancellationToken)
    {
        var plan = await PlanStoreAsync(config, cancellationToken).ConfigureAwait(false);
        if (plan.Applied.Length == 0) return plan;
        var pg = (PostgresIncidentStore)openStore(config);
        var before = await pg.InitializeAsync(cancellationToken).ConfigureAwait(false);
        sink.Verbose($"{pg.Identity}: schema version {before} -> {PostgresIncidentStore.SchemaVersion}.");
        return new IncidentStoreInfo
        {
            Kind = StoreKind.Postgres, Store = pg.Identity, Schema = pg.Schema, PreviousSchemaVersion = before,
            SchemaVersion = PostgresIncidentStore.SchemaVersion, Applied = plan.Applied, Changed = true,
        };
    }
}
