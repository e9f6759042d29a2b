using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

// Usage:
//   append  <root> <incidentId> <count> <tag>   appends <count> timeline entries
//   rewrite <root> <incidentId>                 rewrites incident.json forever (prints "ready" after the first write)
var store = new FileIncidentStore(args[1]);
var id = args[2];
switch (args[0])
{
    case "append":
        var count = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        for (var n = 0; n < count; n++)
            await store.AppendTimelineAsync(id, new TimelineEntry { Kind = "note", Action = "Concurrent append", Target = args[4], Result = $"{args[4]}:{n}:" + new string('x', 200) }, CancellationToken.None);
        return 0;
    case "rewrite":
        var first = true;
        for (long n = 0; ; n++)
        {
            await store.UpdateAsync(id, i => { i.Title = $"rewrite {n}"; i.Summary = new string('s', 20_000 + (int)(n % 5000)); }, CancellationToken.None);
            if (first) { Console.WriteLine("ready"); Console.Out.Flush(); first = false; }
        }
    default:
        Console.Error.WriteLine("usage: append|rewrite ...");
        return 2;
}
