namespace Farm.GrainInterfaces;
internal static class Placeholder { }
