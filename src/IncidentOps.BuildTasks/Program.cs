using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

// Usage: --version V --manifest SRC.psd1 --module IncidentOps.dll --docs A.xml [--docs B.xml] [--formats DIR] --out DIR
var opts = new Dictionary<string, List<string>>();
for (var i = 0; i + 1 < args.Length; i += 2)
{
    if (!opts.TryGetValue(args[i], out var l)) opts[args[i]] = l = [];
    l.Add(args[i + 1]);
}
string One(string k) => opts.TryGetValue(k, out var v) ? v[0] : throw new ArgumentException($"missing {k}");
var version = One("--version");
var outDir = One("--out");
var modulePath = Path.GetFullPath(One("--module"));
var moduleDir = Path.GetDirectoryName(modulePath)!;

// 1. Manifest, stamped with the single version.
var manifest = File.ReadAllText(One("--manifest"));
manifest = Regex.Replace(manifest, @"ModuleVersion\s*=\s*'[^']*'", $"ModuleVersion = '{version}'");
var manifestOut = Path.Combine(outDir, "IncidentOps.psd1");
if (!File.Exists(manifestOut) || File.ReadAllText(manifestOut) != manifest) File.WriteAllText(manifestOut, manifest);

// 1b. Views: the per-area files of src/IncidentOps/Formats (one per area, so parallel work on views stays apart) become
// the one IncidentOps.format.ps1xml that ModuleViews loads on first use (the manifest lists no FormatsToProcess: PowerShell
// rebuilds its whole format table for each file a manifest lists, during Import-Module; bench/import/README.md).
if (opts.ContainsKey("--formats"))
{
    var merged = new XElement("Configuration");
    foreach (var file in Directory.GetFiles(One("--formats"), "*.format.ps1xml").OrderBy(f => f, StringComparer.Ordinal))
    {
        var config = XDocument.Load(file).Root ?? throw new InvalidDataException($"{file} is empty");
        foreach (var section in config.Elements())
        {
            var target = merged.Element(section.Name);
            if (target is null) merged.Add(target = new XElement(section.Name));
            target.Add(new XComment($" {Path.GetFileName(file)} "), section.Elements());
        }
    }
    var formatOut = Path.Combine(outDir, "IncidentOps.format.ps1xml");
    var text = new XDocument(new XDeclaration("1.0", "utf-8", null), merged).Declaration + Environment.NewLine + merged.ToString() + Environment.NewLine;
    if (!File.Exists(formatOut) || File.ReadAllText(formatOut) != text) File.WriteAllText(formatOut, text, new UTF8Encoding(false));
    // Per-area copies an earlier build left in the module folder would be views the manifest no longer loads.
    foreach (var stale in Directory.GetFiles(outDir, "IncidentOps.*.format.ps1xml")) File.Delete(stale);
}

AssemblyLoadContext.Default.Resolving += (ctx, name) =>
{
    foreach (var dir in new[] { moduleDir, Path.Combine(outDir, "Dependencies") })
    {
        var p = Path.Combine(dir, name.Name + ".dll");
        if (File.Exists(p)) return ctx.LoadFromAssemblyPath(p);
    }
    return null;
};
var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(modulePath);
var docs = new Dictionary<string, XElement>();
foreach (var docFile in opts["--docs"])
    if (File.Exists(docFile))
        foreach (var m in XDocument.Load(docFile).Descendants("member"))
            docs[m.Attribute("name")!.Value] = m;

XNamespace msh = "http://msh", maml = "http://schemas.microsoft.com/maml/2004/10",
    command = "http://schemas.microsoft.com/maml/dev/command/2004/10", dev = "http://schemas.microsoft.com/maml/dev/2004/10";

var cmdlets = assembly.GetTypes()
    .Where(t => !t.IsAbstract && t.GetCustomAttribute<CmdletAttribute>() is not null)
    .OrderBy(t => t.GetCustomAttribute<CmdletAttribute>()!.NounName).ThenBy(t => t.GetCustomAttribute<CmdletAttribute>()!.VerbName)
    .ToList();
var problems = new List<string>();
var root = new XElement(msh + "helpItems", new XAttribute("schema", "maml"),
    new XAttribute(XNamespace.Xmlns + "maml", maml), new XAttribute(XNamespace.Xmlns + "command", command), new XAttribute(XNamespace.Xmlns + "dev", dev));

foreach (var type in cmdlets)
{
    var ca = type.GetCustomAttribute<CmdletAttribute>()!;
    var name = $"{ca.VerbName}-{ca.NounName}";
    docs.TryGetValue("T:" + type.FullName, out var typeDoc);
    var synopsis = Text(typeDoc?.Element("summary"));
    var description = Paras(typeDoc?.Element("remarks"));
    if (string.IsNullOrWhiteSpace(synopsis)) problems.Add($"{name}: no <summary> (synopsis)");
    if (description.Count == 0) problems.Add($"{name}: no <remarks> (description)");
    var examples = typeDoc?.Elements("example").ToList() ?? [];
    if (examples.Count == 0) problems.Add($"{name}: no <example>");

    var parameters = new List<(PropertyInfo Prop, ParameterAttribute[] Attrs, string Description)>();
    foreach (var prop in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
    {
        var attrs = prop.GetCustomAttributes<ParameterAttribute>().ToArray();
        if (attrs.Length == 0) continue;
        docs.TryGetValue($"P:{prop.DeclaringType!.FullName}.{prop.Name}", out var pdoc);
        var pdesc = Text(pdoc?.Element("summary"));
        if (string.IsNullOrWhiteSpace(pdesc)) problems.Add($"{name} -{prop.Name}: no <summary>");
        parameters.Add((prop, attrs, pdesc));
    }

    XElement ParamElement((PropertyInfo Prop, ParameterAttribute[] Attrs, string Description) p, ParameterAttribute attr, bool inSyntax = false)
    {
        var aliases = p.Prop.GetCustomAttribute<AliasAttribute>()?.AliasNames ?? [];
        var pipeline = attr.ValueFromPipeline || attr.ValueFromPipelineByPropertyName
            ? $"True ({string.Join(", ", new[] { attr.ValueFromPipeline ? "ByValue" : null, attr.ValueFromPipelineByPropertyName ? "ByPropertyName" : null }.Where(x => x is not null))})"
            : "False";
        var isSwitch = p.Prop.PropertyType == typeof(SwitchParameter);
        var e = new XElement(command + "parameter",
            new XAttribute("required", attr.Mandatory ? "true" : "false"),
            new XAttribute("variableLength", p.Prop.PropertyType.IsArray ? "true" : "false"),
            new XAttribute("globbing", p.Prop.GetCustomAttribute<SupportsWildcardsAttribute>() is not null ? "true" : "false"),
            new XAttribute("pipelineInput", pipeline),
            new XAttribute("position", attr.Position == int.MinValue ? "named" : attr.Position.ToString()),
            new XAttribute("aliases", aliases.Count == 0 ? "none" : string.Join(", ", aliases)),
            new XElement(maml + "name", p.Prop.Name),
            new XElement(maml + "description", new XElement(maml + "para", p.Description)));
        // parameterValue holds the type's short name as text: a child element renders as a hashtable in Get-Help.
        // In SYNTAX, a closed set of values renders as {A | B | C}, as PowerShell's own help shows enums and ValidateSet.
        var choices = inSyntax && !isSwitch ? Choices(p.Prop) : [];
        if (choices.Length > 0)
            e.Add(new XElement(command + "parameterValueGroup", choices.Select(c => new XElement(command + "parameterValue",
                new XAttribute("required", "false"), new XAttribute(command + "variableLength", "false"), c))));
        if (!isSwitch) e.Add(new XElement(command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), ShortTypeName(p.Prop.PropertyType)));
        e.Add(new XElement(dev + "type", new XElement(maml + "name", FullTypeName(p.Prop.PropertyType)), new XElement(maml + "uri")));
        e.Add(new XElement(dev + "defaultValue", DefaultValue(type, p.Prop)));
        return e;
    }

    var shouldProcess = ca.SupportsShouldProcess;
    XElement[] ShouldProcessParams() => !shouldProcess ? [] :
    [
        new XElement(command + "parameter", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), new XAttribute("globbing", "false"),
            new XAttribute("pipelineInput", "False"), new XAttribute("position", "named"), new XAttribute("aliases", "wi"),
            new XElement(maml + "name", "WhatIf"),
            new XElement(maml + "description", new XElement(maml + "para", "Shows exactly what would happen (the SQL, command line or request, secrets masked) without changing anything. While an incident is active, the would-be action is recorded on its timeline as what-if.")),
            new XElement(dev + "type", new XElement(maml + "name", "System.Management.Automation.SwitchParameter")), new XElement(dev + "defaultValue", "False")),
        new XElement(command + "parameter", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), new XAttribute("globbing", "false"),
            new XAttribute("pipelineInput", "False"), new XAttribute("position", "named"), new XAttribute("aliases", "cf"),
            new XElement(maml + "name", "Confirm"),
            new XElement(maml + "description", new XElement(maml + "para", $"Prompts for confirmation before the change. This cmdlet's ConfirmImpact is {ca.ConfirmImpact}; -Confirm:$false or -Force (where offered) skips the prompt.")),
            new XElement(dev + "type", new XElement(maml + "name", "System.Management.Automation.SwitchParameter")), new XElement(dev + "defaultValue", "False")),
    ];

    var setNames = parameters.SelectMany(p => p.Attrs.Select(a => a.ParameterSetName)).Where(s => s != ParameterAttribute.AllParameterSets).Distinct().ToList();
    if (setNames.Count == 0) setNames.Add(ParameterAttribute.AllParameterSets);
    // Get-Help lists the default parameter set first, as PowerShell's own help does.
    if (ca.DefaultParameterSetName is { } defaultSet && setNames.Remove(defaultSet)) setNames.Insert(0, defaultSet);
    var syntax = new XElement(command + "syntax");
    foreach (var set in setNames)
    {
        var item = new XElement(command + "syntaxItem", new XElement(maml + "name", name));
        // As Get-Command and PowerShell's own help show it: positional parameters by position, then mandatory ones,
        // then the rest in declaration order.
        var inSet = parameters
            .Select((p, i) => (p, i, attr: p.Attrs.FirstOrDefault(a => a.ParameterSetName == set) ?? p.Attrs.FirstOrDefault(a => a.ParameterSetName == ParameterAttribute.AllParameterSets)))
            .Where(x => x.attr is not null)
            .OrderBy(x => x.attr!.Position == int.MinValue ? 1 : 0).ThenBy(x => x.attr!.Position)
            .ThenBy(x => x.attr!.Mandatory ? 0 : 1).ThenBy(x => x.i);
        foreach (var (p, _, attr) in inSet) item.Add(ParamElement(p, attr!, inSyntax: true));
        item.Add(ShouldProcessParams());
        syntax.Add(item);
    }

    var inputs = InputTypes(parameters.Select(p => (p.Prop, p.Attrs)).ToList(), docs);
    var outputTypes = type.GetCustomAttributes<OutputTypeAttribute>().SelectMany(o => o.Type).Select(t => t.Type ?? null).Where(t => t is not null).Select(t => t!).Distinct().ToList();

    var cmd = new XElement(command + "command",
        new XElement(command + "details",
            new XElement(command + "name", name),
            new XElement(command + "verb", ca.VerbName),
            new XElement(command + "noun", ca.NounName),
            new XElement(maml + "description", new XElement(maml + "para", synopsis))),
        new XElement(maml + "description", description.Select(d => new XElement(maml + "para", d))),
        syntax,
        new XElement(command + "parameters", parameters.Select(p => ParamElement(p, p.Attrs[0])), ShouldProcessParams()),
        new XElement(command + "inputTypes", inputs.Select(i => new XElement(command + "inputType",
            new XElement(dev + "type", new XElement(maml + "name", i.Type)), new XElement(maml + "description", new XElement(maml + "para", i.Description))))),
        new XElement(command + "returnValues", outputTypes.Select(t => new XElement(command + "returnValue",
            new XElement(dev + "type", new XElement(maml + "name", FullTypeName(t))), new XElement(maml + "description", new XElement(maml + "para", TypeSummary(t, docs)))))),
        new XElement(command + "examples", examples.Select((ex, i) => new XElement(command + "example",
            new XElement(maml + "title", $"-------------------------- Example {i + 1} --------------------------"),
            new XElement(dev + "code", Code(ex.Element("code"))),
            // The trailing empty para keeps a blank line between an example's remarks and the next example's title.
            new XElement(dev + "remarks", Paras(ex).Select(d => new XElement(maml + "para", d)), new XElement(maml + "para", ""))))),
        new XElement(command + "relatedLinks"));
    root.Add(cmd);
}

var helpDir = Path.Combine(outDir, "en-US");
Directory.CreateDirectory(helpDir);
var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) };
using (var w = XmlWriter.Create(Path.Combine(helpDir, "IncidentOps.dll-Help.xml"), settings))
    new XDocument(new XDeclaration("1.0", "utf-8", null), root).Save(w);

foreach (var p in problems) Console.WriteLine($"IncidentOps.BuildTasks : warning IO0001: help incomplete: {p}");
Console.WriteLine($"IncidentOps.BuildTasks: manifest {version}, help for {cmdlets.Count} cmdlet(s), {problems.Count} gap(s).");
return 0;

static Type Unwrap(Type t) => Nullable.GetUnderlyingType(t) ?? t;
static string ShortTypeName(Type t) => t.IsArray ? ShortTypeName(t.GetElementType()!) + "[]" : Unwrap(t).Name;
static string FullTypeName(Type t) => t.IsArray ? FullTypeName(t.GetElementType()!) + "[]" : Unwrap(t).FullName ?? Unwrap(t).Name;

// The value a new instance of the cmdlet holds: what the parameter means when it is not given.
static string DefaultValue(Type cmdlet, PropertyInfo prop)
{
    object? value;
    try { value = prop.GetValue(Activator.CreateInstance(cmdlet)); }
    catch (Exception) { return "None"; }
    return value switch
    {
        null => "None",
        SwitchParameter s => s.IsPresent ? "True" : "False",
        bool b => b ? "True" : "False",
        string str => str.Length == 0 ? "None" : str,
        Array a => a.Length == 0 ? "None" : string.Join(", ", a.Cast<object>()),
        TimeSpan ts => ts == TimeSpan.Zero ? "None" : Duration(ts),
        int i when i == int.MaxValue => "All",
        System.Collections.ICollection c when c.Count == 0 => "None",
        // A zero the parameter's own range refuses is "not given", not a value the user could pass.
        IConvertible n when n is not string && IsUnsetNumber(prop, n) => "None",
        Enum en => en.ToString(),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "None",
    };
}

// The values a parameter accepts when they form a closed set: a ValidateSet, or an enum's names. An enum's None
// (the "not given" value) is not something to pass, so it is left out.
static string[] Choices(PropertyInfo prop)
{
    var set = prop.GetCustomAttribute<ValidateSetAttribute>();
    if (set is not null) return set.ValidValues.ToArray();
    var t = prop.PropertyType.IsArray ? prop.PropertyType.GetElementType()! : Unwrap(prop.PropertyType);
    return t.IsEnum && t.GetCustomAttribute<FlagsAttribute>() is null ? Enum.GetNames(t).Where(n => n != "None").ToArray() : [];
}

static bool IsUnsetNumber(PropertyInfo prop, IConvertible n)
{
    if (n is Enum or bool or char) return false;
    double d;
    try { d = n.ToDouble(System.Globalization.CultureInfo.InvariantCulture); } catch (Exception) { return false; }
    var range = prop.GetCustomAttribute<ValidateRangeAttribute>();
    if (d != 0 || range?.MinRange is null) return false;
    try { return Convert.ToDouble(range.MinRange, System.Globalization.CultureInfo.InvariantCulture) > 0; } catch (Exception) { return false; }
}

// A duration as users type it (90s, 10m, 1h30m), the form the duration parameters accept.
static string Duration(TimeSpan ts)
{
    if (ts.Ticks % TimeSpan.TicksPerSecond != 0) return $"{ts.TotalMilliseconds:0.###}ms";
    var sb = new StringBuilder();
    if (ts.Days > 0) sb.Append(ts.Days).Append('d');
    if (ts.Hours > 0) sb.Append(ts.Hours).Append('h');
    if (ts.Minutes > 0) sb.Append(ts.Minutes).Append('m');
    if (ts.Seconds > 0) sb.Append(ts.Seconds).Append('s');
    return sb.ToString();
}

// The summary of a public type from the Models/module doc comments: what an OUTPUTS entry says about it.
static string TypeSummary(Type t, Dictionary<string, XElement> docs)
{
    var e = t.IsArray ? t.GetElementType()! : t;
    if (docs.TryGetValue("T:" + e.FullName, out var d)) return Text(d.Element("summary"));
    return e == typeof(bool) ? "With -Quiet: one True or False in place of the result objects." : "";
}

// INPUTS as PowerShell's own help writes them: each type that binds by value, then, for parameters that bind by
// property name, the objects carrying those properties (the output of a Get- cmdlet piped into a change).
static List<(string Type, string Description)> InputTypes(List<(PropertyInfo Prop, ParameterAttribute[] Attrs)> parameters, Dictionary<string, XElement> docs)
{
    var list = new List<(string, string)>();
    foreach (var g in parameters.Where(p => p.Attrs.Any(a => a.ValueFromPipeline))
                 .GroupBy(p => p.Prop.PropertyType.IsArray ? p.Prop.PropertyType.GetElementType()! : Unwrap(p.Prop.PropertyType)))
        list.Add((g.Key.FullName ?? g.Key.Name, $"You can pipe {(g.Key == typeof(object) || g.Key == typeof(PSObject) ? "objects" : g.Key.Name + " values")} to -{string.Join(", -", g.Select(p => p.Prop.Name))}."));
    var byName = parameters.Where(p => p.Attrs.Any(a => a.ValueFromPipelineByPropertyName)).Select(p => p.Prop.Name).ToList();
    if (byName.Count > 0)
        list.Add(("System.Management.Automation.PSObject",
            $"Objects with {(byName.Count == 1 ? "a property" : "properties")} named {Join(byName)} bind to the parameter{(byName.Count == 1 ? "" : "s")} of the same name (for example the output of this module's Get- cmdlets)."));
    if (list.Count == 0) list.Add(("None", "This cmdlet takes no pipeline input."));
    return list;
}

static string Join(List<string> names) => names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];

static string Text(XElement? e)
{
    if (e is null) return string.Empty;
    var sb = new StringBuilder();
    foreach (var node in e.Nodes())
    {
        switch (node)
        {
            case XText t: sb.Append(t.Value); break;
            case XElement el when el.Name == "see" || el.Name == "seealso":
                var cref = el.Attribute("cref")?.Value ?? el.Attribute("langword")?.Value ?? "";
                sb.Append(el.Value.Length > 0 ? el.Value : cref[(cref.LastIndexOf('.') + 1)..]);
                break;
            case XElement el when el.Name == "paramref" || el.Name == "typeparamref": sb.Append(el.Attribute("name")?.Value); break;
            case XElement el: sb.Append(' ').Append(Text(el)).Append(' '); break;
        }
    }
    return Regex.Replace(sb.ToString(), @"\s+", " ").Trim();
}

static List<string> Paras(XElement? e)
{
    if (e is null) return [];
    var paras = e.Elements("para").Select(Text).Where(s => s.Length > 0).ToList();
    if (paras.Count > 0) return paras;
    var t = Text(new XElement("x", e.Nodes().Where(n => n is not XElement { Name.LocalName: "code" })));
    return t.Length > 0 ? [t] : [];
}

static string Code(XElement? e)
{
    if (e is null) return string.Empty;
    var lines = e.Value.Replace("\r", "").Split('\n').ToList();
    while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[0])) lines.RemoveAt(0);
    while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[^1])) lines.RemoveAt(lines.Count - 1);
    var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
    return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
}
