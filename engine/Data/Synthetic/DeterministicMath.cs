namespace Farm.Engine.Data.Synthetic;

/// <summary>
/// Functions built from +, −, ×, ÷ and sqrt only, which IEEE 754 rounds exactly: unlike Math.Sin, which calls the
/// platform's C library, they give bit-identical results everywhere, so synthetic images are identical on every OS.
/// </summary>
internal static class DeterministicMath
{
    public static double Sin(double radians)
    {
        // Reduce to [−π, π], then to [−π/2, π/2] with sin(π − x) = sin(x); the Taylor series to x¹⁵ is then exact to ~1e-12.
        var x = radians - (2 * Math.PI * Math.Round(radians / (2 * Math.PI)));
        if (x > Math.PI / 2)
        {
            x = Math.PI - x;
        }
        else if (x < -Math.PI / 2)
        {
            x = -Math.PI - x;
        }

        var square = x * x;
        var term = x;
        var sum = x;
        for (var power = 3; power <= 15; power += 2)
        {
            term *= -square / ((power - 1) * power);
            sum += term;
        }
        return sum;
    }

    public static double Cos(double radians) => Sin(radians + (Math.PI / 2));

    public static double DegreesToRadians(double degrees) => degrees * (Math.PI / 180);

    /// <summary>Hermite smoothstep: 0 below <paramref name="edge0"/>, 1 above <paramref name="edge1"/>.</summary>
    public static double SmoothStep(double edge0, double edge1, double value)
    {
        var t = Math.Clamp((value - edge0) / (edge1 - edge0), 0, 1);
        return t * t * (3 - (2 * t));
    }

    /// <summary>Anti-aliased coverage of a shape from its signed distance (negative inside), in units of one pixel.</summary>
    public static double Coverage(double signedDistance, double pixel) => Math.Clamp(0.5 - (signedDistance / pixel), 0, 1);
}
