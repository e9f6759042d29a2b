using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace IncidentOps.Tests.Module;

/// <summary>What every exported cmdlet owes its users: export, help, a format view, an example script.</summary>
public class ModuleContractTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static readonly string[] Common =
    [
        "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable", "WarningVariable",
        "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm",
    ];

    private static Assembly ModuleAssembly => Paths.ModuleAssembly;

    private List<string> ExportedCmdlets() =>
        fx.Run("Get-Command -Module IncidentOps -CommandType Cmdlet | ForEach-Object { $_.Name }").AssertNoErrors()
            .Output.Select(o => o.ToString()).OrderBy(n => n).ToList();

    [Fact]
    public void Every_cmdlet_class_is_exported_explicitly_and_nothing_else()
    {
        var classes = ModuleAssembly.GetTypes()
            .Select(t => t.GetCustomAttribute<CmdletAttribute>())
            .Where(a => a is not null)
            .Select(a => $"{a!.VerbName}-{a.NounName}").OrderBy(n => n).ToList();
        Assert.NotEmpty(classes);
        Assert.Equal(classes, ExportedCmdlets());
        var manifest = File.ReadAllText(Path.Combine(Paths.Module, "IncidentOps.psd1"));
        Assert.DoesNotMatch(@"(CmdletsToExport|AliasesToExport)\s*=\s*'\*'", manifest);
        Assert.Matches(@"ModuleVersion\s*=\s*'\d+\.\d+\.\d+'", manifest);
        Assert.Contains("CompatiblePSEditions = @('Core')", manifest);
    }

    [Fact]
    public void Every_exported_cmdlet_is_a_sealed_class_with_an_approved_verb_named_VerbNounCommand()
    {
        var approved = new[] { typeof(VerbsCommon), typeof(VerbsCommunications), typeof(VerbsData), typeof(VerbsDiagnostic), typeof(VerbsLifecycle), typeof(VerbsOther), typeof(VerbsSecurity) }
            .SelectMany(t => t.GetFields()).Select(f => (string)f.GetValue(null)!).ToHashSet();
        foreach (var t in ModuleAssembly.GetTypes().Where(t => t.GetCustomAttribute<CmdletAttribute>() is not null))
        {
            var a = t.GetCustomAttribute<CmdletAttribute>()!;
            Assert.True(t.IsSealed, $"{t.Name} should be sealed");
            Assert.Equal($"{a.VerbName}{a.NounName}Command", t.Name);
            Assert.Contains(a.VerbName, approved);
            Assert.Equal("IncidentOps.Commands", t.Namespace);
        }
    }

    [Fact]
    public void Every_exported_cmdlet_has_synopsis_description_example_and_parameter_help()
    {
        var gaps = new List<string>();
        foreach (var name in ExportedCmdlets())
        {
            var r = fx.Run($"Get-Help {name} -Full");
            var help = r.Output.Single();
            string Prop(string p) => help.Properties[p]?.Value?.ToString() ?? "";
            var synopsis = Prop("Synopsis");
            if (string.IsNullOrWhiteSpace(synopsis) || synopsis.StartsWith(name, StringComparison.Ordinal) || synopsis.Contains('[')) gaps.Add($"{name}: synopsis");
            var description = help.Properties["description"]?.Value as PSObject[] ?? [];
            if (description.Length == 0 || description.All(d => string.IsNullOrWhiteSpace(d.Properties["Text"]?.Value?.ToString()))) gaps.Add($"{name}: description");
            var examples = fx.Run($"@((Get-Help {name} -Full).examples.example).Count").Output.Single();
            if ((int)examples.BaseObject < 1) gaps.Add($"{name}: example");
            var info = fx.Run($"(Get-Command {name}).Parameters.Keys").Output.Select(o => o.ToString()).Where(p => !Common.Contains(p)).ToList();
            foreach (var p in info)
            {
                var text = fx.Run($"(Get-Help {name} -Parameter {p}).description.Text -join ' '").Output.FirstOrDefault()?.ToString();
                if (string.IsNullOrWhiteSpace(text)) gaps.Add($"{name} -{p}: description");
            }
        }
        Assert.True(gaps.Count == 0, "Help gaps: " + string.Join(", ", gaps));
    }

    [Fact]
    public void Every_output_type_has_a_default_view()
    {
        var viewed = Directory.GetFiles(Paths.Module, "*.format.ps1xml")
            .SelectMany(f => XDocument.Load(f).Descendants("TypeName").Select(t => t.Value.Trim())).ToHashSet();
        // One file, listed by the views-only manifest ModuleViews imports on first use; IncidentOps.psd1 binds none at import
        // (issue 12, import speed).
        Assert.Equal(["IncidentOps.format.ps1xml"], Directory.GetFiles(Paths.Module, "*.format.ps1xml").Select(Path.GetFileName));
        Assert.DoesNotMatch(@"(?m)^\s*FormatsToProcess\s*=", File.ReadAllText(Path.Combine(Paths.Module, "IncidentOps.psd1")));
        Assert.Contains("FormatsToProcess  = @('IncidentOps.format.ps1xml')", File.ReadAllText(Path.Combine(Paths.Module, "IncidentOps.Views.psd1")));
        var missing = ModuleAssembly.GetTypes()
            .Where(t => t.GetCustomAttribute<CmdletAttribute>() is not null)
            .SelectMany(t => t.GetCustomAttributes<OutputTypeAttribute>().SelectMany(o => o.Type).Select(pt => (Cmdlet: t.Name, Type: pt.Type)))
            .Where(x => x.Type is not null && !x.Type.IsPrimitive && x.Type != typeof(string) && !viewed.Contains(x.Type.FullName!))
            .Select(x => $"{x.Cmdlet}: {x.Type!.FullName}").Distinct().ToList();
        Assert.True(missing.Count == 0, "No format view for: " + string.Join(", ", missing));
    }

    [Fact]
    public void A_hosted_runspace_gets_the_views_at_its_first_IncidentOps_command_and_loses_them_with_the_module()
    {
        // An automation host (no console, no idle prompt, only the core commands): Import-Module binds no views; the first
        // command imports IncidentOps.Views before it writes, once; Remove-Module IncidentOps removes it, and a new import
        // loads it again.
        using var session = new PwshSession();
        const string state = "'{0} {1}' -f @([runspace]::DefaultRunspace.InitialSessionState.Formats | Where-Object FileName -like '*IncidentOps.format.ps1xml').Count, @(Get-Module IncidentOps.Views).Count";
        var config = Path.Combine(Paths.Examples, "incidentops.yml");
        Assert.Equal("0 0", session.Run(state).AssertNoErrors().Output.Single().ToString());
        var first = session.Run($"Get-IncidentOpsService -Path '{config}'").AssertNoErrors();
        Assert.True(first.Output.Count >= 2, "services written: " + first.Output.Count);
        Assert.Equal("1 1", session.Run(state).AssertNoErrors().Output.Single().ToString());
        Assert.Equal("IncidentOps.format.ps1xml", session.Run("[IO.Path]::GetFileName(@((Get-Module IncidentOps.Views).ExportedFormatFiles)[0])").AssertNoErrors().Output.Single().ToString());
        session.Run($"Get-IncidentOpsService -Path '{config}' | Out-Null").AssertNoErrors();
        Assert.Equal("1 1", session.Run(state).AssertNoErrors().Output.Single().ToString());
        session.Run("Remove-Module IncidentOps").AssertNoErrors();
        Assert.Equal("0 0", session.Run(state).AssertNoErrors().Output.Single().ToString());
        session.Run($"Import-Module '{Paths.Module}'; Get-IncidentOpsService -Path '{config}' | Out-Null").AssertNoErrors();
        Assert.Equal("1 1", session.Run(state).AssertNoErrors().Output.Single().ToString());
    }

    [Fact]
    public void Every_exported_cmdlet_and_alias_appears_in_an_example_script()
    {
        var scripts = string.Join("\n", Directory.GetFiles(Paths.Examples, "*.ps1").Select(File.ReadAllText));
        var aliases = fx.Run("Get-Command -Module IncidentOps -CommandType Alias | ForEach-Object { $_.Name }").Output.Select(o => o.ToString());
        var missing = ExportedCmdlets().Concat(aliases).Where(n => !Regex.IsMatch(scripts, $@"(?<![\w-]){Regex.Escape(n)}(?![\w-])", RegexOptions.IgnoreCase)).ToList();
        Assert.True(missing.Count == 0, "Not used in examples/*.ps1: " + string.Join(", ", missing));
    }

    [Fact]
    public void Models_load_in_the_default_context_and_the_engine_does_not_sit_next_to_the_module()
    {
        Assert.True(File.Exists(Path.Combine(Paths.Module, "IncidentOps.Models.dll")));
        Assert.True(File.Exists(Path.Combine(Paths.Module, "Dependencies", "IncidentOps.Engine.dll")));
        Assert.False(File.Exists(Path.Combine(Paths.Module, "IncidentOps.Engine.dll")));
        foreach (var dep in new[] { "Npgsql.dll", "StackExchange.Redis.dll", "YamlDotNet.dll" })
        {
            Assert.True(File.Exists(Path.Combine(Paths.Module, "Dependencies", dep)), dep);
            Assert.False(File.Exists(Path.Combine(Paths.Module, dep)), dep + " must not sit next to the module");
        }
        Assert.False(File.Exists(Path.Combine(Paths.Module, "System.Management.Automation.dll")));
        Assert.True(File.Exists(Path.Combine(Paths.Module, "en-US", "IncidentOps.dll-Help.xml")));
    }
}
