using System.Management.Automation;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Creates or upgrades the incident store's schema (the PostgreSQL team store).</summary>
/// <remarks>
/// With store.kind postgres in incidentops.yml, creates the store's schema (store.schema, incidentops by default)
/// and its tables, or adds what a newer IncidentOps needs, and records the schema version. Migrations only add;
/// none drops or rewrites data. Run it once per store, as a role that owns the schema; responders then need only
/// the privileges the README lists. A store whose schema is newer than this module understands is refused
/// (StoreSchemaTooNew). With the file store there is nothing to create: it reports the store's folder.
/// -WhatIf lists the migrations it would apply and changes nothing.
/// </remarks>
/// <example>
/// <code>Initialize-IncidentStore -ConfigPath ./incidentops.yml</code>
/// <para>Creates the team store's schema in the configured PostgreSQL database.</para>
/// </example>
/// <example>
/// <code>Initialize-IncidentStore -WhatIf</code>
/// <para>Shows which schema migrations would be applied, without changing anything.</para>
/// </example>
[Cmdlet(VerbsData.Initialize, "IncidentStore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(IncidentStoreInfo))]
public sealed class InitializeIncidentStoreCommand : ConfiguredCmdlet
{
    protected override void ProcessRecord()
    {
        var plan = InvokeOrTerminate(ct => Engine.Incidents.PlanStoreAsync(Config, ct));
        if (plan.Applied.Length == 0)
        {
            WriteVerbose($"{plan.Store}: nothing to do{(plan.SchemaVersion is { } v ? $" (schema version {v})" : "")}.");
            WriteObject(plan);
            return;
        }
        var what = $"Apply schema migration(s) {string.Join("; ", plan.Applied)} (version {plan.PreviousSchemaVersion} -> {plan.SchemaVersion})";
        if (!ShouldProcess(plan.Store, what)) return;
        WriteObject(InvokeOrTerminate(ct => Engine.Incidents.InitializeStoreAsync(Config, ct)));
    }
}
