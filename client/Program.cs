using Farm.Client;

ConsoleSetup.ForRedirectedOutput();
if (!ConsoleSetup.TryLoadModelPlugins())
{
    return CliErrors.BadInput;
}

return await FarmCommandLine.Create().Parse(args).InvokeAsync();
