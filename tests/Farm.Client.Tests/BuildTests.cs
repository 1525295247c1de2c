namespace Farm.Client.Tests;

public class BuildTests
{
    [Fact]
    public void Builds() => Assert.True(typeof(BuildTests).Assembly.GetName().Name!.Length > 0);
}
