System.Console.WriteLine("farm");
