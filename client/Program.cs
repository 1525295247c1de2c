using Farm.Client;

ConsoleSetup.ForRedirectedOutput();
if (!ConsoleSetup.TryLoadModelPlugins())
{
    return CliErrors.BadInput;
}

var parsed = FarmCommandLine.Create().Parse(args);
// A mistyped command line is bad input (exit 2), never the 1 that means "cells failed" or "regressions found".
return parsed.Errors.Count > 0 ? CliErrors.CommandLine(parsed) : await parsed.InvokeAsync();
