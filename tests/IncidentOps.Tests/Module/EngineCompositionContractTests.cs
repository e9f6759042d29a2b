using System.Reflection;
using System.Runtime.CompilerServices;
using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using Xunit;

namespace IncidentOps.Tests.Module;

/// <summary>
/// "The engine takes what it needs through its constructors, not the whole engine as a service locator" (issue 14).
/// IncidentOpsEngine is the composition root: its partials build every service and hand each one the services, stores
/// and config accessors it uses. No other engine type may take the engine in a constructor or keep it in a field, and
/// the context an evidence source is given must not reach the engine either.
/// </summary>
public class EngineCompositionContractTests
{
    private static readonly Assembly Engine = typeof(IncidentOpsEngine).Assembly;

    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>True when the type is the engine, or wraps it (Lazy&lt;IncidentOpsEngine&gt;, Func&lt;IncidentOpsEngine&gt;, arrays of it ...).</summary>
    internal static bool Reaches(Type type) =>
        type == typeof(IncidentOpsEngine)
        || (type.HasElementType && Reaches(type.GetElementType()!))
        || (type.IsGenericType && type.GetGenericArguments().Any(Reaches));

    /// <summary>The engine itself, the types nested in it, and code the compiler writes (closures and state machines of a method that news up an engine).</summary>
    private static bool IsCompositionRootOrGenerated(Type t)
    {
        for (var x = t; x is not null; x = x.DeclaringType)
            if (x == typeof(IncidentOpsEngine) || x.IsDefined(typeof(CompilerGeneratedAttribute), false)) return true;
        return false;
    }

    /// <summary>Every engine type that takes the engine in a constructor or keeps it in a field, as "Type(parameter)" / "Type.field".</summary>
    internal static IReadOnlyList<string> ServiceLocatorUses(Assembly engine)
    {
        var offenders = new List<string>();
        foreach (var t in engine.GetTypes().Where(t => !IsCompositionRootOrGenerated(t)))
        {
            foreach (var c in t.GetConstructors(Everything))
                foreach (var p in c.GetParameters().Where(p => Reaches(p.ParameterType)))
                    offenders.Add($"{t.FullName}({p.ParameterType.Name} {p.Name})");
            // A primary constructor's captured parameter is a compiler-named field of the class itself.
            foreach (var f in t.GetFields(Everything).Where(f => Reaches(f.FieldType)))
                offenders.Add($"{t.FullName}.{f.Name}");
        }
        return offenders.Distinct().OrderBy(o => o, StringComparer.Ordinal).ToList();
    }

    /// <summary>Paths from <paramref name="root"/> through public properties and fields (of engine types) to the engine, as "EvidenceContext.Engine".</summary>
    internal static IReadOnlyList<string> PathsToEngine(Type root)
    {
        var found = new List<string>();
        var seen = new HashSet<Type>();
        void Walk(Type type, string path, int depth)
        {
            if (depth > 4 || !seen.Add(type)) return;
            var members = type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).Select(p => (p.Name, Type: p.PropertyType))
                .Concat(type.GetFields(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).Select(f => (f.Name, Type: f.FieldType)));
            foreach (var (name, memberType) in members)
            {
                if (Reaches(memberType)) { found.Add($"{path}.{name}"); continue; }
                // Follow the engine's own types (and the root's): a service handed to a source must not hand the engine on.
                if (memberType.Assembly == Engine || memberType.Assembly == root.Assembly) Walk(memberType, $"{path}.{name}", depth + 1);
            }
        }
        Walk(root, root.Name, 0);
        return found;
    }

    [Fact]
    public void No_engine_service_takes_or_keeps_the_whole_engine()
    {
        var offenders = ServiceLocatorUses(Engine);
        Assert.True(offenders.Count == 0, "These engine types take the whole IncidentOpsEngine (a service locator); give them the services they use by constructor, " +
            "composed in IncidentOpsEngine's partials:\n  " + string.Join("\n  ", offenders));
    }

    [Fact]
    public void The_evidence_context_does_not_reach_the_engine()
    {
        var paths = PathsToEngine(typeof(EvidenceContext));
        Assert.True(paths.Count == 0, "An evidence source can reach the whole engine through its context; hand it the services it reads instead:\n  " + string.Join("\n  ", paths));
    }

    /// <summary>The checks above can fail: they find the engine wherever a type takes or exposes it.</summary>
    [Fact]
    public void The_checks_find_a_service_locator_and_an_exposed_engine()
    {
        Assert.True(Reaches(typeof(Lazy<IncidentOpsEngine>)));
        Assert.True(Reaches(typeof(Func<IncidentOps.Config.IncidentOpsConfig, IncidentOpsEngine>)));
        Assert.False(Reaches(typeof(Func<IncidentOps.Config.IncidentOpsConfig?, IIncidentStore>)));
        Assert.Equal(["Holder.Inner.Engine"], PathsToEngine(typeof(Holder)));
        Assert.Contains(ServiceLocatorUses(typeof(LocatorExample).Assembly), o => o.Contains(nameof(LocatorExample) + "(IncidentOpsEngine engine)", StringComparison.Ordinal));
    }

    public sealed record Holder(Inner Inner);
    public sealed record Inner(IncidentOpsEngine Engine);
    private sealed class LocatorExample(IncidentOpsEngine engine)
    {
        public object Sink => engine.Sink;
    }
}
