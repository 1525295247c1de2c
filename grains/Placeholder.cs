namespace Farm.Grains;
internal static class Placeholder { }
