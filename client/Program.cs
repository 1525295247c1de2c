using Farm.Client;

return await FarmCommandLine.Create().Parse(args).InvokeAsync();
