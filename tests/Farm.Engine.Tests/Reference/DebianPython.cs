using System.Diagnostics;

namespace Farm.Engine.Tests.Reference;

/// <summary>
/// Runs reference computations in Debian's Python (python3-torch, python3-torchvision, python3-sklearn), which
/// `.ci/run` installs. The python3 first on PATH may be another interpreter without those packages, so the Debian one
/// is used by absolute path (override with FARM_REFERENCE_PYTHON). A missing interpreter fails the test: the
/// reference is the point of these tests.
/// </summary>
public static class DebianPython
{
    public static string Interpreter =>
        Environment.GetEnvironmentVariable("FARM_REFERENCE_PYTHON") is { Length: > 0 } custom ? custom : "/usr/bin/python3";

    /// <summary>Runs a script from the test output's Reference folder with arguments; returns its stdout.</summary>
    public static string RunScript(string scriptName, params string[] args)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Reference", scriptName);
        if (!File.Exists(script))
        {
            throw new FileNotFoundException($"reference script {script} is missing from the test output");
        }

        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // One thread keeps the reference deterministic and leaves the other core to the test host.
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"could not start {Interpreter}; install python3-torch python3-sklearn");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"reference script {scriptName} failed with exit code {process.ExitCode}:\n{stderr.Result}");
        }

        return stdout.Result;
    }
}
