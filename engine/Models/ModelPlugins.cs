using System.Reflection;
using System.Runtime.Loader;

namespace Farm.Engine.Models;

/// <summary>
/// A user's own models for a cluster: an assembly with a public <see cref="IModelPlugin"/> whose
/// <see cref="IModelPlugin.Register"/> calls <see cref="ModelRegistry.Register"/>. A silo loads the assemblies named in
/// Farm:ModelPlugins at start-up, before it accepts work; the submitting client must know the names too (it checks
/// the spec), so `farm` loads the same list from FARM_MODEL_PLUGINS.
/// </summary>
public interface IModelPlugin
{
    void Register();
}

public static class ModelPlugins
{
    /// <summary>Loads each assembly and runs every plugin in it; returns the plugins' type names.</summary>
    /// <exception cref="FarmException">A path that does not exist, an assembly that does not load, or one without plugins.</exception>
    public static IReadOnlyList<string> Load(IEnumerable<string> assemblyPaths, string field = "Farm:ModelPlugins")
    {
        var loaded = new List<string>();
        foreach (var path in assemblyPaths.Where(p => p.Length > 0).Select(Path.GetFullPath))
        {
            if (!File.Exists(path))
            {
                throw new FarmException("model plugin assembly not found", path, field);
            }

            Assembly assembly;
            try
            {
                // Its own dependencies sit beside it.
                var folder = Path.GetDirectoryName(path)!;
                AssemblyLoadContext.Default.Resolving += (context, name) =>
                    File.Exists(Path.Combine(folder, name.Name + ".dll")) ? context.LoadFromAssemblyPath(Path.Combine(folder, name.Name + ".dll")) : null;
                assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
            }
            catch (Exception error) when (error is BadImageFormatException or FileLoadException)
            {
                throw new FarmException($"not a loadable .NET assembly: {error.Message}", path, field);
            }

            var plugins = LoadableTypes(assembly)
                .Where(type => type is { IsAbstract: false, IsInterface: false } && typeof(IModelPlugin).IsAssignableFrom(type)
                               && type.GetConstructor(Type.EmptyTypes) is not null)
                .ToList();
            if (plugins.Count == 0)
            {
                throw new FarmException($"no public {nameof(IModelPlugin)} with a parameterless constructor in it", path, field);
            }

            foreach (var plugin in plugins)
            {
                ((IModelPlugin)Activator.CreateInstance(plugin)!).Register();
                loaded.Add(plugin.FullName!);
            }
        }

        return loaded;
    }

    /// <summary>The types that load; an assembly may hold others whose dependencies are absent (test frameworks).</summary>
    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetExportedTypes();
        }
        catch (ReflectionTypeLoadException error)
        {
            return error.Types.OfType<Type>();
        }
    }
}
