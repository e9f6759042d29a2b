using System.Diagnostics;
using IncidentOps.Engine.Incidents;
// The store part of a post-mortem over a full sample ring: list + one read per document (before) against one bulk
// read (after), alternating on the same stores in one process, median of 7 after a warm-up.
if (args.Length < 2) { Console.Error.WriteLine("usage: StoreProbe <folder> <schema>   (what bench/postmortem/bench.ps1 -Keep prints; needs INCIDENTOPS_TEST_PG)"); return 2; }
var dir = args[0]; var schema = args[1];
var stores = new (string, IIncidentStore)[] {
  ("file", new FileIncidentStore(Path.Combine(dir, "files"))),
  ("postgres", new PostgresIncidentStore(Environment.GetEnvironmentVariable("INCIDENTOPS_TEST_PG")!, schema, Path.Combine(dir, "pg-local"))),
};
static bool Health(string n) => (n.Contains("-health-", StringComparison.OrdinalIgnoreCase) || n.StartsWith("health-rounds-", StringComparison.OrdinalIgnoreCase)) && n.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
foreach (var (kind, store) in stores)
{
    var id = (await store.ListAsync(default)).OrderBy(i => i.Id).First().Id;
    var one = new List<double>(); var bulk = new List<double>(); int n1 = 0, n2 = 0; long b1 = 0, b2 = 0;
    for (var round = 0; round < 8; round++)
    {
        var sw = Stopwatch.StartNew();
        var texts = new List<string>();
        foreach (var e in await store.ListEvidenceAsync(id, default))
            if (Health(e.Name) && await store.ReadEvidenceAsync(id, e.Name, default) is { } t) texts.Add(t);
        if (round > 0) one.Add(sw.Elapsed.TotalMilliseconds);
        (n1, b1) = (texts.Count, texts.Sum(t => (long)t.Length));
        sw.Restart();
        var many = await store.ReadEvidenceManyAsync(id, Health, default);
        if (round > 0) bulk.Add(sw.Elapsed.TotalMilliseconds);
        (n2, b2) = (many.Count, many.Sum(t => (long)t.Content.Length));
    }
    static double Median(List<double> v) { var s = v.Order().ToList(); return s[(s.Count - 1) / 2]; }
    Console.WriteLine($"{kind}: list + one read each {Median(one),6:N0} ms ({n1} docs, {b1:N0} chars) | bulk {Median(bulk),5:N0} ms ({n2} docs, {b2:N0} chars)   runs {string.Join(", ", one.Select(x => x.ToString("N0")))} | {string.Join(", ", bulk.Select(x => x.ToString("N0")))}");
}
Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
return 0;
