using Farm.Client;

ConsoleSetup.ForRedirectedOutput();
return await FarmCommandLine.Create().Parse(args).InvokeAsync();
