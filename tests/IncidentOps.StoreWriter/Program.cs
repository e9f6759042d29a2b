using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

// Usage:
//   append  <root> <incidentId> <count> <tag> [jitterMs]   appends <count> timeline entries; with jitterMs, waits up to
//                                                          that long between building an entry and appending it (as a
//                                                          cmdlet does between its action and its record)
//   rewrite <root> <incidentId>                            rewrites incident.json forever (prints "ready" after the first write)
//   actions <root> <incidentId> <tag>                      adds action items forever, printing each id once it is acknowledged
//   notes   <root> <incidentId> <tag>                      appends timeline entries forever, printing "ok n" once each is acknowledged
//   spool   <local> <incidentId> <connectionString>        one timeline entry for a team store that cannot be reached (spooled)
//   flush   <local> <incidentId> <connectionString>        reads the incident from a team store (writes the spool first)
//   declare <root> -                                       declares one incident in a new file store (prints its id)
//   export  <root> <incidentId> <archive>                  exports the incident to an archive (Export-Incident)
if (args[0] is "spool" or "flush")
{
    var team = new PostgresIncidentStore(args[3], "team", args[1]) { Warning = w => Console.Error.WriteLine(w) };
    if (args[0] == "spool")
        await team.AppendTimelineAsync(args[2], new TimelineEntry { Kind = "action", Action = "Restart app", Target = "api-1", Outcome = TimelineOutcome.Succeeded }, CancellationToken.None);
    else await team.GetAsync(args[2], CancellationToken.None);
    Console.WriteLine(team.SpoolPath);
    return 0;
}
var store = new FileIncidentStore(args[1]);
var id = args[2];
switch (args[0])
{
    case "declare":
        var declared = await store.CreateAsync(n => new Incident { Id = n, Title = "declared by the store writer", Severity = "P2" }, CancellationToken.None);
        Console.WriteLine(declared.Id);
        return 0;
    case "export":
        var exporter = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var exportConfig = new IncidentOpsConfig { Severities = IncidentOps.Engine.Config.DefaultSeverities.Levels, Store = new StoreConfig { Path = args[1] } };
        await exporter.Incidents.ExportAsync(exportConfig, [id], args[3], false, CancellationToken.None);
        return 0;
    case "append":
        var count = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        var jitter = args.Length > 5 ? int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 0;
        for (var n = 0; n < count; n++)
        {
            var entry = new TimelineEntry { Kind = "note", Action = "Concurrent append", Target = args[4], Result = $"{args[4]}:{n}:" + new string('x', 200) };
            if (jitter > 0) await Task.Delay(Random.Shared.Next(0, jitter + 1));
            await store.AppendTimelineAsync(id, entry, CancellationToken.None);
        }
        return 0;
    case "notes":
        // Appends forever; prints "ok <n>" once entry n is acknowledged, "fail <n> <errorId>" when the store refused it.
        for (var n = 0; ; n++)
        {
            try
            {
                await store.AppendTimelineAsync(id, new TimelineEntry { Kind = "note", Action = "Note", Target = args[3], Result = $"{args[3]}:{n}:" + new string('n', 300) }, CancellationToken.None);
                Console.WriteLine($"ok {n}");
                // A breath between appends, so writers that outrun a slow test do not fill its small disk by themselves.
                await Task.Delay(1);
            }
            catch (IncidentOps.IncidentOpsException ex)
            {
                Console.WriteLine($"fail {n} {ex.ErrorId}");
                await Task.Delay(5);
            }
            Console.Out.Flush();
        }
    case "rewrite":
        var first = true;
        for (long n = 0; ; n++)
        {
            await store.UpdateAsync(id, i => { i.Title = $"rewrite {n}"; i.Summary = new string('s', 20_000 + (int)(n % 5000)); }, CancellationToken.None);
            if (first) { Console.WriteLine("ready"); Console.Out.Flush(); first = false; }
        }
    case "actions":
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var config = new IncidentOpsConfig { Severities = IncidentOps.Engine.Config.DefaultSeverities.Levels, Store = new StoreConfig { Path = args[1] } };
        for (var n = 0; ; n++)
        {
            var item = await engine.Incidents.AddActionItemAsync(config, id, $"{args[3]} item {n} " + new string('a', 2000), null, null, null, ChangeContext.Engine, CancellationToken.None);
            Console.WriteLine(item.Id);
            Console.Out.Flush();
        }
    default:
        Console.Error.WriteLine("usage: declare|export|append|notes|rewrite|actions|spool|flush ...");
        return 2;
}
