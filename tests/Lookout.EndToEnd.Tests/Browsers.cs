// Debian's chromium and firefox-esr, started headless as plain processes with fresh profiles.
using System.Diagnostics;

namespace Lookout.EndToEnd.Tests;

public static class Browsers
{
    public const string Chromium = "/usr/bin/chromium";
    public const string Firefox = "/usr/bin/firefox-esr";

    /// <summary>Skips without the browser on a laptop; under CI=true a missing browser fails.</summary>
    public static void Require(string path)
    {
        if (File.Exists(path)) return;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"CI=true but {path} is missing: ./test.sh installs it.");
        Skip.If(true, $"{path} is not installed; ./test.sh installs it.");
    }

    /// <summary>Debian's Chromium under Playwright, headless, without the background traffic that would
    /// slow a test down (updates, sync, QUIC probes): how the dashboard tests drive pages.</summary>
    public static Task<Microsoft.Playwright.IBrowser> LaunchPlaywrightChromiumAsync(Microsoft.Playwright.IPlaywright playwright)
        => playwright.Chromium.LaunchAsync(new Microsoft.Playwright.BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });

    /// <summary>A page in a new context of <paramref name="width"/> × <paramref name="height"/>, with every console
    /// error and uncaught page error collected, so a failing wait can say what the page said.</summary>
    public static async Task<(Microsoft.Playwright.IPage Page, List<string> Errors)> OpenPageAsync(Microsoft.Playwright.IBrowser browser, int width, int height)
    {
        var context = await browser.NewContextAsync(new Microsoft.Playwright.BrowserNewContextOptions
        {
            ViewportSize = new Microsoft.Playwright.ViewportSize { Width = width, Height = height },
        });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, message) => errors.Add("page error: " + message);
        return (page, errors);
    }

    /// <summary>Submits <paramref name="token"/> on the login form a dashboard page redirected to.</summary>
    public static async Task LogInAsync(Microsoft.Playwright.IPage page, string token)
    {
        await page.FillAsync("#token", token);
        await page.ClickAsync("button[type=submit]");
    }

    /// <summary>Waits until <paramref name="selector"/> is in the page; on timeout the exception says
    /// <paramref name="what"/> did not happen, with the page's errors and address.</summary>
    public static async Task WaitForAsync(Microsoft.Playwright.IPage page, string selector, List<string> errors, string what, float timeout = 30_000)
    {
        try
        {
            await page.WaitForSelectorAsync(selector, new Microsoft.Playwright.PageWaitForSelectorOptions
            {
                State = Microsoft.Playwright.WaitForSelectorState.Attached,
                Timeout = timeout,
            });
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{what}. Console: {string.Join(" | ", errors)} Url: {page.Url}");
        }
    }

    /// <summary>A running browser showing <paramref name="url"/>; disposing it ends it and its profile.</summary>
    public sealed class Session : IDisposable
    {
        private readonly Process _process;
        private readonly string _profile;

        internal Session(Process process, string profile)
        {
            _process = process;
            _profile = profile;
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
            }
            _process.Dispose();
            try
            {
                Directory.Delete(_profile, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static readonly string[] TestHosts = ["site.test", "cdn.test", "lookout.test"];

    public static Session StartChromium(string url, TestCertificates certificates)
    {
        var profile = Directory.CreateTempSubdirectory("lookout-chromium-").FullName;
        var rules = string.Join(", ", TestHosts.Select(h => $"MAP {h} 127.0.0.1"));
        var start = new ProcessStartInfo(Chromium,
        [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--short-reporting-delay", $"--user-data-dir={profile}", $"--host-resolver-rules={rules}",
            $"--ignore-certificate-errors-spki-list={certificates.LeafSpkiHash}", url,
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return Run(start, profile);
    }

    public static Session StartFirefox(string url, TestCertificates certificates)
    {
        var profile = Directory.CreateTempSubdirectory("lookout-firefox-").FullName;
        File.WriteAllText(Path.Combine(profile, "user.js"), $$"""
            user_pref("network.dns.localDomains", "{{string.Join(",", TestHosts)}}");
            user_pref("network.trr.mode", 5);
            user_pref("browser.shell.checkDefaultBrowser", false);
            user_pref("datareporting.policy.dataSubmissionEnabled", false);
            user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
            user_pref("app.update.enabled", false);
            user_pref("network.captive-portal-service.enabled", false);
            user_pref("network.connectivity-service.enabled", false);
            user_pref("extensions.update.enabled", false);
            user_pref("browser.safebrowsing.update.enabled", false);
            user_pref("dom.reporting.enabled", true);
            user_pref("dom.reporting.header.enabled", true);
            """);
        // Firefox trusts the test CA through its own certificate database (Debian's libnss3-tools).
        using (var certutil = Process.Start(new ProcessStartInfo("certutil",
            ["-N", "-d", $"sql:{profile}", "--empty-password"]) { RedirectStandardError = true, RedirectStandardOutput = true })!)
        {
            certutil.WaitForExit();
        }
        using (var certutil = Process.Start(new ProcessStartInfo("certutil",
            ["-A", "-n", "lookout-test-ca", "-t", "C,,", "-i", certificates.CaPath, "-d", $"sql:{profile}"]) { RedirectStandardError = true, RedirectStandardOutput = true })!)
        {
            certutil.WaitForExit();
            if (certutil.ExitCode != 0) throw new InvalidOperationException("certutil failed: " + certutil.StandardError.ReadToEnd());
        }
        var start = new ProcessStartInfo(Firefox, ["--headless", "--no-remote", "--new-instance", "--profile", profile, url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["MOZ_HEADLESS"] = "1", ["HOME"] = profile },
        };
        return Run(start, profile);
    }

    private static Session Run(ProcessStartInfo start, string profile)
    {
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new Session(process, profile);
    }
}
