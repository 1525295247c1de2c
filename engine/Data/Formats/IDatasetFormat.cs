namespace Farm.Engine.Data.Formats;

/// <summary>
/// One on-disk dataset layout. Loading checks every image header and mask up front and fails with a
/// <see cref="FarmException"/> whose <see cref="FarmException.File"/> is the missing or broken path.
/// </summary>
public interface IDatasetFormat
{
    /// <summary>The name a spec's <c>format</c> uses (lower case).</summary>
    string Name { get; }

    /// <summary>The categories (products) under <paramref name="root"/>, sorted ordinally.</summary>
    IReadOnlyList<string> ListCategories(string root);

    /// <summary>One category's training and test images with their masks.</summary>
    DatasetCategory LoadCategory(string root, string category);
}
