// A throwaway CA and a server certificate for site.test, cdn.test, lookout.test and 127.0.0.1.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Lookout.EndToEnd.Tests;

/// <summary>Certificates written as PEM files: Kestrel takes them through its usual settings, Firefox
/// trusts the CA through certutil, Chromium trusts the leaf's public key by its SPKI hash.</summary>
public sealed class TestCertificates : IDisposable
{
    public static readonly string[] Hosts = ["site.test", "cdn.test", "lookout.test", "localhost"];

    private TestCertificates(string folder, X509Certificate2 ca, X509Certificate2 leaf)
    {
        Folder = folder;
        Ca = ca;
        Leaf = leaf;
        CaPath = Path.Combine(folder, "ca.pem");
        LeafPath = Path.Combine(folder, "leaf.pem");
        LeafKeyPath = Path.Combine(folder, "leaf.key");
        File.WriteAllText(CaPath, ca.ExportCertificatePem());
        File.WriteAllText(LeafPath, leaf.ExportCertificatePem());
        File.WriteAllText(LeafKeyPath, leaf.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
    }

    public string Folder { get; }
    public X509Certificate2 Ca { get; }
    public X509Certificate2 Leaf { get; }
    public string CaPath { get; }
    public string LeafPath { get; }
    public string LeafKeyPath { get; }

    /// <summary>Base64 SHA-256 of the leaf's SubjectPublicKeyInfo, for --ignore-certificate-errors-spki-list.</summary>
    public string LeafSpkiHash => Convert.ToBase64String(SHA256.HashData(Leaf.PublicKey.ExportSubjectPublicKeyInfo()));

    public static TestCertificates Create()
    {
        var folder = Directory.CreateTempSubdirectory("lookout-e2e-certs-").FullName;
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Lookout test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=site.test", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in Hosts) names.AddDnsName(host);
        names.AddIpAddress(IPAddress.Loopback);
        leafRequest.CertificateExtensions.Add(names.Build());
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using var issued = leafRequest.Create(ca, now.AddDays(-1), now.AddDays(29), serial);
        var leaf = issued.CopyWithPrivateKey(leafKey);
        return new TestCertificates(folder, ca, leaf);
    }

    public void Dispose()
    {
        Leaf.Dispose();
        Ca.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
