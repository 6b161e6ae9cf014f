// ASP.NET Core's data-protection keys, kept in Lookout's database next to the data.
using System.Xml.Linq;
using Lookout.Silo.Storage;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Lookout.Api.Access;

/// <summary>An <see cref="IXmlRepository"/> over <see cref="IKeyStore"/>: session cookies stay valid
/// across restarts and on every silo of a cluster, with no key folder to share between machines.</summary>
internal sealed class DatabaseXmlRepository(IKeyStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => [.. store.GetKeys().Select(xml => XElement.Parse(xml))];

    public void StoreElement(XElement element, string friendlyName)
        => store.StoreKey(string.IsNullOrEmpty(friendlyName) ? Guid.NewGuid().ToString("D") : friendlyName, element.ToString(SaveOptions.DisableFormatting));
}
